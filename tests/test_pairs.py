"""Cross-view goal pairs on datasets built by the real pipeline, with mask tracks from the generators' truth.

The helpers at the top (``built``, ``fresh``) are shared with test_msth.py and
test_datasets.py: each generated dataset is built once per test session and copied per test.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl
from typer.testing import CliRunner

from goalframe import pipeline
from goalframe.sampling import build_pairs, sample_pairs
from goalframe.sampling.pairs import summarize_track
from goalframe.schemas.tables import INTERACTION_IDS, PAIRS_SCHEMA
from goalframe.sim.agibot.synth import synthesize_agibot, truth_paths
from goalframe.sim.vpt.synth import synthesize_vpt
from goalframe.storage import open_dataset
from goalframe.storage.masks import MaskTrack, rebuild_tracks_table, track_id_for, write_review, write_track
from goalframe.storage.store import open_root

TRACK_WINDOW = 24  # frames of a truth track before (and including) its event frame
_BUILT: dict[str, tuple[Path, str]] = {}


def truth_masks(raw: Path, fmt: str, episode: str, camera: str) -> tuple[np.ndarray, dict]:
    """(object-id images (T, H, W) uint16, truth record) of one episode and camera."""
    if fmt == "vpt":
        record = json.loads((raw / "truth" / f"{episode}.json").read_text())
        return np.load(raw / "truth" / f"{episode}.npz")["object_ids"], record
    task, ep = episode.split("_")
    npz, js = truth_paths(raw, int(task), int(ep))
    return np.load(npz)[f"masks_{camera}"], json.loads(js.read_text())


def truth_object(fmt: str, record: dict, event: dict) -> tuple[int | None, str | None]:
    """(truth object id, object label) of an events-table row."""
    if fmt == "vpt":
        for truth in record["events"]:
            if truth["frame"] == event["frame"] and truth["stat"] == event["name"] and truth["object_id"]:
                return int(truth["object_id"]), event["object"]
        return None, None
    objects = {o["id"]: o for o in record["objects"]}
    if event["kind"] == "segment":
        match = [s for s in record["segments"] if s["start_frame"] == event["frame"]]
        oid = match[0]["object_id"] if match else None
    else:
        near = [e for e in record["events"] if (e["kind"], e["arm"]) == (event["kind"], event["arm"])]
        oid = min(near, key=lambda e: abs(e["frame"] - event["frame"]))["object_id"] if near else None
    return (
        (oid, objects[oid]["kind"]) if oid in objects else (None, None)
    )  # "cube": the same object kind across episodes


def write_truth_tracks(dataset: str, raw: Path, fmt: str, window: int = TRACK_WINDOW) -> int:
    """A mask track per event (with a truth object) from the generator's object-id images."""
    ds = open_dataset(dataset)
    root = open_root(dataset, "r+")
    events = ds.table("events")
    written = 0
    for episode in ds.episodes:
        rows = events.filter(pl.col("episode_id") == episode).to_dicts()
        cache: dict[str, tuple[np.ndarray, dict]] = {}
        for event in rows:
            camera = event["camera"]
            if camera not in cache:
                cache[camera] = truth_masks(raw, fmt, episode, camera)
            ids, record = cache[camera]
            oid, label = truth_object(fmt, record, event)
            if oid is None:
                continue
            if event["kind"] == "segment":
                start, stop = event["frame"], event["end_frame"]
            else:
                start, stop = max(0, event["frame"] - window + 1), event["frame"] + 1
            stop = min(stop, len(ids), ds.length(episode))
            frames = np.arange(start, stop)
            track = MaskTrack.from_masks(frames, ids[start:stop] == oid)
            attrs = {
                "event_id": event["event_id"],
                "camera": camera,
                "annotator": "truth",
                "annotator_version": "1",
                "event_frame": int(event["frame"]),
                "interaction": event["interaction"],
                "object": label,
            }
            write_track(root, episode, track_id_for(event["event_id"], camera, "truth"), track, attrs)
            written += 1
    rebuild_tracks_table(dataset)
    return written


