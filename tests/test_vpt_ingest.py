"""synth vpt -> ingest vpt -> events -> masks -> pairs -> msth: every field round-trips against the
generator's truth, including the recorder's real layout (window sizes, GUI-scaled deltas, a pause,
a counter that vanishes and comes back)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from goalframe.annotators import extract_events
from goalframe.sim.vpt.synth import synthesize_vpt
from goalframe.storage import open_dataset


def goalframe(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "goalframe.toolkit.cli", *args], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, dict[str, dict]]:
    base = tmp_path_factory.mktemp("vpt")
    raw, out = base / "raw", base / "ds.zarr"
    synthesize_vpt(raw, episodes=3, seed=11, frames=240, quirk_rate=1.0)  # every quirk, somewhere
    result = goalframe("ingest", "vpt", str(raw), "--out", str(out), "--workers", "2")
    assert result.returncode == 0, result.stderr
    truths = {p.stem: json.loads(p.read_text()) for p in sorted((raw / "truth").glob("*.json"))}
    return raw, out, truths


def test_every_per_tick_field_round_trips(built):
    raw, out, truths = built
    ds = open_dataset(out)
    assert ds.episodes == sorted(truths)
    for episode, truth in truths.items():
        arrays = np.load(raw / "truth" / f"{episode}.npz")
        n = truth["n_lines"]
        assert ds.length(episode) == n, "T = complete jsonl lines (extra final frame dropped)"
        assert ds.read_frames(episode, 0, n).shape == (n, 360, 640, 3)
        for stored, name in [
            ("states/yaw", "yaw"),
            ("states/pitch", "pitch"),
            ("states/xpos", "xpos"),
            ("states/ypos", "ypos"),
            ("states/zpos", "zpos"),
            ("states/hotbar", "hotbar"),
            ("states/gui/open", "is_gui_open"),
            ("states/gui/inventory", "is_gui_inventory"),
            ("states/tick", "tick"),
            ("states/milli", "milli"),
        ]:
            np.testing.assert_array_equal(
                ds.array(episode, stored), arrays[name][:n], err_msg=f"{episode} {stored}"
            )
        for stored, name in [
            ("x", "mouse_x"),
            ("y", "mouse_y"),
            ("dx", "mouse_dx"),
            ("dy", "mouse_dy"),
            ("dwheel", "mouse_dwheel"),
        ]:
            np.testing.assert_allclose(
                ds.array(episode, f"actions/mouse/{stored}"), arrays[name][:n], rtol=1e-6, atol=1e-4
            )
        np.testing.assert_array_equal(
            ds.array(episode, "actions/mouse/buttons")[:, :3], arrays["mouse_buttons"][:n]
        )
        np.testing.assert_array_equal(ds.array(episode, "timestamps"), arrays["milli"][:n] * 1_000_000)


def test_keys_inventory_and_stats_round_trip(built):
    _raw, out, truths = built
    ds = open_dataset(out)
    for episode, truth in truths.items():
        n = truth["n_lines"]
        vocabulary = ds.array_attrs(episode, "actions/keyboard/keys")["vocabulary"]
        keys = ds.array(episode, "actions/keyboard/keys")
        assert [sorted(vocabulary[i] for i in np.flatnonzero(row)) for row in keys] == [
            sorted(k) for k in truth["keys"][:n]
        ]
        items = ds.array_attrs(episode, "states/inventory/quantity")["vocabulary"]
        quantity = ds.array(episode, "states/inventory/quantity")
        for t in range(0, n, 17):
            expected = Counter()
            for slot in truth["inventory"][t]:
                expected[slot["type"]] += slot["quantity"]
            assert {items[i]: int(q) for i, q in enumerate(quantity[t]) if q} == dict(expected)
        # the sparse counter table rebuilds the final cumulative stats exactly
        names = ds.array_attrs(episode, "states/stats/key")["vocabulary"]
        final = {}
        for key, value in zip(ds.array(episode, "states/stats/key"), ds.array(episode, "states/stats/value")):
            final[names[key]] = int(value)
        if not truth["quirks"]["truncated_last_line"]:
            assert final == truth["final_stats"]


def test_quirks_are_handled_and_reported(built):
    _raw, out, truths = built
    ds = open_dataset(out)
    quirks = {
        name: [t["quirks"][name] for t in truths.values()]
        for name in ("extra_frame", "truncated_last_line", "stuck_attack")
    }
    assert all(any(v) for v in quirks.values()), f"quirk_rate=1.0 shows every quirk: {quirks}"
    for episode, truth in truths.items():
        warnings = " ".join(ds.meta(episode).warnings)
        if truth["quirks"]["truncated_last_line"]:
            assert "truncated" in warnings
        if truth["quirks"]["non_utf8_line"]:
            assert (
                f":{truth['quirks']['non_utf8_line'] + 1}: invalid UTF-8" in warnings or "UTF-8" in warnings
            )
        if truth["quirks"]["stuck_attack"]:
            attack = ds.array_attrs(episode, "actions/vpt/buttons")["vocabulary"].index("attack")
            assert (
                ds.array(episode, "actions/mouse/buttons")[0, 0]
                and not ds.array(episode, "actions/vpt/buttons")[0, attack]
            )


def test_window_gui_scale_and_pauses_are_read_from_the_real_layout(built):
    _raw, out, truths = built
    ds = open_dataset(out)
    windows = set()
    for episode, truth in truths.items():
        layout, n = truth["layout"], truth["n_lines"]
        window = tuple(layout["window"])
        windows.add(window)
        assert tuple(ds.array_attrs(episode, "actions/mouse/x")["window_size"]) == window
        assert ds.array_attrs(episode, "actions/mouse/dx")["gui_scale_factor"] == layout["gui_scale_factor"]
        np.testing.assert_array_equal(
            ds.array(episode, "actions/mouse/gui_scaled"), ds.array(episode, "states/gui/open")
        )
        warnings = " ".join(ds.meta(episode).warnings)
        assert ("not 1280x720" in warnings) == (window != (1280, 720))
        paused = np.flatnonzero(ds.array(episode, "states/paused_before")).tolist()
        assert paused == [p["frame"] for p in layout["pauses"] if p["frame"] < n]
        assert ("paused" in warnings) == bool(paused)
    assert (1280, 720) in windows and len(windows) > 1
    assert any(t["layout"]["pauses"] for t in truths.values())


def test_events_match_the_true_events_exactly(built):
    raw, out, truths = built
    table, warnings = extract_events(str(out))
    resets = [(stem, r) for stem, t in truths.items() for r in t["layout"]["counter_resets"]]
    assert sorted(warnings) == sorted(
        f"{stem}: frame {r['frame']}: counter {r['stat']} vanished from stats (reset from {r['value']} to 0);"
        " it counts up from 0 again; no event"
        for stem, r in resets
    )
    assert any(r["returned"] is not None for _, r in resets), "a counter comes back in this set"
    found = {(r["episode_id"], r["frame"], r["name"], r["delta"]) for r in table.iter_rows(named=True)}
    true = {
        (stem, e["frame"], e["stat"], e["delta"])
        for stem, t in truths.items()
        for e in t["events"]
        if e["frame"] < t["n_lines"]
    }
    assert found == true, f"missing {sorted(true - found)[:5]}, extra {sorted(found - true)[:5]}"
    kinds = set(table["kind"])
    assert {"mine_block", "kill_entity", "use_item", "craft_item"} <= kinds
    # prompt points: on the object in the truth masks for every visible targeted event
    for stem, truth in truths.items():
        ids = np.load(raw / "truth" / f"{stem}.npz")["object_ids"]
        for event in truth["events"]:
            if event["object_id"] is None or not event["visible"] or event["frame"] >= truth["n_lines"]:
                continue
            row = table.filter(
                (pl.col("episode_id") == stem)
                & (pl.col("frame") == event["frame"])
                & (pl.col("name") == event["stat"])
            ).row(0, named=True)
            assert ids[event["frame"], int(row["prompt_row"]), int(row["prompt_col"])] == event["object_id"]


def test_the_whole_chain_runs_on_every_layout(built, tmp_path):
    """events -> masks -> pairs -> msth through the CLI; GUI prompts land on the item in every window size."""
    raw, out, truths = built
    work = tmp_path / "chain.zarr"
    import shutil

    shutil.copytree(out, work)
    for step in (
        ["events", str(work)],
        ["masks", str(work), "--window", "8"],
        ["pairs", str(work), "--seed", "0"],
        ["msth", str(work), "--horizon", "40", "--near", "10", "--stride", "5", "--distal", "3"],
    ):
        result = goalframe(*step)
        assert result.returncode == 0, (step, result.stderr)
    ds = open_dataset(work)
    events, tracks, pairs, msth = (ds.table(name) for name in ("events", "tracks", "pairs", "msth"))
    assert msth.height == sum(ds.lengths.values())
    for stem, truth in truths.items():
        assert tracks.filter(pl.col("episode_id") == stem).height > 0, stem
        assert pairs.filter(pl.col("episode_id") == stem).height > 0, stem
    gui = events.filter(pl.col("gui_open"))
    assert gui.height > 0
    checked = set()
    for event in gui.iter_rows(named=True):
        truth = truths[event["episode_id"]]
        true_event = next(
            e for e in truth["events"] if e["frame"] == event["frame"] and e["stat"] == event["name"]
        )
        row, col = int(event["prompt_row"]), int(event["prompt_col"])
        assert (row, col) == tuple(true_event["prompt"])
        track_id = tracks.filter(pl.col("event_id") == event["event_id"])["track_id"][0]
        track = ds.read_track(event["episode_id"], track_id)
        assert track.mask[track.row(event["frame"])][row, col], "the item's mask holds the cursor"
        checked.add(tuple(truth["layout"]["window"]))
    assert (1920, 1080) in checked, "a GUI event in a window that is not 1280x720 was checked"
