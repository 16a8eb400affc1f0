"""Synthetic VPT contractor recordings with ground truth.

``synthesize_vpt`` plays seeded scripted players in :class:`~goalframe.sim.vpt.world.VptWorld`
and writes the file set of real contractor data (see ``raw-formats.md``, section VPT)::

    OUT/6.13/<alias>-<session>-<YYYYMMDD>-<HHMMSS>.mp4            h264 640x360 20 fps
    OUT/6.13/<stem>.jsonl                                          one JSON object per tick
    OUT/6.13/<stem>-options.json                                   game options + window size
    OUT/index_6.13.json                                            {"basedir", "relpaths"}

and, apart from it, the ground truth a reader and annotator can be checked against::

    OUT/truth/<stem>.npz    object_ids (T, 360, 640) uint16 and the per-tick values written
    OUT/truth/<stem>.json   quirks, objects, stat events, keys, inventory, final stats

T is the number of complete jsonl lines. Quirks (each with probability ``quirk_rate``):
``extra_frame`` (the last frame written twice), ``stuck_attack`` (attack held from before
the recording: first line ``newButtons == [0]``, button 0 listed until a fresh press, while
the game does not attack), ``truncated_last_line`` (the final line cut inside its JSON, no
newline; its frame is in the mp4) and ``non_utf8_line`` (raw byte 0xFF in ``keyboard.chars``).
An episode never has both ``extra_frame`` and ``truncated_last_line``, so the mp4 always
holds T or T + 1 frames.

The real recorder's layout, whatever ``quirk_rate`` (:class:`Layout`, by episode index so
that any two or three episodes show each; truth ``layout``): the window cycles through
1280x720, 1920x1080 and a 1280x720 window on a 2x (retina) framebuffer, and the jsonl is
written in that window's coordinates (``mouse.x, y``; GUI-open ``dx, dy, scaledX, scaledY``
divided by the GUI scale factor ``guiScale / framebufferToWindowRatio``); even episodes
have one stats counter that vanishes (reset to 0, no longer listed) and comes back counted
from 0 with its next event; odd episodes have a pause: ``milli`` jumps by seconds between
two lines while ``tick`` runs on. None of it changes a rendered frame, an event or a mask:
the world keeps its cursor in 1280x720 coordinates.

Truth events (``<stem>.json["events"]``) are the increases of non-``custom`` stats, one per
(tick, stat, object): ``frame`` is the tick whose stats line first shows the increase,
``delta`` the increase, ``object_id`` the world object involved (the mined block, killed mob,
placed block, or the crafting output slot as a GUI id; the item entity for pickup and drop
when they are drawn, else null; null for eating),
``prompt`` the (row, col) prompt point on that frame (frame centre, or the cursor
``(mouse.x, mouse.y) * 360 / windowHeight`` when a GUI is open) and ``visible`` whether
``object_ids[frame][prompt] == object_id``. The world shows a mined block or killed mob on
the event frame and removes it from the next, so for mining and hunting the event frame is
the last frame where the target is visible under the crosshair.
"""

from __future__ import annotations

import json
import random
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from goalframe.media.video import write_mp4
from goalframe.sim.vpt.choose_target import scenario_same_kind
from goalframe.sim.vpt.constants import (
    FPS,
    HEIGHT,
    VERSION,
    WIDTH,
)
from goalframe.sim.vpt.episode_layout import (
    NON_UTF8_PLACEHOLDER,
    Layout,
    episode_layout,
)
from goalframe.sim.vpt.recorder import (
    _env_action,
    _new_world,
    _options_json,
    _plan_counter_reset,
    _prompt_point,
    _Recorder,
    _stem,
)


