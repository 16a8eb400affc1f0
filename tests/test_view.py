"""``goalframe view``: Rerun recordings read back with rerun's own reader, overlay videos decoded
with PyAV, both compared with what the dataset holds; bad input in one line.

Datasets: a generated VPT episode (260 frames: use, craft, a pig killed and its porkchop
picked up) with the generator's truth mask tracks, and a generated AgiBot episode (one
pick-and-place, three cameras with per-frame poses) with classical mask tracks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import rerun as rr
from rerun.chunk import RrdReader
from typer.testing import CliRunner

from goalframe import pipeline
from goalframe.annotators.masks import MaskOptions
from goalframe.pipeline.chain import build
from goalframe.pipeline.prepare import prepare_vpt
from goalframe.sim.agibot.synth import synthesize_agibot
from goalframe.storage import open_dataset
from goalframe.toolkit.cli import app
from goalframe.viewing.overlay_draw import contrasting_color
from goalframe.viewing.overlay_video import TOP_BAND

runner = CliRunner()


def goalframe(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "goalframe.toolkit.cli", *args], capture_output=True, text=True
    )


class Recording:
    """The chunks of an .rrd file by entity, read with rerun's RrdReader."""

    def __init__(self, path: Path):
        self.temporal, self.static = defaultdict(list), defaultdict(list)
        for chunk in RrdReader(path).stream():
            (self.static if chunk.is_static else self.temporal)[chunk.entity_path].append(
                chunk.to_record_batch()
            )

    def rows(self, entity: str, component: str) -> list[tuple[int, object]]:
        """(frame, arrow value) of every row of ``entity`` holding ``component``, by frame."""
        found = []
        for batch in self.temporal[entity]:
            if component in batch.schema.names:
                values = batch.column(component)
                found += [
                    (f, values[i])
                    for i, f in enumerate(batch.column("frame").to_pylist())
                    if values[i].is_valid
                ]
        return sorted(found, key=lambda row: row[0])

    def times(self, entity: str) -> dict[int, float]:
        """frame -> seconds on the ``time`` timeline."""
        found = {}
        for batch in self.temporal[entity]:
            for frame, duration in zip(
                batch.column("frame").to_pylist(), batch.column("time").cast("int64").to_pylist()
            ):
                found[frame] = duration / 1e9
        return found

    def static_value(self, entity: str, component: str):
        values = [b.column(component)[0] for b in self.static[entity] if component in b.schema.names]
        assert values, f"{entity} has no static {component}"
        return values[-1]


def blob(value) -> np.ndarray:
    """The one uint8 buffer of a ``list<list<uint8>>`` cell."""
    return value.values[0].values.to_numpy(zero_copy_only=False)


def numbers(value) -> np.ndarray:
    return np.asarray(value.as_py(), np.float64)


