"""Interaction events from VPT stats counters, through a real ingest into a real store."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import vpt_fixtures as fx

from goalframe.annotators import EventFilters, extract_events
from goalframe.sources import vpt
from goalframe.storage import ingest, open_dataset

MINE = "minecraft.mine_block:minecraft.dirt"
KILL = "minecraft.kill_entity:minecraft.zombie"
CRAFT = "minecraft.craft_item:minecraft.oak_planks"


def stats_line(t: int, stats: dict, gui: bool = False, mouse=(274.0, 338.0)) -> dict:
    line = fx.make_line(t, isGuiOpen=gui, mouse={"x": mouse[0], "y": mouse[1]})
    line["stats"] = {"minecraft.custom:minecraft.jump": t, **stats}
    return line


def build(tmp_path: Path, lines_by_stem: dict[str, list[dict]]) -> str:
    raw = tmp_path / "raw"
    for stem, lines in lines_by_stem.items():
        fx.write_episode(raw, lines=lines, stem=stem)
    out = str(tmp_path / "ds.zarr")
    report = ingest(out, vpt.discover(raw), vpt.read, "vpt")
    assert not report.failed, report.summary()
    return out


def counters(t: int) -> dict:
    """A scripted history: dirt mined at 2 and 3 (burst), zombie killed at 6, planks crafted at 8 in a GUI."""
    mined = 5 + (t >= 2) + (t >= 3)
    stats = {MINE: mined, "minecraft.custom:minecraft.walk_one_cm": 10 * t}
    if t >= 6:
        stats[KILL] = 1  # first appears mid-episode: counted up from 0
    stats[CRAFT] = 4 + 4 * (t >= 8)
    return stats


@pytest.fixture
def dataset(tmp_path: Path) -> str:
    lines = [stats_line(t, counters(t), gui=t in (7, 8), mouse=(640.0, 200.0)) for t in range(12)]
    reset = [stats_line(t, {MINE: 9 if t < 4 else 1}) for t in range(8)]
    return build(tmp_path, {"alice-aaaa-20220101-000000": lines, "bob-bbbb-20220101-000000": reset})


def test_every_counter_increase_is_one_event_with_type_object_and_prompt(dataset):
    table, warnings = extract_events(dataset)
    alice = table.filter(pl.col("episode_id") == "alice-aaaa-20220101-000000")
    assert alice.select("frame", "kind", "object", "interaction", "interaction_id", "delta").rows() == [
        (2, "mine_block", "dirt", "mine", 2, 1),
        (3, "mine_block", "dirt", "mine", 2, 1),
        (6, "kill_entity", "zombie", "hunt", 0, 1),
        (8, "craft_item", "oak_planks", "craft", 4, 4),
    ]
    height, width = fx.FRAME_SIZE
    crosshair = alice.filter(pl.col("frame") == 2).row(0, named=True)
    assert (crosshair["prompt_row"], crosshair["prompt_col"], crosshair["gui_open"]) == (
        height / 2,
        width / 2,
        False,
    )
    cursor = alice.filter(pl.col("frame") == 8).row(0, named=True)
    assert cursor["gui_open"] is True
    assert (cursor["prompt_row"], cursor["prompt_col"]) == (200.0 * height / 720, 640.0 * width / 1280)
    assert open_dataset(dataset).table("events").height == table.height
    assert not any("custom" in name for name in table["name"])


def test_a_decreasing_counter_gives_a_warning_and_no_negative_event(dataset):
    table, warnings = extract_events(dataset)
    bob = table.filter(pl.col("episode_id") == "bob-bbbb-20220101-000000")
    assert bob.height == 0
    assert warnings == [
        f"bob-bbbb-20220101-000000: frame 4: counter {MINE} decreased from 9 to 1 (new world or reset?); no"
        " event"
    ]
    assert (table["delta"] > 0).all()


def test_filters_types_regex_bursts_and_start(dataset):
    hunt_only, _ = extract_events(dataset, EventFilters(types=["hunt"]))
    assert hunt_only["kind"].to_list() == ["kill_entity"]
    regex, _ = extract_events(dataset, EventFilters(match="minecraft.kill_entity:.*|craft_item"))
    assert sorted(regex["kind"].to_list()) == ["craft_item", "kill_entity"]
    merged, _ = extract_events(dataset, EventFilters(types=["mine_block"], min_gap=2))
    assert merged.select("frame", "delta", "merged").rows() == [(2, 2, 2)]
    late, _ = extract_events(dataset, EventFilters(min_start=4))
    assert late["frame"].min() >= 4
    full, _ = extract_events(dataset)
    ids = dict(zip(full["frame"], full["event_id"]))
    assert late.filter(pl.col("frame") == 6)["event_id"][0] == ids[6], "ids do not depend on filters"


def test_bad_filters_are_refused(dataset):
    with pytest.raises(ValueError, match="not a valid regex"):
        extract_events(dataset, EventFilters(match="("))
    with pytest.raises(ValueError, match="unknown bogus"):
        extract_events(dataset, EventFilters(types=["bogus"]))


def test_an_episode_without_stats_warns_and_does_not_crash(tmp_path):
    lines = [fx.make_line(t) for t in range(5)]
    for line in lines:
        del line["stats"]
    dataset = build(tmp_path, {"carol-cccc-20220101-000000": lines})
    table, warnings = extract_events(dataset)
    assert table.height == 0
    assert warnings == ["carol-cccc-20220101-000000: no stats counters in this episode; no VPT events"]


def test_a_counter_that_vanishes_and_returns_counts_from_zero(tmp_path):
    """stats lists only non-zero counters: dirt 5 -> gone at frame 4 (a reset) -> back as 7 at frame 7."""

    def line(t: int) -> dict:
        mined = 5 if t < 4 else None if t < 7 else 7
        return stats_line(t, {} if mined is None else {MINE: mined})

    dataset = build(tmp_path, {"dave-dddd-20220101-000000": [line(t) for t in range(9)]})
    table, warnings = extract_events(dataset)
    assert table.select("frame", "name", "delta").rows() == [(7, MINE, 7)], "counted from 0, not 7 - 5"
    assert warnings == [
        f"dave-dddd-20220101-000000: frame 4: counter {MINE} vanished from stats (reset from 5 to 0); "
        "it counts up from 0 again; no event"
    ]


def test_gui_prompt_scales_from_the_recorded_window(tmp_path):
    lines = [stats_line(t, {CRAFT: 4 + 4 * (t >= 2)}, gui=t == 2, mouse=(960.0, 270.0)) for t in range(4)]
    raw = tmp_path / "raw"
    fx.write_episode(
        raw,
        lines=lines,
        stem="erin-eeee-20220101-000000",
        options={
            "windowWidth": 1920,
            "windowHeight": 1080,
            "framebufferWidth": 1920,
            "framebufferHeight": 1080,
        },
    )
    out = str(tmp_path / "ds.zarr")
    assert not ingest(out, vpt.discover(raw), vpt.read, "vpt").failed
    table, _ = extract_events(out)
    height, width = fx.FRAME_SIZE
    row = table.row(0, named=True)
    assert (row["frame"], row["gui_open"]) == (2, True)
    assert (
        (row["prompt_row"], row["prompt_col"])
        == (270.0 * height / 1080, 960.0 * width / 1920)
        == (height / 4, width / 2)
    )


def test_min_gap_merges_events_less_than_n_frames_apart_on_the_cli(tmp_path):
    """Dirt mined at frames 2, 5 and 6: --min-gap 3 keeps 2 and 5 apart (exactly 3) and merges 6 into 5."""
    import json
    import subprocess
    import sys

    lines = [stats_line(t, {MINE: (t >= 2) + (t >= 5) + (t >= 6)}) for t in range(9)]
    dataset = build(tmp_path, {"fay-ffff-20220101-000000": lines})

    def frames_deltas(min_gap: int) -> list[tuple[int, int, int]]:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "goalframe.toolkit.cli",
                "events",
                dataset,
                "--min-gap",
                str(min_gap),
                "--json",
            ],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["events"] == open_dataset(dataset).table("events").height
        return open_dataset(dataset).table("events").select("frame", "delta", "merged").rows()

    assert frames_deltas(3) == [(2, 1, 1), (5, 2, 2)]
    assert frames_deltas(4) == [(2, 3, 3)]
    one, _ = extract_events(dataset, EventFilters(min_gap=1))  # distinct frames are always 1 apart
    assert one.select("frame", "delta", "merged").rows() == [(2, 1, 1), (5, 1, 1), (6, 1, 1)]
    import os

    wide = {**os.environ, "COLUMNS": "400"}  # one help line per option
    help_text = subprocess.run(
        [sys.executable, "-m", "goalframe.toolkit.cli", "events", "--help"],
        capture_output=True,
        text=True,
        env=wide,
    ).stdout
    assert "less than this many frames apart" in help_text and "exactly N apart stay separate" in help_text