def synthesize_episode(
    out: Path,
    stem: str,
    start: datetime,
    seed: int,
    frames: int,
    quirks: dict[str, Any],
    draw_cursor: bool = False,
    layout: Layout | None = None,
    scenario: str = "default",
    item_entities: bool = False,
) -> Path:
    """Write one episode (mp4, jsonl, options, truth); returns the jsonl path."""
    layout = layout or episode_layout(0, seed, frames)
    rng = random.Random(seed)
    world, player = _new_world(rng, scenario, item_entities)
    rec = _Recorder(random.Random(rng.randrange(2**31)), start, quirks["stuck_attack"], layout)
    vdir = out / VERSION
    tdir = out / "truth"
    vdir.mkdir(parents=True, exist_ok=True)
    tdir.mkdir(parents=True, exist_ok=True)

    n_valid = frames - 1 if quirks["truncated_last_line"] else frames
    non_utf8 = quirks["non_utf8_line"]
    # the npz is written as np.savez_compressed would, object_ids streamed frame by frame
    npz = zipfile.ZipFile(tdir / f"{stem}.npz", "w", compression=zipfile.ZIP_DEFLATED)
    ids_fh = npz.open("object_ids.npy", "w", force_zip64=True)
    np.lib.format.write_array_header_1_0(
        ids_fh,
        {
            "descr": np.lib.format.dtype_to_descr(np.dtype(np.uint16)),
            "fortran_order": False,
            "shape": (n_valid, HEIGHT, WIDTH),
        },
    )
    f64 = {
        k: np.zeros(n_valid)
        for k in (
            "yaw",
            "pitch",
            "xpos",
            "ypos",
            "zpos",
            "mouse_x",
            "mouse_y",
            "mouse_dx",
            "mouse_dy",
            "mouse_dwheel",
        )
    }
    hotbar = np.zeros(n_valid, np.int8)
    gui = np.zeros(n_valid, bool)
    gui_inv = np.zeros(n_valid, bool)
    buttons_arr = np.zeros((n_valid, 3), bool)
    ticks = np.zeros(n_valid, np.int64)
    millis = np.zeros(n_valid, np.int64)
    events: list[dict[str, Any]] = []
    keys_per_tick: list[list[str]] = []
    inv_per_tick: list[list[dict[str, Any]]] = []
    lines: list[bytes] = []
    final_stats: dict[str, int] = {}
    seen = np.zeros(65536, bool)  # ids shown on some frame
    reset = (
        None
        if layout.counter_reset_tick is None
        else _plan_counter_reset(seed, frames, n_valid, layout.counter_reset_tick, scenario)
    )
    resets: list[dict[str, Any]] = []

    def frames_iter() -> Iterator[np.ndarray]:
        nonlocal final_stats
        last = None
        for t in range(frames):
            inp = player.next_input()
            step_events = world.step(_env_action(inp, world.gui_open))
            if reset is not None and t == reset[0] and reset[1] in world.stats:
                # the counter goes to 0, so the recorder stops listing it
                resets.append({"frame": t, "stat": reset[1], "value": world.stats.pop(reset[1])})
            rgb, ids = world.render(cursor=draw_cursor)
            obj, written_buttons = rec.line(t, inp, world)
            if non_utf8 is not None and t == non_utf8:
                obj["keyboard"]["chars"] = obj["keyboard"]["chars"] + NON_UTF8_PLACEHOLDER
            text = json.dumps(obj, separators=(",", ":"))
            data = text.encode("utf-8").replace(json.dumps(NON_UTF8_PLACEHOLDER)[1:-1].encode(), b"\xff")
            if t < n_valid:
                lines.append(data + b"\n")
                ids_fh.write(np.ascontiguousarray(ids, dtype=np.uint16).tobytes())
                seen[ids] = True
                for k, v in (
                    ("yaw", obj["yaw"]),
                    ("pitch", obj["pitch"]),
                    ("xpos", obj["xpos"]),
                    ("ypos", obj["ypos"]),
                    ("zpos", obj["zpos"]),
                    ("mouse_x", obj["mouse"]["x"]),
                    ("mouse_y", obj["mouse"]["y"]),
                    ("mouse_dx", obj["mouse"]["dx"]),
                    ("mouse_dy", obj["mouse"]["dy"]),
                    ("mouse_dwheel", obj["mouse"]["dwheel"]),
                ):
                    f64[k][t] = v
                hotbar[t] = obj["hotbar"]
                gui[t] = obj["isGuiOpen"]
                gui_inv[t] = obj["isGuiInventory"]
                for b in written_buttons:
                    if 0 <= b < 3:
                        buttons_arr[t, b] = True
                ticks[t] = obj["tick"]
                millis[t] = obj["milli"]
                keys_per_tick.append(list(obj["keyboard"]["keys"]))
                inv_per_tick.append(obj["inventory"])
                final_stats = dict(obj["stats"])
                row, col = _prompt_point(obj["isGuiOpen"], world.mouse_x, world.mouse_y)
                merged: dict[tuple[str, Any], dict[str, Any]] = {}
                for ev in step_events:
                    k = (ev["stat"], ev["object_id"])
                    if k in merged:
                        merged[k]["delta"] += ev["delta"]
                    else:
                        merged[k] = dict(ev)
                for ev in merged.values():
                    oid = ev["object_id"]
                    events.append(
                        {
                            "frame": t,
                            "stat": ev["stat"],
                            "type": ev["type"],
                            "object": ev["object"],
                            "object_id": oid,
                            "delta": ev["delta"],
                            "gui_open": obj["isGuiOpen"],
                            "prompt": [row, col],
                            "visible": bool(oid is not None and int(ids[row, col]) == oid),
                        }
                    )
            else:  # the truncated last line: cut inside its JSON
                cut = max(10, min(len(data) - 10, int(len(data) * rec.rng.uniform(0.3, 0.8))))
                lines.append(data[:cut])
            last = rgb
            yield rgb
        if quirks["extra_frame"] and last is not None:
            yield last

    mp4 = vdir / f"{stem}.mp4"
    try:
        n_mp4 = write_mp4(mp4, frames_iter(), fps=FPS)
        ids_fh.close()
        arrays = {
            "yaw": f64["yaw"],
            "pitch": f64["pitch"],
            "xpos": f64["xpos"],
            "ypos": f64["ypos"],
            "zpos": f64["zpos"],
            "hotbar": hotbar,
            "is_gui_open": gui,
            "is_gui_inventory": gui_inv,
            "mouse_x": f64["mouse_x"],
            "mouse_y": f64["mouse_y"],
            "mouse_dx": f64["mouse_dx"],
            "mouse_dy": f64["mouse_dy"],
            "mouse_dwheel": f64["mouse_dwheel"],
            "mouse_buttons": buttons_arr,
            "tick": ticks,
            "milli": millis,
        }
        for name, arr in arrays.items():
            with npz.open(f"{name}.npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.ascontiguousarray(arr), allow_pickle=False)
    finally:
        if not ids_fh.closed:
            ids_fh.close()
        npz.close()
    jsonl = vdir / f"{stem}.jsonl"
    jsonl.write_bytes(b"".join(lines))
    (vdir / f"{stem}-options.json").write_text(json.dumps(_options_json(rng, layout), indent=2))

    seen[0] = False
    object_ids = sorted(
        {int(i) for i in np.nonzero(seen)[0]} | {e["object_id"] for e in events if e["object_id"]}
    )
    objects = [{"id": i, **world.object_info(i)} for i in object_ids]
    truth = {
        "stem": stem,
        "version": VERSION,
        "seed": seed,
        "n_lines": n_valid,
        "n_mp4_frames": n_mp4,
        "quirks": {
            "extra_frame": bool(quirks["extra_frame"]),
            "stuck_attack": bool(quirks["stuck_attack"]),
            "truncated_last_line": bool(quirks["truncated_last_line"]),
            "non_utf8_line": non_utf8,
        },
        "layout": _layout_truth(layout, millis, resets, events),
        "objects": objects,
        "events": events,
        "keys": keys_per_tick,
        "inventory": inv_per_tick,
        "final_stats": final_stats,
    }
    if scenario != "default":  # the candidates and which one is the goal
        truth["scenario"] = player.layout.to_json()
    (tdir / f"{stem}.json").write_text(json.dumps(truth))
    return jsonl


def _layout_truth(
    layout: Layout, millis: np.ndarray, resets: list[dict[str, Any]], events: list[dict[str, Any]]
) -> dict[str, Any]:
    """What the recorder's layout put in this episode, for the reader's tests."""
    pauses = []
    if layout.pause_tick is not None and layout.pause_tick < len(millis):
        t = layout.pause_tick
        pauses.append({"frame": t, "ms": int(millis[t] - millis[t - 1])})
    for reset in resets:
        back = [e["frame"] for e in events if e["stat"] == reset["stat"] and e["frame"] > reset["frame"]]
        reset["returned"] = back[0] if back else None
    return {
        "window": list(layout.window),
        "framebuffer": list(layout.framebuffer),
        "gui_scale_factor": layout.gui_scale_factor,
        "pauses": pauses,
        "counter_resets": resets,
    }


def synthesize_vpt(
    out: Path,
    episodes: int,
    seed: int,
    frames: int = 400,
    quirk_rate: float = 0.3,
    progress: Callable[[int], None] | None = None,
    *,
    draw_cursor: bool = False,
    scenario: str = "default",
    item_entities: bool = False,
) -> list[Path]:
    """Write ``episodes`` synthetic contractor recordings under ``out``; returns the jsonl paths.

    ``progress(n)`` is called after each episode with the number of frames it recorded.
    Same ``seed`` and arguments give byte-identical jsonl files (in any process).
    Like the real recorder, the mp4 shows GUI screens without the mouse cursor (VPT's loader
    draws it at ``(mouse.x, mouse.y) * 360/720``); ``draw_cursor=True`` burns it in.
    ``scenario`` (:data:`~goalframe.sim.vpt.choose_target.SCENARIOS`): ``default`` is free
    play; ``choose-target`` / ``choose-target-same`` place three candidate blocks around the
    player, who mines the goal one (truth ``scenario``: candidates and goal).
    ``item_entities=True`` draws drops as the small floating item entities they are
    (:mod:`~goalframe.sim.vpt.items`): a pickup's or drop's truth ``object_id`` is then its
    item, kind ``item``; no random stream is drawn for them, so jsonl, events and every other
    object stay as without.
    """
    out = Path(out)
    if frames < 2:
        raise ValueError("frames must be >= 2")
    if scenario != "default":
        scenario_same_kind(scenario)  # a one-line error for an unknown name
    rng = random.Random(seed)
    used: set[str] = set()
    paths: list[Path] = []
    relpaths: list[str] = []
    for e in range(episodes):
        ep_seed = rng.randrange(2**63)
        stem, start = _stem(rng, used)
        q = {
            k: rng.random() < quirk_rate
            for k in ("extra_frame", "stuck_attack", "truncated_last_line", "non_utf8")
        }
        if q["extra_frame"] and q["truncated_last_line"]:
            q["extra_frame" if e % 2 == 0 else "truncated_last_line"] = False
        n_valid = frames - 1 if q["truncated_last_line"] else frames
        non_utf8 = rng.randrange(1, n_valid) if q.pop("non_utf8") and n_valid > 1 else None
        q["non_utf8_line"] = non_utf8
        layout = episode_layout(e, ep_seed, frames)
        paths.append(
            synthesize_episode(
                out, stem, start, ep_seed, frames, q, draw_cursor, layout, scenario, item_entities
            )
        )
        relpaths.append(f"{VERSION}/{stem}.mp4")
        if progress is not None:
            progress(frames)
    index = out / f"index_{VERSION}.json"
    old: list[str] = []
    if index.exists():
        try:
            old = [p for p in json.loads(index.read_text()).get("relpaths", []) if (out / p).exists()]
        except (ValueError, AttributeError):
            old = []
    merged = list(dict.fromkeys(old + relpaths))
    index.write_text(json.dumps({"basedir": str(out), "relpaths": merged}, indent=1))
    return paths
