"""Synthetic VPT recordings: real files, reference jsonl keys, truth consistency, quirks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from goalframe.media.video import iter_frames, probe_video
from goalframe.sim.vpt.constants import GROUND_Y, VERSION
from goalframe.sim.vpt.geometry import look_angles
from goalframe.sim.vpt.gui import SLOT_CRAFT0, SLOT_OUTPUT, gui_object_id
from goalframe.sim.vpt.synth import synthesize_vpt
from goalframe.sim.vpt.world import VptWorld

MOUSE_KEYS = {
    "x": float,
    "y": float,
    "dx": float,
    "dy": float,
    "scaledX": float,
    "scaledY": float,
    "dwheel": float,
    "buttons": list,
    "newButtons": list,
}
KEYBOARD_KEYS = {"keys": list, "newKeys": list, "chars": str}
TOP_KEYS = {
    "mouse": dict,
    "keyboard": dict,
    "isGuiOpen": bool,
    "isGuiInventory": bool,
    "hotbar": int,
    "yaw": float,
    "pitch": float,
    "xpos": float,
    "ypos": float,
    "zpos": float,
    "tick": int,
    "milli": int,
    "inventory": list,
    "serverTick": int,
    "serverTickDurationMs": float,
    "stats": dict,
}
TRUTH_ARRAYS = {
    "object_ids": np.uint16,
    "yaw": np.float64,
    "pitch": np.float64,
    "xpos": np.float64,
    "ypos": np.float64,
    "zpos": np.float64,
    "hotbar": np.int8,
    "is_gui_open": np.bool_,
    "is_gui_inventory": np.bool_,
    "mouse_x": np.float64,
    "mouse_y": np.float64,
    "mouse_dx": np.float64,
    "mouse_dy": np.float64,
    "mouse_dwheel": np.float64,
    "mouse_buttons": np.bool_,
    "tick": np.int64,
    "milli": np.int64,
}
FRAMES = 120


def _read_lines(path: Path) -> tuple[list[dict], bytes]:
    raw = path.read_bytes()
    out = []
    for chunk in raw.split(b"\n"):
        if not chunk:
            continue
        try:
            out.append(json.loads(chunk.decode("utf-8", errors="replace")))
        except json.JSONDecodeError:
            out.append(None)  # a truncated last line
    return out, raw


def _truth(out: Path, jsonl: Path) -> tuple[dict, dict]:
    t = json.loads((out / "truth" / f"{jsonl.stem}.json").read_text())
    z = np.load(out / "truth" / f"{jsonl.stem}.npz")
    return t, {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    out = tmp_path_factory.mktemp("vpt_clean")
    paths = synthesize_vpt(out, episodes=3, seed=5, frames=FRAMES, quirk_rate=0.0)
    return out, paths


def test_file_set_and_index(clean):
    out, paths = clean
    assert len(paths) == 3
    index = json.loads((out / f"index_{VERSION}.json").read_text())
    assert index["basedir"] == str(out)
    assert index["relpaths"] == [f"{VERSION}/{p.stem}.mp4" for p in paths]
    windows = []
    for p in paths:
        assert p.parent == out / VERSION and p.suffix == ".jsonl"
        parts = p.stem.split("-")
        assert len(parts[-3]) == 12 and len(parts[-2]) == 8 and len(parts[-1]) == 6
        opts = json.loads((p.parent / f"{p.stem}-options.json").read_text())
        truth, _ = _truth(out, p)
        assert [opts["windowWidth"], opts["windowHeight"]] == truth["layout"]["window"]
        assert [opts["framebufferWidth"], opts["framebufferHeight"]] == truth["layout"]["framebuffer"]
        assert opts["framebufferToWindowRatio"] == opts["framebufferWidth"] / opts["windowWidth"]
        windows.append((opts["windowWidth"], opts["windowHeight"], opts["framebufferWidth"]))
    assert sorted(windows) == [
        (1280, 720, 1280),
        (1280, 720, 2560),
        (1920, 1080, 1920),
    ]  # usual, 2x display, bigger


def test_mp4_and_frame_counts(clean):
    out, paths = clean
    for p in paths:
        probe = probe_video(p.with_suffix(".mp4"))
        assert (probe.codec, probe.width, probe.height, probe.fps) == ("h264", 640, 360, 20.0)
        truth, _ = _truth(out, p)
        n_lines = truth["n_lines"]
        assert n_lines <= probe.n_frames <= n_lines + 1
        assert probe.n_frames == truth["n_mp4_frames"] == FRAMES


def test_jsonl_keys_types_and_cumulative_stats(clean):
    out, paths = clean
    for p in paths:
        lines, raw = _read_lines(p)
        assert raw.endswith(b"\n") and len(lines) == FRAMES
        prev_stats: dict = {}
        layout = json.loads((out / "truth" / f"{p.stem}.json").read_text())["layout"]
        for i, obj in enumerate(lines):
            assert set(obj) == set(TOP_KEYS)
            for k, typ in TOP_KEYS.items():
                assert isinstance(obj[k], typ) and not (typ is int and isinstance(obj[k], bool)), (i, k)
            assert set(obj["mouse"]) == set(MOUSE_KEYS)
            for k, typ in MOUSE_KEYS.items():
                assert isinstance(obj["mouse"][k], typ), (i, k)
            assert set(obj["keyboard"]) == set(KEYBOARD_KEYS)
            assert all(isinstance(k, str) and k.startswith("key.") for k in obj["keyboard"]["keys"])
            assert all(set(it) == {"type", "quantity"} for it in obj["inventory"])
            assert obj["tick"] == i and 0 <= obj["hotbar"] <= 8
            assert all(v > 0 for v in obj["stats"].values()), "the recorder lists only non-zero counters"
            resets = {r["stat"] for r in layout["counter_resets"] if r["frame"] == i}
            for k, v in prev_stats.items():
                assert obj["stats"].get(k, 0) >= v or k in resets, (i, k)
            prev_stats = obj["stats"]


def test_truth_arrays_match_jsonl(clean):
    out, paths = clean
    for p in paths:
        lines, _ = _read_lines(p)
        truth, arr = _truth(out, p)
        T = truth["n_lines"]
        assert set(arr) == set(TRUTH_ARRAYS)
        for k, dt in TRUTH_ARRAYS.items():
            assert arr[k].dtype == dt and arr[k].shape[0] == T, k
        assert arr["object_ids"].shape == (T, 360, 640) and arr["mouse_buttons"].shape == (T, 3)
        for t, obj in enumerate(lines[:T]):
            assert arr["yaw"][t] == obj["yaw"] and arr["zpos"][t] == obj["zpos"]
            assert (
                arr["mouse_dx"][t] == obj["mouse"]["dx"] and arr["mouse_dwheel"][t] == obj["mouse"]["dwheel"]
            )
            assert arr["hotbar"][t] == obj["hotbar"] and arr["is_gui_open"][t] == obj["isGuiOpen"]
            assert arr["milli"][t] == obj["milli"] and arr["tick"][t] == obj["tick"]
            assert list(np.nonzero(arr["mouse_buttons"][t])[0]) == obj["mouse"]["buttons"]
            assert truth["keys"][t] == obj["keyboard"]["keys"] and truth["inventory"][t] == obj["inventory"]
        assert truth["final_stats"] == lines[T - 1]["stats"]
        known = {o["id"] for o in truth["objects"]}
        assert set(np.unique(arr["object_ids"]).tolist()) - {0} <= known
        assert all(o["kind"] in ("block", "mob", "gui") for o in truth["objects"])


def test_events_match_stat_increases_and_masks(clean):
    out, paths = clean
    n_prompt = 0
    types = set()
    for p in paths:
        lines, _ = _read_lines(p)
        truth, arr = _truth(out, p)
        T = truth["n_lines"]
        from_stats: dict[tuple[int, str], int] = {}
        for t in range(1, T):
            a, b = lines[t - 1]["stats"], lines[t]["stats"]
            for k, v in b.items():
                if not k.startswith("minecraft.custom:") and v > a.get(k, 0):
                    from_stats[(t, k)] = v - a.get(k, 0)
        from_events: dict[tuple[int, str], int] = {}
        for e in truth["events"]:
            key = (e["frame"], e["stat"])
            from_events[key] = from_events.get(key, 0) + e["delta"]
            assert e["stat"] == f"minecraft.{e['type']}:minecraft.{e['object']}"
            assert e["gui_open"] == lines[e["frame"]]["isGuiOpen"]
            types.add(e["type"])
        assert from_events == from_stats
        objects = {o["id"]: o for o in truth["objects"]}
        for e in truth["events"]:
            if (
                e["type"] in ("mine_block", "kill_entity", "craft_item", "use_item")
                and e["object_id"] is not None
            ):
                assert objects[e["object_id"]]["type"] == e["object"]
            if e["type"] in ("mine_block", "kill_entity"):
                row, col = e["prompt"]
                assert (row, col) == (180, 320)
                assert arr["object_ids"][e["frame"], row, col] == e["object_id"]
                assert e["visible"]
                n_prompt += 1
    assert n_prompt >= 1  # at least one mine/kill event was checked against the mask
    assert len(types) >= 2


def test_real_layout_window_pause_and_vanishing_counter(clean):
    """The recorder's layout: window pixels, a pause in milli, a counter that vanishes (seed 5:
    a start counter vanishes for good; the one that comes back is checked in test_vpt_ingest)."""
    out, paths = clean
    seen = {"pause": 0, "reset": 0, "gui": 0}
    for p in paths:
        lines, _ = _read_lines(p)
        truth, arr = _truth(out, p)
        layout = truth["layout"]
        width, height = layout["window"]
        ratio = layout["framebuffer"][0] / width
        assert layout["gui_scale_factor"] == 2 / ratio
        for obj in lines:
            mouse = obj["mouse"]
            if not obj["isGuiOpen"]:
                assert (mouse["x"], mouse["y"]) == (width / 2, height / 2)
            else:
                seen["gui"] += 1
                assert 0 <= mouse["x"] <= width and 0 <= mouse["y"] <= height
                assert mouse["scaledX"] == mouse["x"] / layout["gui_scale_factor"]
        milli = np.diff(arr["milli"])
        assert (np.diff(arr["tick"]) == 1).all(), "tick runs on through a pause"
        pauses = [{"frame": int(t) + 1, "ms": int(milli[t])} for t in np.flatnonzero(milli > 1000)]
        assert pauses == layout["pauses"]
        seen["pause"] += len(pauses)
        for reset in layout["counter_resets"]:
            seen["reset"] += 1
            name, frame, back = reset["stat"], reset["frame"], reset["returned"]
            assert lines[frame - 1]["stats"][name] == reset["value"] > 0
            gone = range(frame, back if back is not None else len(lines))
            assert all(name not in lines[t]["stats"] for t in gone)
            if back is not None:
                assert lines[back]["stats"][name] == sum(
                    e["delta"] for e in truth["events"] if e["frame"] == back and e["stat"] == name
                )
    assert seen["pause"] >= 1 and seen["reset"] >= 1 and seen["gui"] >= 1


def test_deterministic_jsonl(tmp_path):
    a = synthesize_vpt(tmp_path / "a", episodes=1, seed=42, frames=40, quirk_rate=0.5)
    b = synthesize_vpt(tmp_path / "b", episodes=1, seed=42, frames=40, quirk_rate=0.5)
    assert a[0].name == b[0].name
    assert a[0].read_bytes() == b[0].read_bytes()
    za, zb = (
        np.load(tmp_path / "a" / "truth" / f"{a[0].stem}.npz"),
        np.load(tmp_path / "b" / "truth" / f"{b[0].stem}.npz"),
    )
    assert np.array_equal(za["object_ids"], zb["object_ids"])
    c = synthesize_vpt(tmp_path / "c", episodes=1, seed=43, frames=40, quirk_rate=0.5)
    assert c[0].read_bytes() != a[0].read_bytes()
    # another process with another hash seed writes the same bytes
    code = (
        "import sys; from pathlib import Path; from goalframe.sim.vpt.synth import synthesize_vpt; "
        "synthesize_vpt(Path(sys.argv[1]), episodes=1, seed=42, frames=40, quirk_rate=0.5)"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "d")], check=True, env=env, timeout=120)
    assert (tmp_path / "d" / VERSION / a[0].name).read_bytes() == a[0].read_bytes()


def test_quirks_all_and_none(tmp_path):
    out = tmp_path / "q"
    paths = synthesize_vpt(out, episodes=2, seed=3, frames=60, quirk_rate=1.0)
    seen = {"extra_frame": 0, "truncated_last_line": 0}
    for p in paths:
        truth, arr = _truth(out, p)
        q = truth["quirks"]
        assert q["stuck_attack"] and q["non_utf8_line"] is not None
        assert not (q["extra_frame"] and q["truncated_last_line"])
        lines, raw = _read_lines(p)
        assert lines[0]["mouse"]["newButtons"] == [0] and 0 in lines[0]["mouse"]["buttons"]
        assert arr["mouse_buttons"][0, 0]
        bad = raw.split(b"\n")[q["non_utf8_line"]]
        assert b"\xff" in bad
        with pytest.raises(UnicodeDecodeError):
            bad.decode("utf-8")
        n_frames = probe_video(p.with_suffix(".mp4")).n_frames
        assert n_frames == truth["n_mp4_frames"] == truth["n_lines"] + 1
        if q["truncated_last_line"]:
            seen["truncated_last_line"] += 1
            assert not raw.endswith(b"\n") and lines[-1] is None
            assert truth["n_lines"] == 59 and arr["object_ids"].shape[0] == 59
        if q["extra_frame"]:
            seen["extra_frame"] += 1
            assert raw.endswith(b"\n") and len(lines) == 60 == truth["n_lines"]
            frames = list(iter_frames(p.with_suffix(".mp4")))
            assert np.abs(frames[-1].astype(int) - frames[-2].astype(int)).mean() < 2.0
    assert seen == {"extra_frame": 1, "truncated_last_line": 1}
    out0 = tmp_path / "n"
    for p in synthesize_vpt(out0, episodes=2, seed=3, frames=40, quirk_rate=0.0):
        truth, _ = _truth(out0, p)
        assert truth["quirks"] == {
            "extra_frame": False,
            "stuck_attack": False,
            "truncated_last_line": False,
            "non_utf8_line": None,
        }
        lines, raw = _read_lines(p)
        raw.decode("utf-8")
        assert lines[0]["mouse"]["newButtons"] == [] and all(ln is not None for ln in lines)


# ----------------------------------------------------------------------------- the world as an env


def _noop(**kw):
    act = {
        k: 0
        for k in (
            "attack",
            "back",
            "forward",
            "jump",
            "left",
            "right",
            "sneak",
            "sprint",
            "use",
            "drop",
            "inventory",
            *(f"hotbar.{i}" for i in range(1, 10)),
        )
    }
    act["camera"] = np.zeros(2)
    act.update(kw)
    return act


def _look(w: VptWorld, point) -> None:
    yaw, pitch = look_angles(w.eye, np.asarray(point, float))
    w.step(_noop(camera=np.array([pitch - w.pitch, (yaw - w.yaw + 180) % 360 - 180])))


def test_world_mine_place_and_determinism():
    w = VptWorld()
    w.reset(9)
    ox, oz = w.origin
    i, k = w._cell(w.x, w.z)
    cell = (i, k + 2)
    point = (ox + cell[0] + 0.5, float(GROUND_Y), oz + cell[1] + 0.5)
    _look(w, point)
    tgt = w.target()
    assert tgt is not None and tgt.kind == "ground"
    oid, name = tgt.object_id, w.object_info(tgt.object_id)["type"]
    for _ in range(60):
        ev = w.step(_noop(attack=1))
        if ev:
            break
    mined = [e for e in ev if e["type"] == "mine_block"]
    assert mined and mined[0]["object_id"] == oid and mined[0]["object"] == name
    rgb, ids = w.render()
    assert rgb.shape == (360, 640, 3) and rgb.dtype == np.uint8 and ids.dtype == np.uint16
    assert ids[180, 320] == oid  # still visible on the frame of the stat increase
    w.step(_noop())
    assert w.render()[1][180, 320] != oid
    # place a block on the neighbouring cell
    w.give("dirt", 3, slot=4)
    w.step(_noop(**{"hotbar.5": 1}))
    _look(w, (ox + cell[0] + 0.5, float(GROUND_Y), oz + cell[1] + 1.5))
    ev = w.step(_noop(use=1))
    assert [e["stat"] for e in ev] == ["minecraft.use_item:minecraft.dirt"]
    assert w.render()[1][180, 320] == ev[0]["object_id"]
    assert w.stats["minecraft.use_item:minecraft.dirt"] == 1 and w.inventory["dirt"] == 2
    # same seed, same actions -> same frames
    w2 = VptWorld()
    w2.reset(9)
    w.reset(9)
    for t in range(5):
        act = _noop(forward=1, camera=np.array([0.3, 1.5 * t]))
        w.step(act)
        w2.step(act)
    a, b = w.render(), w2.render()
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_world_kill_and_craft():
    w = VptWorld()
    w.reset(4)
    mob = w.mobs[0]
    for pos in [p for p in w.blocks if abs(p[0] - mob.x) < 5 and abs(p[2] - mob.z) < 5]:
        del w.blocks[pos]  # a clear field around the mob
    w.renderer.invalidate()
    killed = None
    for _ in range(200):
        mob.state, mob.state_ticks, mob.panic_ticks = "idle", 10_000, 0
        w.x, w.z = mob.x + 1.8, mob.z  # keep within reach despite knockback
        _look(w, (mob.x, mob.y + 0.6, mob.z))
        tgt = w.target()
        ev = w.step(_noop(attack=int(tgt is not None and tgt.object_id == mob.id)))
        kills = [e for e in ev if e["type"] == "kill_entity"]
        if kills:
            killed = kills[0]
            break
    assert killed is not None and killed["object_id"] == mob.id and killed["object"] == mob.kind
    assert w.render()[1][180, 320] == mob.id
    # craft planks in the inventory screen
    w.give("oak_log", 3, slot=9)
    w.step(_noop(inventory=1))
    assert w.gui_open and w.gui_inventory

    def click(slot, button="attack"):
        x, y = w.gui.slot_center(slot)
        cam = np.array([(y - w.mouse_y) * 0.15, (x - w.mouse_x) * 0.15])
        w.step(_noop(camera=cam))
        return w.step(_noop(**{button: 1}))

    click(9)
    assert w.held == ["oak_log", 3]
    click(SLOT_CRAFT0)
    assert w.gui.recipe_output() == ("oak_planks", 4)
    ev = click(SLOT_OUTPUT)
    assert ev[0]["stat"] == "minecraft.craft_item:minecraft.oak_planks" and ev[0]["delta"] == 4
    rgb, ids = w.render()
    cy, cx = int(w.mouse_y * 0.5), int(w.mouse_x * 0.5)
    assert ids[cy, cx] == ev[0]["object_id"] == gui_object_id(SLOT_OUTPUT, "oak_planks")
    assert w.held == ["oak_planks", 4]
    w.step(_noop(inventory=1))
    assert not w.gui_open and w.inventory == {"oak_planks": 4, "oak_log": 2}