def built(tmp_path_factory, fmt: str) -> tuple[Path, str]:
    """(raw folder, dataset) of a small generated dataset with events and truth mask tracks; built once."""
    if fmt not in _BUILT:
        base = tmp_path_factory.mktemp(f"sampling-{fmt}")
        raw = base / "raw"
        if fmt == "vpt":
            synthesize_vpt(raw, episodes=2, seed=0, frames=120)
        else:
            synthesize_agibot(raw, episodes=2, seed=0, frames_per_object=40, n_objects=1)
        dataset = str(base / f"{fmt}.zarr")
        summary = pipeline.build(raw, dataset, fmt, ["ingest", "events"])
        assert not summary["ingest"]["failed"], summary
        assert write_truth_tracks(dataset, raw, fmt) > 0
        _BUILT[fmt] = (raw, dataset)
    return _BUILT[fmt]


def fresh(tmp_path_factory, tmp_path: Path, fmt: str) -> tuple[Path, str]:
    """A private copy of the built dataset (tests write tables into it)."""
    raw, dataset = built(tmp_path_factory, fmt)
    copy = tmp_path / Path(dataset).name
    shutil.copytree(dataset, copy)
    return raw, str(copy)


# ---------------------------------------------------------------------------- tests


def test_goal_views_are_reproducible_one_per_track_and_on_non_empty_masks(tmp_path_factory, tmp_path):
    _raw, dataset = fresh(tmp_path_factory, tmp_path, "vpt")
    table, warnings = build_pairs(dataset, seed=3)
    assert table.schema == pl.Schema(PAIRS_SCHEMA)
    again, _ = build_pairs(dataset, seed=3)
    assert again.equals(table)
    assert open_dataset(dataset).table("pairs").equals(table)
    ds = open_dataset(dataset)
    tracks = {(e, t): ds.read_track(e, t) for e, t in ds.track_ids()}
    pairs = table.group_by("pair_id").agg(
        pl.all().n_unique().name.suffix("_n"),
        pl.col("goal_frame", "goal_track_id", "goal_episode_id", "track_id", "episode_id").first(),
        pl.len(),
    )
    assert pairs.height == len(tracks) - sum(not tr.mask.any() for tr in tracks.values())
    for row in pairs.iter_rows(named=True):
        assert row["goal_frame_n"] == row["goal_track_id_n"] == 1  # ONE goal view per interaction
        track = tracks[row["episode_id"], row["track_id"]]
        assert row["len"] == len(track)  # every frame of the window is paired with it
        goal = tracks[row["goal_episode_id"], row["goal_track_id"]]
        assert goal.mask[goal.row(row["goal_frame"])].any()
    # another seed moves some goals; each goal is drawn per pair, so a track's draw does not
    # depend on the other tracks
    other, _ = build_pairs(dataset, seed=4)
    goals = lambda t: dict(t.select("pair_id", "goal_frame").unique().iter_rows())  # noqa: E731
    assert goals(other) != goals(table)
    summaries = [summarize_track(ds, e, t) for e, t in ds.track_ids()]
    alone, _ = sample_pairs(summaries[:1], seed=3)
    assert goals(alone).items() <= goals(table).items()
    # uniform among the non-empty frames: over many seeds every candidate of a track comes up
    first = summaries[0]
    drawn = {
        goals(sample_pairs([first], seed=s)[0])[f"{first.episode_id}/{first.track_id}/same_episode"]
        for s in range(200)
    }
    assert drawn == set(first.candidates.tolist())


def test_labels_match_the_truth_masks(tmp_path_factory, tmp_path):
    raw, dataset = fresh(tmp_path_factory, tmp_path, "vpt")
    table, _ = build_pairs(dataset, seed=0)
    ds = open_dataset(dataset)
    events = ds.table("events")
    checked = 0
    for (episode, event_id), rows in table.group_by("episode_id", "event_id"):
        ids, record = truth_masks(raw, "vpt", episode, "pov")
        event = events.filter(pl.col("event_id") == event_id).row(0, named=True)
        oid, _label = truth_object("vpt", record, event)
        height, width = ids.shape[1:]
        for row in rows.iter_rows(named=True):
            mask = ids[row["frame"]] == oid
            assert row["visible"] == bool(mask.any())
            assert row["interaction_id"] == INTERACTION_IDS[event["interaction"]]
            if mask.any():
                r, c = np.nonzero(mask)
                np.testing.assert_allclose(
                    (row["centroid_row"], row["centroid_col"]),
                    (r.mean() / height, c.mean() / width),
                    rtol=1e-5,
                )
                expected = (c.min() / width, r.min() / height, (c.max() + 1) / width, (r.max() + 1) / height)
                np.testing.assert_allclose(
                    [row[k] for k in ("bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1")], expected, rtol=1e-5
                )
            else:
                assert row["centroid_row"] is None and row["bbox_x0"] is None
            checked += 1
    assert checked == table.height > 0
    assert table["visible"].any() and not table["visible"].all()


