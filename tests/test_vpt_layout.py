"""The real VPT recorder layout: vanishing counters, window size, GUI-scaled deltas, pauses,
VPT's integer camera, and file names that are not UTF-8 (real files, real stores, the CLI)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from vpt_fixtures import MILLI0, make_line, write_episode

from goalframe.sources import vpt
from goalframe.sources.vpt_recorder import PAUSE_GAP_MS, minecraft_gui_scale, window_from_options

DIRT = "minecraft.mine_block:minecraft.dirt"


def goalframe(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "goalframe.toolkit.cli", *args], capture_output=True, text=True
    )


def _read_one(root: Path):
    refs = vpt.discover(root)
    assert len(refs) == 1
    return vpt.read(refs[0])


def _stats_rows(r) -> list[tuple[int, str, int]]:
    names = r.array_attrs["states/stats/key"]["vocabulary"]
    a = r.arrays
    return [
        (int(f), names[k], int(v))
        for f, k, v in zip(a["states/stats/frame"], a["states/stats/key"], a["states/stats/value"])
    ]


# ---------------------------------------------------------------------------- vanishing counters


def test_a_counter_missing_from_stats_is_a_zero_row_and_counts_up_again(tmp_path):
    values = [3, 3, None, None, 2, 2]  # None: the counter is not listed (it went to 0)
    lines = [make_line(t, stats={} if v is None else {DIRT: v}) for t, v in enumerate(values)]
    for line, v in zip(lines, values):
        line["stats"] = {} if v is None else {DIRT: v}
    lines.append(make_line(6))
    del lines[6]["stats"]  # a line without stats tells nothing: the counter keeps its value
    lines.append(make_line(7, stats={DIRT: None}))  # nor does a null value
    lines[7]["stats"] = {DIRT: None}
    lines.append(make_line(8))
    lines[8]["stats"] = {DIRT: 4}
    write_episode(tmp_path, lines=lines)
    r = _read_one(tmp_path)
    assert _stats_rows(r) == [(0, DIRT, 3), (2, DIRT, 0), (4, DIRT, 2), (8, DIRT, 4)]
    assert r.attrs["quirks"]["vanished_counters"] == 1
    assert "non-zero" in r.array_attrs["states/stats/value"]["vanished"]


# ---------------------------------------------------------------------------- window and GUI scale


def test_minecraft_gui_scale_resolves_auto_and_limits():
    assert minecraft_gui_scale(0, 1280, 720) == 3  # auto: largest with a 320x240 GUI
    assert minecraft_gui_scale(2, 1280, 720) == 2
    assert minecraft_gui_scale(4, 640, 480) == 2  # too big for the framebuffer
    assert minecraft_gui_scale(0, 2560, 1440) == 6
    assert minecraft_gui_scale(3, 1280, 720, force_unicode=True) == 4


def test_window_from_options_reads_size_ratio_and_gui_factor():
    window, why = window_from_options(
        {
            "windowWidth": 1280,
            "windowHeight": 720,
            "framebufferWidth": 2560,
            "framebufferHeight": 1440,
            "framebufferToWindowRatio": 2.0,
            "guiScale": "2",
        }
    )
    assert why is None and window.size == (1280, 720) and window.gui_scale_factor == 1.0  # retina: 2 / 2
    window, _ = window_from_options({"windowWidth": "1920", "windowHeight": "1080", "guiScale": "0"})
    assert window.size == (1920, 1080) and window.framebuffer_to_window_ratio == 1.0
    assert window.gui_scale == 4 and window.gui_scale_factor == 4.0
    window, why = window_from_options({"fov": "0.0"})
    assert window.size == (1280, 720) and window.source == "default" and "windowWidth" in why
    assert window.gui_scale_factor is None


def test_window_size_from_options_is_recorded_and_warned(tmp_path):
    write_episode(
        tmp_path,
        3,
        options={
            "windowWidth": 1920,
            "windowHeight": 1080,
            "framebufferWidth": 1920,
            "framebufferHeight": 1080,
        },
    )
    r = _read_one(tmp_path)
    assert r.array_attrs["actions/mouse/x"]["window_size"] == [1920, 1080]
    assert r.attrs["window"]["width"] == 1920 and r.attrs["window"]["gui_scale_factor"] == 2.0
    assert [w for w in r.warnings if "window is 1920x1080, not 1280x720" in w and w.startswith(str(tmp_path))]
    usual = tmp_path / "usual"
    write_episode(usual, 3)
    r = _read_one(usual)
    assert r.array_attrs["actions/mouse/x"]["window_size"] == [1280, 720] and r.warnings == []


def _gui_lines() -> list[dict]:
    return [
        make_line(0, mouse={"dx": 10.0, "dy": -4.0}),
        make_line(1, isGuiOpen=True, mouse={"dx": 10.0, "dy": -4.0, "scaledX": 7.0}),
        make_line(2, isGuiOpen=True, mouse={"dx": -3.0, "dy": 0.0}),
        make_line(3, mouse={"dx": 0.0, "dy": 6.0}),
    ]


@pytest.mark.parametrize(
    "version, factor", [("6.9", 2.0), ("6.7", 2.0), ("5.8", 0.5), ("6.13", 1.0), (None, 1.0)]
)
def test_recorder_version_factor_on_gui_open_deltas_in_mouse_arrays_only(tmp_path, version, factor):
    write_episode(tmp_path, lines=_gui_lines(), version=version)
    r = _read_one(tmp_path)
    a = r.arrays
    np.testing.assert_array_equal(a["actions/mouse/gui_scaled"], [False, True, True, False])
    np.testing.assert_array_equal(
        a["actions/mouse/dx"], np.float32([10.0, 10.0 * factor, -3.0 * factor, 0.0])
    )
    np.testing.assert_array_equal(a["actions/mouse/dy"], np.float32([-4.0, -4.0 * factor, 0.0, 6.0]))
    np.testing.assert_array_equal(a["actions/mouse/scaled_x"][1], 7.0)  # positions are never rescaled
    # VPT's own conversion keeps the deltas as recorded
    np.testing.assert_allclose(
        a["actions/vpt/camera"][:, 1], np.float32([10.0, 10.0, -3.0, 0.0]) * 360 / 2400, rtol=1e-6
    )
    attrs = r.array_attrs["actions/mouse/dx"]
    assert attrs["recorder_version_factor"] == factor and attrs["recorder_version"] == version
    assert attrs["gui_scale_factor"] == 2.0 and "GUI scale factor" in attrs["gui_scaled"]


# ---------------------------------------------------------------------------- pauses


def test_a_pause_in_milli_is_flagged_not_lost_frames(tmp_path):
    lines = [make_line(t) for t in range(6)]
    for t in range(4, 6):
        lines[t]["milli"] += 12_000  # paused 12 s between ticks 3 and 4; tick runs on
    lines[2]["milli"] += PAUSE_GAP_MS // 2  # a lagging tick is no pause
    for t in range(3, 6):
        lines[t]["milli"] += PAUSE_GAP_MS // 2
    write_episode(tmp_path, lines=lines)
    r = _read_one(tmp_path)
    assert r.n_frames == 6 and r.videos["pov"].n_frames == 6
    np.testing.assert_array_equal(r.arrays["states/paused_before"], [False, False, False, False, True, False])
    assert r.arrays["states/milli"][4] - r.arrays["states/milli"][3] == 12_050
    np.testing.assert_array_equal(r.timestamps, r.arrays["states/milli"] * 1_000_000)  # wall clock kept
    assert r.attrs["quirks"]["pauses"] == 1 and r.attrs["quirks"]["paused_ms"] == 12_050
    assert [w for w in r.warnings if "paused 1 time(s), 12.1 s" in w and "no frames are missing" in w]
    assert r.array_attrs["states/paused_before"]["threshold_ms"] == PAUSE_GAP_MS


def test_missing_milli_is_no_pause(tmp_path):
    lines = [make_line(t) for t in range(4)]
    del lines[1]["milli"]
    lines[2]["milli"] = MILLI0 + 100
    write_episode(tmp_path, lines=lines)
    assert not _read_one(tmp_path).arrays["states/paused_before"].any()


# ---------------------------------------------------------------------------- truncate camera through the CLI


def test_truncate_camera_on_the_cli_gives_vpt_integer_degrees(tmp_path):
    lines = [make_line(0, mouse={"dx": 24.0, "dy": -13.0}), make_line(1, mouse={"dx": -7.0, "dy": 100.0})]
    write_episode(tmp_path / "raw", lines=lines)
    from goalframe.storage import open_dataset

    floats, ints = tmp_path / "f.zarr", tmp_path / "i.zarr"
    assert goalframe("ingest", "vpt", str(tmp_path / "raw"), "--out", str(floats)).returncode == 0
    result = goalframe("ingest", "vpt", str(tmp_path / "raw"), "--out", str(ints), "--truncate-camera")
    assert result.returncode == 0, result.stderr
    f, i = open_dataset(floats), open_dataset(ints)
    episode = f.episodes[0]
    np.testing.assert_allclose(
        f.array(episode, "actions/vpt/camera"), [[-1.95, 3.6], [15.0, -1.05]], rtol=1e-6
    )
    np.testing.assert_array_equal(i.array(episode, "actions/vpt/camera"), [[-1.0, 3.0], [15.0, -1.0]])
    assert (
        i.meta(episode).source["truncate_camera"] is True
        and f.meta(episode).source["truncate_camera"] is False
    )
    assert "truncated" in i.array_attrs(episode, "actions/vpt/camera")["conversion"]
    assert i.info.steps[-1].params["truncate_camera"] is True
    np.testing.assert_array_equal(i.array(episode, "actions/mouse/dx"), f.array(episode, "actions/mouse/dx"))


# ---------------------------------------------------------------------------- odd file names


def _rename_bytes(episode, old: bytes, new: bytes) -> None:
    for path in (episode.jsonl, episode.mp4, episode.options):
        name = os.fsencode(path.name).replace(old, new)
        os.rename(os.fsencode(path), os.path.join(os.fsencode(path.parent), name))


def test_a_file_name_with_non_utf8_bytes_is_ingested_with_its_raw_name_kept(tmp_path):
    episode = write_episode(tmp_path / "raw", 4, stem="odd-0000-20220101-000000")
    _rename_bytes(episode, b"odd", b"o\xffd")
    out = tmp_path / "ds.zarr"
    result = goalframe("ingest", "vpt", str(tmp_path / "raw"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "not UTF-8" in result.stdout + result.stderr and "Traceback" not in result.stderr
    from goalframe.storage import open_dataset

    ds = open_dataset(out)
    assert ds.episodes == ["o_d-0000-20220101-000000"]
    meta = ds.meta(ds.episodes[0])
    assert meta.raw_path.endswith("o\ufffdd-0000-20220101-000000")
    assert meta.source["raw_name"] == "o\\xffd-0000-20220101-000000"
    assert ds.length(ds.episodes[0]) == 4
    assert goalframe("verify", str(out)).returncode == 0