def entity(episode: str, *parts: str) -> str:
    return "/" + "/".join([rr.escape_entity_path_part(episode), *parts])


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def decode_mp4(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def label_image(ds, episode: str, camera: str, frame: int) -> np.ndarray:
    """Class ids as the recording should hold them: the k-th track of the camera (by id) is k,
    visible masks only, a later track winning where masks overlap."""
    meta = ds.meta(episode)
    tracks = ds.table("tracks").filter((ds.table("tracks")["episode_id"] == episode))
    ids = sorted(t for t, c in zip(tracks["track_id"], tracks["camera"]) if c == camera)
    labels = np.zeros((meta.height, meta.width), np.uint8)
    for label, track_id in enumerate(ids, start=1):
        track = ds.read_track(episode, track_id)
        if frame in track.frame_index.tolist():
            row = track.row(frame)
            if track.visible[row]:
                labels[track.mask[row]] = label
    return labels


def largest_mask(ds, episode: str, camera: str) -> tuple[str, int, np.ndarray]:
    """(track id, frame, mask) of the largest visible mask of any track of the camera."""
    best = None
    for _, track_id in ds.track_ids(episode):
        track = ds.read_track(episode, track_id)
        if track.meta.camera != camera:
            continue
        for row in np.flatnonzero(track.visible):
            area = int(track.mask[row].sum())
            if best is None or area > best[0]:
                best = (area, track_id, int(track.frame_index[row]), track.mask[row])
    assert best is not None, f"no visible mask on {camera}"
    return best[1:]


@pytest.fixture(scope="module")
def vpt(tmp_path_factory) -> str:
    return prepare_vpt(tmp_path_factory.mktemp("view-vpt"), episodes=1, frames=260, window=32).dataset


@pytest.fixture(scope="module")
def agibot(tmp_path_factory) -> str:
    base = tmp_path_factory.mktemp("view-agibot")
    synthesize_agibot(base / "raw", episodes=1, seed=1, frames_per_object=40, n_objects=1)
    steps = ["ingest", "events", pipeline.Masks(MaskOptions(window=16))]
    build(base / "raw", str(base / "agibot.zarr"), "agibot", steps, workers=1)
    return str(base / "agibot.zarr")


@pytest.fixture(scope="module")
def vpt_views(vpt, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("view-vpt-out")
    result = goalframe("view", vpt, "--out", str(out / "vpt.rrd"), "--mp4", str(out / "vpt.mp4"), "--json")
    assert result.returncode == 0, result.stderr
    return {"summary": json.loads(result.stdout), "rrd": out / "vpt.rrd", "mp4": out / "vpt.mp4"}


@pytest.fixture(scope="module")
def agibot_views(agibot, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("view-agibot-out")
    result = goalframe("view", agibot, "--out", str(out / "a.rrd"), "--mp4", str(out / "a.mp4"), "--json")
    assert result.returncode == 0, result.stderr
    return {"summary": json.loads(result.stdout), "rrd": out / "a.rrd", "mp4": out / "a.mp4"}


def test_vpt_recording_holds_every_frame_event_and_action(vpt, vpt_views):
    ds = open_dataset(vpt)
    episode = ds.episodes[0]
    n, fps = ds.length(episode), ds.meta(episode).fps
    recording = Recording(vpt_views["rrd"])
    images = recording.rows(entity(episode, "pov", "image"), "EncodedImage:blob")
    assert [frame for frame, _ in images] == list(range(n))
    stored = ds.read_frames(episode, 0, n)
    for frame in (0, n // 2, n - 1):  # JPEGs of the stored frames
        decoded = cv2.imdecode(blob(images[frame][1]), cv2.IMREAD_COLOR)[:, :, ::-1]
        assert decoded.shape == stored[frame].shape and psnr(decoded, stored[frame]) > 30
    times = recording.times(entity(episode, "pov", "image"))
    assert times[n - 1] == pytest.approx((n - 1) / fps)

    events = ds.table("events").sort("frame")
    logged = recording.rows(entity(episode, "events"), "TextLog:text")
    assert [frame for frame, _ in logged] == events["frame"].to_list()
    assert all(name in text.values[0].as_py() for (_, text), name in zip(logged, events["name"]))

    buttons = recording.rows(entity(episode, "actions", "vpt", "buttons"), "Scalars:scalars")
    assert len(buttons) == n
    np.testing.assert_array_equal(
        np.stack([numbers(v) for _, v in buttons]), ds.array(episode, "actions/vpt/buttons")
    )
    names = recording.static_value(entity(episode, "actions", "vpt", "buttons"), "SeriesLines:names")
    assert names.as_py() == ds.info.features["actions/vpt/buttons"].names  # named from the feature schema
    yaw = recording.rows(entity(episode, "states", "yaw"), "Scalars:scalars")
    np.testing.assert_allclose([numbers(v)[0] for _, v in yaw], ds.array(episode, "states/yaw"))
    summary = vpt_views["summary"]["rerun"]
    assert summary["frames"] == n and summary["events"] == events.height


def test_vpt_segmentation_ids_match_the_stored_masks(vpt, vpt_views):
    ds = open_dataset(vpt)
    episode = ds.episodes[0]
    recording = Recording(vpt_views["rrd"])
    masks = dict(recording.rows(entity(episode, "pov", "masks"), "SegmentationImage:buffer"))
    covered = sorted(
        {int(f) for _, t in ds.track_ids(episode) for f in ds.read_track(episode, t).frame_index}
    )
    assert sorted(masks) == covered  # a segmentation image on every frame a track covers
    _, frame, _ = largest_mask(ds, episode, "pov")
    meta = ds.meta(episode)
    ids = blob(masks[frame]).reshape(meta.height, meta.width)
    expected = label_image(ds, episode, "pov", frame)
    assert expected.any()
    np.testing.assert_array_equal(ids, expected)
    context = recording.static_value(entity(episode, "pov"), "AnnotationContext:context").as_py()[0]
    labels = {entry["class_id"]: entry["class_description"]["info"]["label"] for entry in context}
    tracks = ds.table("tracks").sort("track_id")
    for label, (track_id, obj) in enumerate(zip(tracks["track_id"], tracks["object"]), start=1):
        assert labels[label] == f"{obj} ({track_id})"  # each class names its track's object
    cleared = recording.rows(entity(episode, "pov", "masks"), "Clear:is_recursive")
    assert cleared and all(frame not in masks for frame, _ in cleared)  # no mask lingers past its track


def test_vpt_overlay_video_shows_masks_banners_and_prompt(vpt, vpt_views):
    ds = open_dataset(vpt)
    episode = ds.episodes[0]
    meta = ds.meta(episode)
    frames = decode_mp4(vpt_views["mp4"])
    assert len(frames) == meta.n_frames == vpt_views["summary"]["mp4"]["frames"]
    _, frame, mask = largest_mask(ds, episode, "pov")
    shown = frames[frame][TOP_BAND : TOP_BAND + meta.height].astype(np.int16)
    stored = ds.read_frames(episode, frame, frame + 1)[0].astype(np.int16)
    difference = np.abs(shown - stored).sum(axis=2)
    far = ~cv2.dilate(mask.astype(np.uint8), np.ones((41, 41), np.uint8)).astype(bool)
    far[: meta.height // 8] = far[-meta.height // 8 :] = False
    assert np.median(difference[mask]) > 60  # the overlay colour is on the mask
    assert np.median(difference[far]) < 15  # and the frame elsewhere is as stored
    events = ds.table("events").sort("frame")
    band = frames[int(events["frame"][0])][TOP_BAND // 4 : TOP_BAND].reshape(-1, 3).astype(int)
    quiet = frames[int(events["frame"][0]) - 2][TOP_BAND // 4 : TOP_BAND].reshape(-1, 3).astype(int)
    yellow = lambda px: ((px[:, 0] > 180) & (px[:, 1] > 160) & (px[:, 2] < 90)).sum()  # noqa: E731
    assert yellow(band) > 50 and yellow(quiet) == 0  # the event's banner, on its frame only


def test_agibot_recording_has_cameras_poses_masks_and_named_states(agibot, agibot_views):
    ds = open_dataset(agibot)
    episode = ds.episodes[0]
    meta = ds.meta(episode)
    recording = Recording(agibot_views["rrd"])
    for camera in meta.cameras:
        assert len(recording.rows(entity(episode, camera, "image"), "EncodedImage:blob")) == meta.n_frames
        translations = recording.rows(entity(episode, camera), "Transform3D:translation")
        assert len(translations) == meta.n_frames
        np.testing.assert_allclose(
            np.stack([numbers(v) for _, v in translations]).reshape(-1, 3),
            ds.array(episode, f"cameras/{camera}/translation"),
            atol=1e-6,
        )
        recording.static_value(entity(episode, camera), "Pinhole:image_from_camera")
    joints = entity(episode, "states", "joint", "position")
    assert (
        recording.static_value(joints, "SeriesLines:names").as_py()
        == ds.info.features["states/joint/position"].names
    )
    assert len(recording.rows(joints, "Scalars:scalars")) == meta.n_frames
    _, frame, _ = largest_mask(ds, episode, "head_color")
    masks = dict(recording.rows(entity(episode, "head_color", "masks"), "SegmentationImage:buffer"))
    np.testing.assert_array_equal(
        blob(masks[frame]).reshape(meta.height, meta.width), label_image(ds, episode, "head_color", frame)
    )
    texts = [t.values[0].as_py() for _, t in recording.rows(entity(episode, "events"), "TextLog:text")]
    assert len(texts) == ds.table("events").height and any("Pick up" in text for text in texts)


def test_agibot_overlay_video_tiles_cameras_with_masks_and_prompt_points(agibot, agibot_views):
    ds = open_dataset(agibot)
    episode = ds.episodes[0]
    meta = ds.meta(episode)
    frames = decode_mp4(agibot_views["mp4"])
    assert len(frames) == meta.n_frames
    assert frames[0].shape[1] == meta.width * len(meta.cameras)
    column = meta.cameras.index("head_color") * meta.width
    _, frame, mask = largest_mask(ds, episode, "head_color")
    shown = frames[frame][TOP_BAND : TOP_BAND + meta.height, column : column + meta.width].astype(np.int16)
    stored = ds.read_frames(episode, frame, frame + 1, "head_color")[0].astype(np.int16)
    assert np.median(np.abs(shown - stored).sum(axis=2)[mask]) > 60
    event = ds.table("events").filter(ds.table("events")["camera"] == "head_color").row(0, named=True)
    row, col = int(round(event["prompt_row"])), int(round(event["prompt_col"])) + column
    ring = frames[event["frame"]][TOP_BAND + row, col - 11 : col + 12]  # across the ring around the point
    assert (ring.min(axis=1) > 200).any()  # white ring pixels


def test_a_dataset_without_events_or_masks_is_shown_too(agibot, tmp_path):
    bare = str(tmp_path / "bare.zarr")  # as the demo's AgiBot dataset: no mask tracks, here no events either
    build(Path(agibot).parent / "raw", bare, "agibot", ["ingest"], workers=1)
    result = runner.invoke(
        app, ["view", bare, "--out", str(tmp_path / "b.rrd"), "--mp4", str(tmp_path / "b.mp4")]
    )
    assert result.exit_code == 0, result.output
    ds = open_dataset(bare)
    episode = ds.episodes[0]
    recording = Recording(tmp_path / "b.rrd")
    assert len(recording.rows(entity(episode, "head_color", "image"), "EncodedImage:blob")) == ds.length(
        episode
    )
    assert not any(path.endswith("/masks") or path.endswith("/events") for path in recording.temporal)
    assert len(decode_mp4(tmp_path / "b.mp4")) == ds.length(episode)


def test_mp4_alone_needs_no_rerun_and_a_recording_says_how_to_get_it(vpt, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "rerun", None)  # as if rerun-sdk were not installed
    result = runner.invoke(app, ["view", vpt, "--out", str(tmp_path / "x.rrd")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: rerun-sdk is not installed: pip install 'goalframe[view]' (rerun-sdk==0.41.0), or write an"
        " overlay video instead with --mp4 OUT.mp4"
    ]
    assert not (tmp_path / "x.rrd").exists()
    result = runner.invoke(app, ["view", vpt, "--mp4", str(tmp_path / "x.mp4"), "--track", "00001.pov.truth"])
    assert result.exit_code == 0, result.output
    assert len(decode_mp4(tmp_path / "x.mp4")) == open_dataset(vpt).length(open_dataset(vpt).episodes[0])
    assert not list(tmp_path.glob("*.rrd"))


def test_spawn_without_a_display_says_so_and_keeps_the_recording(agibot, tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    out = tmp_path / "a.rrd"
    result = runner.invoke(app, ["view", agibot, "--camera", "head_color", "--out", str(out), "--spawn"])
    assert result.exit_code == 0, result.output
    assert f"no display to open the viewer on (DISPLAY is not set): run `rerun {out}`" in result.output
    recording = Recording(out)
    episode = open_dataset(agibot).episodes[0]
    assert entity(episode, "head_color", "image") in recording.temporal
    assert entity(episode, "hand_left_color", "image") not in recording.temporal  # --camera keeps one


@pytest.mark.parametrize(
    "args, message",
    [
        (["--episode", "nope"], "{ds}: no episode 'nope' (has {episode})"),
        (["--track", "nope"], "{ds}: no episode has a mask track 'nope'"),
        (
            ["--episode", "{episode}", "--track", "nope"],
            "{ds}: episode '{episode}' has no mask track 'nope' (has ",
        ),
        (["--camera", "pov"], "{ds}: episode '{episode}' has no camera 'pov' (has hand_left_color, "),
    ],
    ids=["episode", "track", "track-of-episode", "camera"],
)
def test_bad_names_are_one_line_errors(agibot, tmp_path, args, message):
    episode = open_dataset(agibot).episodes[0]
    args = [a.format(episode=episode) for a in args]
    result = runner.invoke(
        app, ["view", agibot, *args, "--out", str(tmp_path / "x.rrd"), "--mp4", str(tmp_path / "x.mp4")]
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: " + message.format(ds=agibot, episode=episode))
    assert not list(tmp_path.iterdir())


def test_a_missing_dataset_is_one_line(tmp_path):
    result = runner.invoke(app, ["view", str(tmp_path / "nope.zarr")])
    assert result.exit_code == 2
    assert (
        result.output.strip() == f"error: {tmp_path / 'nope.zarr'}: no goalframe dataset here (no zarr.json)"
    )


def test_help_has_examples():
    result = runner.invoke(app, ["view", "--help"])
    assert result.exit_code == 0 and "Examples:" in result.output and "$ goalframe view" in result.output


def test_mask_colour_contrasts_with_the_object_and_its_surroundings():
    grass, pig = np.tile([[90, 160, 60]], (50, 1)), np.tile([[230, 150, 150]], (50, 1))
    color = np.array(contrasting_color(pig, grass))
    for pixels in (grass, pig):
        assert np.linalg.norm(color - pixels[0]) > 150
