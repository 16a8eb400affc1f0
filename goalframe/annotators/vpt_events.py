"""VPT interaction events: one per increase of a cumulative ``stats`` counter.

Counters are named ``minecraft.<type>:minecraft.<object>``; ``custom:*`` counters are
movement bookkeeping and ignored. The first value a counter has on frame 0 is the
baseline carried in from before the recording, not an event; a counter that first
appears later started from 0. The recorder lists only non-zero counters, so the reader
stores a counter that vanishes as a 0 on that frame: a reset, and its return counts up
from 0 (MineStudio's rule). A counter that DEcreases (to 0 or not) means a new world or a
reset: no event, a warning on that frame, and the new value becomes the baseline.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from goalframe.schemas.tables import INTERACTION_IDS

EVENT_TYPES = ("mine_block", "use_item", "craft_item", "kill_entity", "pickup", "drop", "break_item")
WINDOW_SIZE = (1280, 720)  # the usual recorder window; episodes read the real one from their attrs

# Objects whose "use" toggles something in the world: ROCKET's "switch" interaction.
SWITCH_SUFFIXES = ("lever", "_button", "_door", "_trapdoor", "_fence_gate", "bell", "note_block")


def parse_stat(name: str) -> tuple[str, str] | None:
    """``minecraft.mine_block:minecraft.dirt`` -> (``mine_block``, ``dirt``); None for others."""
    kind_part, _, object_part = name.partition(":")
    kind = kind_part.removeprefix("minecraft.")
    if kind not in EVENT_TYPES or not object_part:
        return None
    return kind, object_part.removeprefix("minecraft.")


def interaction_of(kind: str, obj: str) -> str:
    """ROCKET's interaction type of a stat event (README, "Interaction types")."""
    if kind == "kill_entity":
        return "hunt"
    if kind == "mine_block":
        return "mine"
    if kind == "craft_item":
        return "craft"
    if kind == "use_item":
        return "switch" if obj.endswith(SWITCH_SUFFIXES) else "use"
    if kind == "pickup":
        return "approach"  # the player walked up to the item entity to collect it
    return "none"  # drop, break_item: no target object in view to condition on


def prompt_point(
    gui_open: bool,
    mouse_x: float,
    mouse_y: float,
    height: int,
    width: int,
    window: tuple[int, int] = WINDOW_SIZE,
) -> tuple[float, float]:
    """(row, col) in stored-frame pixels: the cursor when a GUI is open, else the crosshair.

    ``window`` is the recording window (width, height) that ``mouse_x, mouse_y`` are in.
    """
    if gui_open:  # the frame is the whole window shrunk, so window pixels scale straight to frame pixels
        window_width, window_height = window
        return mouse_y * height / window_height, mouse_x * width / window_width
    return height / 2.0, width / 2.0


def counter_increases(
    frames: np.ndarray, keys: np.ndarray, values: np.ndarray, names: list[str]
) -> tuple[list[tuple[int, str, int]], list[tuple[int, str, int, int]]]:
    """(frame, stat, delta) for every increase; (frame, stat, old, new) for every decrease."""
    increases, decreases = [], []
    order = np.lexsort((frames, keys))
    last: dict[int, int] = {}
    for row in order:
        frame, key, value = int(frames[row]), int(keys[row]), int(values[row])
        previous = last.get(key)
        last[key] = value
        if previous is None:
            if frame > 0 and value > 0:  # appeared mid-episode: counted up from 0
                increases.append((frame, names[key], value))
        elif value > previous:
            increases.append((frame, names[key], value - previous))
        elif value < previous:
            decreases.append((frame, names[key], previous, value))
    increases.sort()
    return increases, decreases


def decrease_warning(episode_id: str, frame: int, name: str, old: int, new: int) -> str:
    if new == 0:  # stats lists only non-zero counters: the reader stored its vanishing as a 0
        return (
            f"{episode_id}: frame {frame}: counter {name} vanished from stats (reset from {old} to 0); it"
            " counts up from 0 again; no event"
        )
    return (
        f"{episode_id}: frame {frame}: counter {name} decreased from {old} to {new} (new world or reset?); no"
        " event"
    )


def vpt_events(
    episode_id: str,
    stats: tuple[np.ndarray, np.ndarray, np.ndarray, list[str]],
    gui_open: np.ndarray,
    mouse_x: np.ndarray,
    mouse_y: np.ndarray,
    height: int,
    width: int,
    camera: str = "pov",
    window: tuple[int, int] = WINDOW_SIZE,
) -> tuple[list[dict], list[str]]:
    """Event rows (EVENTS_SCHEMA columns) and warnings for one episode.

    ``window`` (width, height) is the recording window ``mouse_x, mouse_y`` are in.
    """
    increases, decreases = counter_increases(*stats)
    warnings = [decrease_warning(episode_id, *decrease) for decrease in decreases]
    rows = []
    for frame, name, delta in increases:
        parsed = parse_stat(name)
        if parsed is None:
            continue
        kind, obj = parsed
        interaction = interaction_of(kind, obj)
        gui = bool(gui_open[frame])
        row, col = prompt_point(gui, float(mouse_x[frame]), float(mouse_y[frame]), height, width, window)
        rows.append(
            {
                "frame": frame,
                "end_frame": frame + 1,
                "kind": kind,
                "name": name,
                "object": obj,
                "interaction": interaction,
                "interaction_id": INTERACTION_IDS[interaction],
                "delta": delta,
                "merged": 1,
                "gui_open": gui,
                "arm": None,
                "text": None,
                "camera": camera,
                "prompt_row": row,
                "prompt_col": col,
                "prompt_visible": bool(0 <= row < height and 0 <= col < width),
                "prompt_note": None,
            }
        )
    return rows, warnings


def extract_episode(ds, episode: str, **_options: Any) -> tuple[list[dict], list[str]]:
    """Events of one dataset episode from its stats counters, GUI state and cursor."""
    names = set(ds.array_names(episode))
    meta = ds.meta(episode)
    stats_arrays = ("states/stats/frame", "states/stats/key", "states/stats/value")
    if (
        not all(name in names for name in stats_arrays)
        or ds.zarr_array(episode, stats_arrays[0]).shape[0] == 0
    ):
        return [], [f"{episode}: no stats counters in this episode; no VPT events"]
    stats = (
        *(ds.array(episode, name) for name in stats_arrays),
        ds.array_attrs(episode, "states/stats/key")["vocabulary"],
    )
    # the recording window the cursor is in (datasets ingested before it was recorded: 1280x720)
    window = tuple(ds.array_attrs(episode, "actions/mouse/x").get("window_size") or WINDOW_SIZE)
    return vpt_events(
        episode,
        stats,
        ds.array(episode, "states/gui/open"),
        ds.array(episode, "actions/mouse/x"),
        ds.array(episode, "actions/mouse/y"),
        meta.height,
        meta.width,
        camera=meta.cameras[0],
        window=window,
    )
