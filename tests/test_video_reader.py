"""The frame reader on video-chunk datasets: the same frames as zarr's decode, each chunk decoded
once per read and only up to the wanted frame (from the keyframe before it), decoders kept
open, decoded frames cached within a byte bound, a damaged chunk named in one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from test_verify import chunk_offset, flip

from goalframe.media.images import resize_frame
from goalframe.schemas.layout import DatasetError
from goalframe.sim.vpt.synth import synthesize_vpt
from goalframe.sources.registry import get_format
from goalframe.storage import ingest, open_dataset
from goalframe.storage.frames import FrameReader
from goalframe.storage.video_decode import thread_decoder

SIZE = 48
FRAMES = 70  # chunks of 16: four whole ones and an edge chunk of 6 frames
LAYOUTS = [("h264", 0), ("av1", 0), ("h264", 4), ("av1", 4)]  # (bitstream, keyframe every n; 0: chunk)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> dict[tuple[str, int], str]:
    base = tmp_path_factory.mktemp("video-reader")
    synthesize_vpt(base / "raw", episodes=1, seed=3, frames=FRAMES, quirk_rate=0.0)
    source = get_format("vpt")
    built = {}
    for bitstream, gop in LAYOUTS:
        out = str(base / f"{bitstream}-g{gop}.zarr")
        options = {"chunk_frames": 16, "gop": gop}
        report = ingest(
            out, source.discover(base / "raw"), source.read, "vpt", codec=bitstream, codec_options=options
        )
        assert not report.failed, report.summary()
        built[bitstream, gop] = out
    return built


def _zarr_frames(ds, frames) -> np.ndarray:
    episode = ds.episodes[0]
    every = ds.read_frames(episode, 0, ds.length(episode))  # through zarr and the registered codec
    return np.stack([resize_frame(every[int(f)], SIZE) for f in frames])


def _decoded_by(bitstream: str, reader: FrameReader, frames) -> int:
    """Frames the (main thread's) decoder output for one read."""
    decoder = thread_decoder(bitstream)
    before = decoder.frames_decoded
    reader.read(reader.ds.episodes[0], "pov", np.asarray(frames))
    return decoder.frames_decoded - before


@pytest.mark.parametrize(("bitstream", "gop"), LAYOUTS)
def test_sparse_reads_give_zarrs_frames_from_the_direct_path(datasets, bitstream, gop):
    ds = open_dataset(datasets[bitstream, gop])
    rng = np.random.default_rng(0)
    wanted = [rng.integers(0, FRAMES, size=n) for n in (1, 7, 25)] + [np.array([69, 3, 3, 64, 15, 16])]
    for threads in (1, 2):
        reader = FrameReader(ds, SIZE, threads=threads)
        assert reader._source(ds.episodes[0], "pov")[1] is not None  # not through zarr
        for frames in wanted:
            np.testing.assert_array_equal(
                reader.read(ds.episodes[0], "pov", frames), _zarr_frames(ds, frames)
            )


@pytest.mark.parametrize(("bitstream", "gop"), LAYOUTS)
def test_a_read_decodes_only_up_to_the_wanted_frame_from_the_keyframe_before_it(datasets, bitstream, gop):
    ds = open_dataset(datasets[bitstream, gop])
    reader = FrameReader(ds, SIZE, cache_bytes=0)  # every read decodes
    keyframe = gop or 16
    assert _decoded_by(bitstream, reader, [2]) == 3  # frames 0, 1, 2 of the first chunk
    assert _decoded_by(bitstream, reader, [16 + 13]) == 13 % keyframe + 1
    assert _decoded_by(bitstream, reader, [16 + 1, 16 + 13]) == (14 if gop == 0 else 2 + 13 % keyframe + 1)
    assert _decoded_by(bitstream, reader, [68]) == 68 % 16 % keyframe + 1  # in the edge chunk


@pytest.mark.parametrize("bitstream", ["h264", "av1"])
def test_a_window_decodes_each_chunk_once_with_one_open_decoder(datasets, bitstream):
    ds = open_dataset(datasets[bitstream, 0])
    reader = FrameReader(ds, SIZE, cache_bytes=0)
    _decoded_by(bitstream, reader, [0])
    context = thread_decoder(bitstream)._context
    assert _decoded_by(bitstream, reader, np.arange(5, 53)) == 53  # chunks 0-3, each from its keyframe
    assert thread_decoder(bitstream)._context is context  # kept open across chunks


def test_decoded_frames_are_cached_and_the_cache_stays_within_its_bound(datasets):
    ds = open_dataset(datasets["h264", 0])
    frame_bytes = 3 * SIZE * SIZE
    reader = FrameReader(ds, SIZE, cache_bytes=4 * frame_bytes)
    assert _decoded_by("h264", reader, [5, 40]) == 6 + 9
    assert _decoded_by("h264", reader, [40, 5]) == 0  # both cached
    assert _decoded_by("h264", reader, [6]) == 7  # not cached: decoded again up to it
    for frame in (20, 50, 66, 1):  # one frame of each other chunk: the oldest go
        reader.read(ds.episodes[0], "pov", np.array([frame]))
    assert reader._decoded.bytes <= 4 * frame_bytes
    assert _decoded_by("h264", reader, [1]) == 0 and _decoded_by("h264", reader, [40]) == 9


def test_a_flipped_byte_in_a_video_chunk_fails_the_read_in_one_line(datasets, tmp_path):
    copy = tmp_path / "copy.zarr"
    shutil.copytree(datasets["av1", 0], copy)
    ds = open_dataset(copy)
    shard = Path(copy, "episodes", ds.episodes[0], "frames", "pov", "c", "0", "0", "0", "0")
    flip(shard, chunk_offset(shard, 1, n_chunks=4))  # chunk 1: frames 16-31
    reader = FrameReader(ds, SIZE)
    np.testing.assert_array_equal(
        reader.read(ds.episodes[0], "pov", [3]), _zarr_frames(open_dataset(datasets["av1", 0]), [3])
    )  # the other chunks still read
    with pytest.raises(DatasetError) as error:
        reader.read(ds.episodes[0], "pov", [20])
    message = str(error.value)
    assert "\n" not in message and "frame 20" in message and "checksum" in message and "frames/pov" in message