def test_cross_episode_and_cross_camera_goal_views(tmp_path_factory, tmp_path):
    _raw, dataset = fresh(tmp_path_factory, tmp_path, "agibot")
    table, _ = build_pairs(dataset, seed=1, cross_episode=True, cross_camera=True)
    ds = open_dataset(dataset)
    info = {(e, t): ds.read_track(e, t) for e, t in ds.track_ids()}
    per_pair = table.group_by("pair_id").agg(pl.all().first(), pl.col("frame").min().alias("first"))
    sources = set(per_pair["goal_source"])
    assert sources == {"same_episode", "cross_episode", "cross_camera"}
    for row in per_pair.iter_rows(named=True):
        goal = info[row["goal_episode_id"], row["goal_track_id"]]
        assert goal.mask[goal.row(row["goal_frame"])].any()
        if row["goal_source"] == "cross_episode":
            assert row["goal_episode_id"] != row["episode_id"]
            assert (goal.attrs["interaction"], goal.attrs["object"]) == (row["interaction"], row["object"])
        elif row["goal_source"] == "cross_camera":
            assert row["goal_episode_id"] == row["episode_id"] and row["goal_camera"] != row["camera"]
            assert goal.attrs["event_frame"] == info[row["episode_id"], row["track_id"]].attrs["event_frame"]
            assert row["window_start"] <= row["goal_frame"] < row["window_stop"]  # at the same time
        else:
            assert (row["goal_episode_id"], row["goal_track_id"]) == (row["episode_id"], row["track_id"])
    assert open_dataset(dataset).info.steps[-1].params == {
        "seed": 1,
        "cross_episode": True,
        "cross_camera": True,
    }


def test_reviewed_masks_decide_the_goal_view(tmp_path_factory, tmp_path):
    _raw, dataset = fresh(tmp_path_factory, tmp_path, "vpt")
    ds = open_dataset(dataset)
    episode, track_id = next(
        (e, t) for e, t in ds.track_ids() if ds.read_track(e, t).mask.any(axis=(1, 2)).sum() > 2
    )
    track = ds.read_track(episode, track_id)
    keep = int(track.frame_index[np.flatnonzero(track.mask.any(axis=(1, 2)))[0]])
    emptied = np.array([f for f in track.frame_index if f != keep])
    write_review(
        open_root(dataset, "r+"),
        episode,
        track_id,
        MaskTrack.from_masks(emptied, np.zeros((len(emptied), *track.mask.shape[1:]), bool)),
        {"by": "test"},
    )
    for seed in range(5):
        table, _ = build_pairs(dataset, seed=seed)
        mine = table.filter((pl.col("episode_id") == episode) & (pl.col("track_id") == track_id))
        assert set(mine["goal_frame"]) == {keep}
        assert mine.filter(pl.col("visible"))["frame"].to_list() == [keep]


def test_pairs_command(tmp_path_factory, tmp_path):
    from goalframe.toolkit.cli import app

    _raw, dataset = fresh(tmp_path_factory, tmp_path, "agibot")
    result = CliRunner().invoke(app, ["pairs", dataset, "--seed", "2", "--cross-camera", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (
        summary["pairs"] > 0
        and summary["by_source"]["cross_camera"] > 0
        and summary["rows"] == open_dataset(dataset).table("pairs").height
    )
    for command in ("pairs", "msth"):
        help_text = CliRunner().invoke(app, [command, "--help"])
        assert (
            help_text.exit_code == 0
            and "Examples:" in help_text.output
            and f"$ goalframe {command}" in help_text.output
        )
    missing = CliRunner().invoke(app, ["pairs", str(tmp_path / "nope.zarr")])
    assert (
        missing.exit_code == 2
        and "no goalframe dataset" in missing.output
        and len(missing.output.strip().splitlines()) == 1
    )
