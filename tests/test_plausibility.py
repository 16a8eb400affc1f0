"""Masks that cannot be right are not confident: the plausibility check after the annotator,
through the masks step on a generated VPT episode, the CLI, the build, and review in a real
Label Studio server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from goalframe import pipeline
from goalframe.annotators.masks import MaskOptions, annotate_masks
from goalframe.annotators.plausibility import (
    IMPLAUSIBLE_SCORE,
    ITEM_GONE,
    MAX_AREA,
    check_track,
    frame_reason,
)
from goalframe.pipeline.steps import Ingest
from goalframe.sim.vpt.synth import synthesize_vpt
from goalframe.storage import open_dataset
from goalframe.storage.masks import MaskTrack
from goalframe.storage.store import open_root, read_info
from goalframe.toolkit.cli import app

runner = CliRunner()
WINDOW = 16


@pytest.fixture(scope="module")
def pickup_world(tmp_path_factory) -> tuple[Path, str]:
    """One generated VPT episode (seed 3): a cow killed under the crosshair (a real object under
    the prompt), then its beef picked up, a pickup with nothing under the crosshair but grass."""
    base = tmp_path_factory.mktemp("pickup")
    synthesize_vpt(base / "raw", episodes=1, seed=3, frames=70)
    dataset = str(base / "ds.zarr")
    # JPEG frames: this one cow's mask IoU swings 0.44-0.77 with the AV1 settings (crf 24-30, gop
    # 1-4), noise of one track; mask quality on the default codec is test_masks_classical's floors
    pipeline.build(base / "raw", dataset, "vpt", ["ingest", "events"], ingest=Ingest(codec="jpeg"))
    report = annotate_masks(dataset, MaskOptions(window=WINDOW))
    assert not report.failed, [(r.event_id, r.reason) for r in report.failed]
    return base / "raw", dataset


def track_of(dataset: str, kind: str) -> tuple[dict, MaskTrack]:
    ds = open_dataset(dataset)
    events = {r["event_id"]: r for r in ds.table("events").iter_rows(named=True)}
    for episode, track_id in ds.track_ids():
        track = ds.read_track(episode, track_id)
        if events[track.attrs["event_id"]]["kind"] == kind:
            return events[track.attrs["event_id"]], track
    raise AssertionError(f"no {kind} track in {dataset}")


def test_a_pickup_with_no_object_under_the_prompt_is_not_confident(pickup_world):
    _raw, dataset = pickup_world
    event, track = track_of(dataset, "pickup")
    finding = track.attrs["implausible"]
    assert finding["reason"] == f"area>{MAX_AREA:g}" and finding["event_frame"] is True
    assert finding["frames"] == len(track) == WINDOW
    assert finding["frame_index"] == track.frame_index.tolist()
    assert (track.score <= IMPLAUSIBLE_SCORE).all() and not track.visible.any() and not track.mask.any()
    assert track.attrs["note"].startswith(f"implausible mask at the event frame (area>{MAX_AREA:g})")
    assert track.attrs["max_area"] == MAX_AREA
    tracks = open_dataset(dataset).table("tracks")
    assert tracks.filter(pl.col("event_id") == event["event_id"])["n_visible"].to_list() == [0]


def test_a_small_object_under_the_prompt_stays_visible(pickup_world):
    raw, dataset = pickup_world
    event, track = track_of(dataset, "kill_entity")
    assert "implausible" not in track.attrs and track.visible.all() and track.score[-1] > 0.5
    truth = json.loads(next((raw / "truth").glob("*.json")).read_text())
    object_id = next(e["object_id"] for e in truth["events"] if e["frame"] == event["frame"])
    ids = np.load(next((raw / "truth").glob("*.npz")))["object_ids"][event["frame"]]
    true_mask = ids == object_id
    assert true_mask.mean() < MAX_AREA
    assert (track.mask[-1] & true_mask).sum() / (track.mask[-1] | true_mask).sum() > 0.7


def test_the_check_flags_only_frames_whose_mask_cannot_be_one_object():
    height, width = 90, 160
    n = 6
    masks = np.zeros((n, height, width), bool)
    masks[:, 40:50, 70:85] = True  # a small object mid-frame
    masks[1, 60:, :] = True  # one earlier frame spread over the ground along the bottom edge (edge > 0.25)
    masks[2, :, :100] = True  # another over most of the frame
    track = MaskTrack.from_masks(np.arange(10, 10 + n), masks, score=np.full(n, 0.9, np.float32))
    checked = check_track(track)
    assert frame_reason(masks[1]) == "edge>0.25" and frame_reason(masks[2]) == "area>0.35"
    assert checked.visible.tolist() == [True, False, False, True, True, True]
    assert checked.score.tolist() == pytest.approx([0.9, IMPLAUSIBLE_SCORE, IMPLAUSIBLE_SCORE, 0.9, 0.9, 0.9])
    assert not checked.mask[1:3].any() and np.isnan(checked.centroid[1:3]).all()
    assert checked.attrs["implausible"]["frame_index"] == [11, 12]
    assert checked.attrs["implausible"]["event_frame"] is False
    np.testing.assert_array_equal(checked.mask[3:], masks[3:])

    placed = MaskTrack.from_masks(np.arange(n), masks, attrs={"target": {"kind": "unit_cell"}})
    assert check_track(placed) is placed  # what the recording placed may fill the view
    plain = MaskTrack.from_masks(np.arange(3), masks[[0, 3, 4]])
    assert check_track(plain) is plain and "implausible" not in plain.attrs
    assert check_track(plain, event_kind="kill_entity") is plain


def test_a_pickup_or_drop_track_is_not_confident_whatever_its_shape():
    """The item has left the prompt by the event frame: a small neat mask there is something else."""
    masks = np.zeros((4, 90, 160), bool)
    masks[:, 40:50, 70:85] = True
    for kind in ("pickup", "drop"):
        track = MaskTrack.from_masks(np.arange(4), masks, score=np.full(4, 0.95, np.float32))
        checked = check_track(track, event_kind=kind)
        assert not checked.visible.any() and (checked.score <= IMPLAUSIBLE_SCORE).all()
        assert checked.attrs["implausible"]["reason"] == ITEM_GONE[kind]
        assert checked.attrs["implausible"]["event_frame"] is True
    located = MaskTrack.from_masks(np.arange(4), masks, attrs={"target": {"kind": "item"}})
    assert check_track(located, event_kind="pickup") is located  # the recording says where it is


def test_max_area_on_masks_and_build(pickup_world, tmp_path):
    raw, dataset = pickup_world
    copy = str(tmp_path / "ds.zarr")
    shutil.copytree(dataset, copy)

    def masks(*args: str):
        return runner.invoke(app, ["masks", copy, "--window", str(WINDOW), "--json", *args])

    assert json.loads(masks().stdout)["written"] == 0  # made with the default limit already
    result = masks("--max-area", "0.9")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["skipped"] == 0  # another limit: every track redone
    _event, track = track_of(copy, "pickup")
    assert track.attrs["max_area"] == 0.9  # its grass field is under 0.9 of the frame: no area>...
    assert track.attrs["implausible"]["reason"] == ITEM_GONE["pickup"]  # ... but the beef is gone
    assert [s for s in read_info(open_root(copy, "r")).steps if s.step == "masks"][-1].params[
        "max_area"
    ] == 0.9
    assert json.loads(masks("--max-area", "0.9").stdout)["written"] == 0

    bad = runner.invoke(app, ["masks", copy, "--max-area", "0"])
    assert bad.exit_code == 2
    assert (
        bad.output.strip().splitlines()[-1]
        == "error: --max-area must be a fraction of the frame in (0, 1], got 0.0"
    )

    step = pipeline.Masks(MaskOptions(max_area=0.5))
    assert step.params()["options"]["max_area"] == 0.5
    built = tmp_path / "built.zarr"
    result = runner.invoke(
        app,
        [
            "build",
            str(raw),
            "--format",
            "vpt",
            "--out",
            str(built),
            "--window",
            "8",
            "--max-area",
            "0.5",
            "--horizon",
            "20",
            "--near",
            "8",
            "--stride",
            "4",
            "--distal",
            "4",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    _event, track = track_of(str(built), "pickup")
    assert track.attrs["max_area"] == 0.5
    assert track.attrs["implausible"]["reason"] == ITEM_GONE["pickup"]  # grass under half the frame


@pytest.fixture
def ls(label_studio):
    from label_studio_sdk import LabelStudio

    return LabelStudio(base_url=label_studio.url, api_key=label_studio.token)


def test_review_push_prefills_implausible_frames_as_absent(pickup_world, label_studio, ls):
    _raw, dataset = pickup_world
    local = label_studio.document_root / "plausibility" / "ds.zarr"
    shutil.copytree(dataset, local)
    title = "implausible absent"
    args = ["--url", label_studio.url, "--api-key", label_studio.token, "--project", title]
    pushed = runner.invoke(app, ["review", "push", str(local), *args, "--frames-per-track", "3", "--json"])
    assert pushed.exit_code == 0, pushed.output
    pid = next(p.id for p in ls.projects.list(title=title) if p.title == title)
    choices: dict[str, list[tuple[list[str], bool]]] = {}
    for task in ls.tasks.list(project=pid, fields="all"):
        prediction = task.predictions[0]
        result = prediction["result"] if isinstance(prediction, dict) else prediction.result
        picked = [r["value"]["choices"] for r in result if r["type"] == "choices"]
        has_mask = any(r["type"] == "brushlabels" for r in result)
        choices.setdefault(task.data["object"], []).append((picked[0] if picked else [], has_mask))
    assert choices["beef"] == [(["absent"], False)] * 3  # the pickup: the check's frames
    assert choices["cow"] == [(["visible"], True)] * 3  # a real object under the prompt
