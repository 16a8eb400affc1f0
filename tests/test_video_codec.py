"""The video-chunk frame codec (``goalframe.video``): round trips, plain zarr, verify, crash
safety, distributed ingest and the torch datasets on h264 / AV1 datasets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest
import torch
import zarr
from dataset_compare import assert_same_dataset, check, goalframe
from test_crash import _episode_dirs, _live_members, mid_later_episode
from test_pairs import write_truth_tracks
from test_verify import chunk_offset, flip

from goalframe.annotators import extract_events
from goalframe.media.images import resize_frame
from goalframe.media.video import iter_frames
from goalframe.sampling import CrossViewDataset, MSTHDataset, MSTHSpec, build_msth, build_pairs
from goalframe.schemas.layout import DatasetError
from goalframe.sim.agibot.synth import synthesize_agibot
from goalframe.sim.vpt.synth import synthesize_vpt
from goalframe.sources.registry import get_format
from goalframe.storage import ingest, open_dataset
from goalframe.storage.frames import FrameReader
from goalframe.storage.layout import frame_array_options
from goalframe.storage.verify import verify_dataset
from goalframe.storage.video_codec import CODEC_NAME, VideoCodec

PSNR_FLOOR = 30.0  # dB against the decoded raw frames at the default crf
ROOT = Path(__file__).resolve().parents[1]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / max(mse, 1e-12)))


@pytest.fixture(scope="module")
def vpt_raw(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("video-raw") / "raw"
    synthesize_vpt(out, episodes=3, seed=5, frames=80, quirk_rate=0.0)
    return out


@pytest.fixture(scope="module")
def raw_frames(vpt_raw) -> np.ndarray:
    mp4 = sorted(vpt_raw.rglob("*.mp4"))[0]
    return np.stack(list(iter_frames(mp4, limit=37)))


@pytest.fixture(scope="module")
def h264_dataset(vpt_raw, tmp_path_factory) -> str:
    out = str(tmp_path_factory.mktemp("video-h264") / "h264.zarr")
    check(
        goalframe(
            "ingest",
            "vpt",
            str(vpt_raw),
            "--out",
            out,
            "--workers",
            "1",
            "--codec",
            "h264",
            "--chunk-frames",
            "16",
        )
    )
    return out


@pytest.mark.parametrize("bitstream", ["h264", "av1"])
def test_round_trip_keeps_shape_and_quality_and_the_edge_chunk(raw_frames, bitstream):
    # 37 frames in chunks of 8: four whole chunks and an edge chunk of 5 real frames
    store = zarr.storage.MemoryStore()
    height, width = raw_frames.shape[1:3]
    options = frame_array_options(bitstream, height, width, chunk_frames=8)
    assert options["shards"][0] % 8 == 0 and options["shards"][0] >= 64
    array = zarr.create_array(store, shape=raw_frames.shape, **options)
    array[:] = raw_frames
    back = zarr.open_array(store, mode="r")[:]
    assert back.shape == raw_frames.shape and back.dtype == np.uint8
    assert psnr(back, raw_frames) > PSNR_FLOOR
    assert psnr(back[32:], raw_frames[32:]) > PSNR_FLOOR  # the edge chunk
    # one chunk on its own: exactly k frames, odd sizes too
    codec = VideoCodec(bitstream=bitstream)
    odd = raw_frames[:5, :99, :201]
    assert codec.decode_frames(codec.encode_frames(odd), odd.shape).shape == odd.shape


def test_configuration_is_in_the_metadata_and_the_attrs(h264_dataset):
    ds = open_dataset(h264_dataset)
    episode = ds.episodes[0]
    meta = zarr.open_array(f"{h264_dataset}/episodes/{episode}/frames/pov", mode="r").metadata.to_dict()
    inner = meta["codecs"][0]["configuration"]["codecs"]
    assert inner[0] == {
        "name": CODEC_NAME,
        "configuration": {"bitstream": "h264", "crf": 23, "preset": "veryfast", "gop": 4},
    }
    assert inner[1]["name"] == "crc32c"  # after the stream: a flipped byte fails before decoding
    attrs = ds.array_attrs(episode, "frames/pov")
    assert {k: attrs[k] for k in ("codec", "chunk_frames", "crf", "gop")} == {
        "codec": "h264",
        "chunk_frames": 16,
        "crf": 23,
        "gop": 4,  # the default: a keyframe every 4 frames
    }
    assert open_dataset(h264_dataset).info.steps[0].params["chunk_frames"] == 16


def test_bad_codec_options_are_one_line_errors(vpt_raw, tmp_path):
    out = str(tmp_path / "bad.zarr")
    result = goalframe("ingest", "vpt", str(vpt_raw), "--out", out, "--codec", "h264", "--crf", "99")
    assert result.returncode != 0 and "crf must be 0..51" in result.stderr
    result = goalframe("ingest", "vpt", str(vpt_raw), "--out", out, "--codec", "jpeg", "--crf", "20")
    assert result.returncode != 0 and "apply to the video codecs" in result.stderr
    result = goalframe("ingest", "vpt", str(vpt_raw), "--out", out, "--codec", "jpeg", "--gop", "4")
    assert result.returncode != 0 and "apply to the video codecs" in result.stderr
    result = goalframe(
        "ingest", "vpt", str(vpt_raw), "--out", out, "--codec", "h264", "--chunk-frames", "8", "--gop", "9"
    )
    assert result.returncode != 0 and "gop must be 0..8" in result.stderr


def test_plain_zarr_decodes_without_goalframes_reader(h264_dataset, vpt_raw):
    ds = open_dataset(h264_dataset)
    episode = ds.episodes[0]
    array = zarr.open_array(f"{h264_dataset}/episodes/{episode}/frames/pov", mode="r")
    frames = array[:]
    np.testing.assert_array_equal(frames, ds.read_frames(episode, 0, ds.length(episode)))
    raw = np.stack(list(iter_frames(f"{ds.meta(episode).raw_path}.mp4", limit=len(frames))))
    assert psnr(frames, raw) > PSNR_FLOOR
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["zarr.codecs"][
        CODEC_NAME
    ]
    if CODEC_NAME not in {e.name for e in entry_points(group="zarr.codecs")}:
        pytest.skip("the installed goalframe predates the goalframe.video entry point (reinstall it)")
    # a fresh interpreter that imports only zarr: the codec comes from the entry point
    code = (
        f"import zarr; print(zarr.open_array({h264_dataset!r} + '/episodes/{episode}/frames/pov',"
        " mode='r')[:].shape)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert result.returncode == 0 and str(frames.shape) in result.stdout, result.stderr


def test_verify_names_the_frames_of_a_flipped_byte(h264_dataset, tmp_path):
    copy = tmp_path / "copy.zarr"
    subprocess.run(["cp", "-r", h264_dataset, str(copy)], check=True)
    episode = open_dataset(copy).episodes[0]
    shard = copy / "episodes" / episode / "frames" / "pov" / "c" / "0" / "0" / "0" / "0"
    flip(shard, chunk_offset(shard, 1, n_chunks=4))  # chunk 1 of 16 frames: frames 16-31
    report = verify_dataset(str(copy))
    assert not report.ok
    (damage,) = report.damage
    assert (damage.kind, damage.episode, damage.array, damage.where) == (
        "chunk",
        episode,
        "frames/pov",
        "frames 16-31",
    ), damage.line()
    result = goalframe("verify", str(copy))
    assert result.returncode == 1 and "frames 16-31" in result.stderr


def _ingest_command(raw: Path, out: Path, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "goalframe.toolkit.cli",
        "ingest",
        "vpt",
        str(raw),
        "--out",
        str(out),
        "--workers",
        str(workers),
        "--codec",
        "h264",
        "--chunk-frames",
        "16",
    ]


@pytest.mark.timeout(300)
def test_a_killed_h264_ingest_resumes_to_the_uninterrupted_result(vpt_raw, h264_dataset, tmp_path):
    out = tmp_path / "killed.zarr"
    process = subprocess.Popen(
        _ingest_command(vpt_raw, out, 1),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    started, killed = time.monotonic(), False
    try:
        while process.poll() is None and time.monotonic() - started < 120:
            if mid_later_episode(out, started):
                os.kill(process.pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.01)
        process.wait(timeout=30)
    finally:
        for pid in _live_members(process.pid):  # only ever our own ingest's processes
            os.kill(pid, signal.SIGKILL)
    assert killed, "the ingest finished before its kill point"
    assert any(not done for done in _episode_dirs(out).values()), "a partial episode is left behind"
    check(subprocess.run(_ingest_command(vpt_raw, out, 1), capture_output=True, text=True, timeout=300))
    assert_same_dataset(h264_dataset, str(out))
    report = verify_dataset(str(out))
    assert report.ok, [d.line() for d in report.damage]


@pytest.mark.timeout(300)
def test_a_distributed_ingest_equals_the_serial_one(vpt_raw, h264_dataset, tmp_path):
    distributed = pytest.importorskip("distributed")
    remote = str(tmp_path / "cluster.zarr")
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=40
    ) as cluster:
        command = [
            "ingest",
            "vpt",
            str(vpt_raw),
            "--out",
            remote,
            "--scheduler",
            cluster.scheduler_address,
            "--codec",
            "h264",
            "--chunk-frames",
            "16",
        ]
        assert "3 written" in check(goalframe(*command)).stdout
        assert "ingest_episode" in set(cluster.scheduler.task_prefixes)
    assert_same_dataset(h264_dataset, remote)


def _sampling_dataset(base: Path, fmt: str, codec: str) -> str:
    raw = base / "raw"
    if fmt == "vpt":
        synthesize_vpt(raw, episodes=1, seed=0, frames=120)
    else:
        synthesize_agibot(raw, episodes=1, seed=0, frames_per_object=40, n_objects=1)
    source = get_format(fmt)
    dataset = str(base / f"{fmt}.zarr")
    report = ingest(
        dataset, source.discover(raw), source.read, fmt, codec=codec, codec_options={"chunk_frames": 8}
    )
    assert not report.failed, report.summary()
    extract_events(dataset)
    assert write_truth_tracks(dataset, raw, fmt) > 0
    return dataset


def _expected(ds, episode: str, camera: str, frames, size: int) -> np.ndarray:
    return np.stack(
        [resize_frame(ds.read_frames(episode, int(f), int(f) + 1, camera)[0], size) for f in frames]
    )


@pytest.mark.timeout(300)
def test_window_and_msth_datasets_load_from_video_datasets(tmp_path):
    size = 64
    vpt = _sampling_dataset(tmp_path / "vpt", "vpt", "h264")
    build_pairs(vpt, seed=0)
    windows = CrossViewDataset(vpt, split="all", window=8, size=size, reduced_decode=False)
    ds = open_dataset(vpt)
    assert FrameReader(ds, size)._source(ds.episodes[0], "pov")[1] is not None  # the direct video path
    sample = windows[0]
    episode = ds.table("pairs")["episode_id"][0]
    np.testing.assert_array_equal(
        sample["frames"].numpy(), _expected(ds, episode, "pov", sample["frame_index"].numpy(), size)
    )
    # forked workers open their own decoders: the same samples as in this process
    batch = next(iter(torch.utils.data.DataLoader(windows, batch_size=2, num_workers=2)))
    np.testing.assert_array_equal(batch["frames"][0].numpy(), sample["frames"].numpy())
    np.testing.assert_array_equal(batch["frames"][1].numpy(), windows[1]["frames"].numpy())

    agibot = _sampling_dataset(tmp_path / "agibot", "agibot", "av1")
    build_msth(agibot, MSTHSpec(horizon=12, near=6, stride=2, distal=3))
    msth = MSTHDataset(agibot, split="all", cameras=["head_color"], size=size, reduced_decode=False)
    sample = msth[len(msth) // 2]
    ds = open_dataset(agibot)
    row = ds.table("msth").row(len(msth) // 2, named=True)
    got = sample["distal_frames"][:, 0].numpy()
    np.testing.assert_array_equal(
        got, _expected(ds, row["episode_id"], "head_color", sample["distal_index"].numpy(), size)
    )


def test_keyframed_av1_chunks_verify_and_refuse_a_flipped_byte(vpt_raw, tmp_path):
    """AV1 chunks of 8 frames with a keyframe every 4 (``--gop 4``): verify decodes every chunk
    (each with its CRC32C), the direct reader's sparse reads equal zarr's frames, and a flipped
    byte in one chunk is named by verify and refused by the reader in one line while the other
    chunks still read."""
    out = tmp_path / "av1.zarr"
    command = ["ingest", "vpt", str(vpt_raw), "--out", str(out), "--workers", "1", "--codec", "av1"]
    check(goalframe(*command, "--chunk-frames", "8", "--crf", "30", "--gop", "4"))
    assert open_dataset(out).info.steps[0].params["gop"] == 4
    assert verify_dataset(str(out)).ok
    ds = open_dataset(out)
    episode = ds.episodes[0]
    assert ds.array_attrs(episode, "frames/pov")["gop"] == 4
    size = 48
    wanted = np.array([3, 5, 17, 18, 30])  # before and after a keyframe inside a chunk
    reader = FrameReader(ds, size, reduced_decode=False, cache_bytes=0)
    np.testing.assert_array_equal(
        reader.read(episode, "pov", wanted), _expected(ds, episode, "pov", wanted, size)
    )
    shard = out / "episodes" / episode / "frames" / "pov" / "c" / "0" / "0" / "0" / "0"
    flip(shard, chunk_offset(shard, 2, n_chunks=8))  # frames 16-23
    (damage,) = verify_dataset(str(out)).damage
    assert (damage.kind, damage.array, damage.where) == ("chunk", "frames/pov", "frames 16-23"), damage.line()
    damaged = FrameReader(open_dataset(out), size, reduced_decode=False, cache_bytes=0)
    with pytest.raises(DatasetError, match="frame 17 fails its checksum") as error:
        damaged.read(episode, "pov", np.array([17]))
    assert "\n" not in str(error.value) and "frames/pov" in str(error.value)
    np.testing.assert_array_equal(
        damaged.read(episode, "pov", np.array([3, 30])), reader.read(episode, "pov", np.array([3, 30]))
    )
