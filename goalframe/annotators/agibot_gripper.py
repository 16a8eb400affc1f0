"""AgiBot gripper transitions: when a gripper closed on something (grasp) or let go (release).

The recorded 0..1 command is held over gaps, debounced with hysteresis, and matched to the
measured opening: a close that stalls before fully closed is a grasp, an opening after it a
release (see :mod:`goalframe.annotators.agibot_events` for the whole rule).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# gripper command and opening
COMMAND_ON, COMMAND_OFF = 0.6, 0.4  # hysteresis on the 0 (open) .. 1 (closed) command
MIN_RUN_FRAMES = 3  # a command switch counts only if the new value lasts this long
LAG_FRAMES = 3  # frames the opening may lead or trail the (held, debounced) command
STALL_EPS_MM = 1.0  # per-frame change of the opening below this is "not moving" (at least)
NOISE_EPS_FACTOR = 3.0  # ... and below this many times the opening's frame-to-frame noise
MIN_STALL_FRAMES = 3  # a stall (or an opening) must last this many frames
MIN_TRAVEL_MM = 4.0  # a close must have closed, an open opened, by at least this much
FULLY_CLOSED_MM = 5.0  # a stall at or below this opening is a missed grasp


@dataclass(frozen=True)
class GripperTransition:
    kind: str  # grasp | release
    frame: int
    opening_mm: float


def held_command(values: np.ndarray, filled: np.ndarray | None) -> np.ndarray:
    """The command with filled frames replaced by the last recorded value (zero-order hold)."""
    out = np.asarray(values, np.float64).copy()
    if filled is None:
        return out
    recorded = ~np.asarray(filled, bool)
    last = np.maximum.accumulate(np.where(recorded, np.arange(len(out)), -1))
    has = last >= 0
    out[has] = out[last[has]]
    return out


def debounce(
    command: np.ndarray, on: float = COMMAND_ON, off: float = COMMAND_OFF, min_run: int = MIN_RUN_FRAMES
) -> np.ndarray:
    """Closed (True) / open per frame: hysteresis, then switches that last ``min_run`` frames."""
    command = np.asarray(command, np.float64)
    n = len(command)
    raw = np.zeros(n, bool)
    state = bool(n and command[0] >= (on + off) / 2)
    for i, value in enumerate(command):
        if value >= on:
            state = True
        elif value <= off:
            state = False
        raw[i] = state  # NaN keeps the previous state
    if n == 0:
        return raw
    change = np.flatnonzero(np.diff(raw)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [n]])
    long_runs = [raw[s] for s, e in zip(starts, ends) if e - s >= min_run]
    state = bool(long_runs[0]) if long_runs else bool(raw[0])
    out = np.empty(n, bool)
    for s, e in zip(starts, ends):
        if raw[s] != state and e - s >= min_run:
            state = bool(raw[s])
        out[s:e] = state
    return out


def motion_eps(opening: np.ndarray) -> float:
    """Smallest per-frame change (mm) that counts as motion: :data:`STALL_EPS_MM`, or
    :data:`NOISE_EPS_FACTOR` x the noise of the opening (1.4826 x the median absolute
    deviation of its frame-to-frame changes, which a gripper at rest most of the time
    leaves to the sensor noise), whichever is larger."""
    d = np.diff(np.asarray(opening, np.float64))
    d = d[np.isfinite(d)]
    if d.size < 2:
        return STALL_EPS_MM
    sigma = 1.4826 * float(np.median(np.abs(d - np.median(d))))
    return max(STALL_EPS_MM, NOISE_EPS_FACTOR * sigma)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def gripper_transitions(
    opening: np.ndarray,
    command: np.ndarray | None,
    filled: np.ndarray | None = None,
    *,
    on: float = COMMAND_ON,
    off: float = COMMAND_OFF,
    min_run: int = MIN_RUN_FRAMES,
    lag: int = LAG_FRAMES,
    eps: float | None = None,
    min_stall: int = MIN_STALL_FRAMES,
    min_travel: float = MIN_TRAVEL_MM,
    fully_closed: float = FULLY_CLOSED_MM,
) -> tuple[list[GripperTransition], list[str]]:
    """Grasps and releases of one gripper (module docstring); warnings name the frames.

    ``opening`` (T,) mm; ``command`` (T,) 0 open .. 1 closed, or None to derive it from the
    opening (closed below 0.9 x the largest opening, as the reader fills missing rows).
    ``eps`` defaults to :func:`motion_eps` of the opening.
    """
    o = np.asarray(opening, np.float64)
    n = len(o)
    eps = motion_eps(o) if eps is None else eps
    warnings: list[str] = []
    if command is None:
        top = np.nanmax(o) if n else 0.0
        command, filled = (o < 0.9 * top).astype(np.float64), None
    closed = debounce(held_command(command, filled), on, off, min_run)
    runs = _runs(closed)
    with np.errstate(invalid="ignore"):
        drop = np.zeros(n, bool)
        rise = np.zeros(n, bool)
        drop[1:] = o[1:] < o[:-1] - eps
        rise[1:] = o[1:] > o[:-1] + eps

    def steady(g: int) -> bool:
        """The opening does not drop more than ``eps`` below its value at ``g`` for ``min_stall`` frames."""
        return bool(np.all(o[g + 1 : g + 1 + min_stall] >= o[g] - eps))

    def opens_from(f: int, held: float) -> bool:
        """The rise that starts at ``f`` goes on, frame after frame, until ``min_travel`` above ``held``."""
        g = f
        while o[g] < held + min_travel and g + 1 < n and rise[g + 1]:
            g += 1
        return bool(o[g] >= held + min_travel)

    events: list[GripperTransition] = []
    floor = 1
    for k, (a, b) in enumerate(runs):
        next_start = runs[k + 1][0] if k + 1 < len(runs) else n
        lo, hi = max(floor, a - lag, 1), min(n, b + lag)
        onset = next((f for f in range(lo, hi) if drop[f]), None)
        if onset is None:
            continue  # the jaws did not move (already closed, or holding from the start)
        stall = next((g for g in range(onset, hi) if o[onset - 1] - o[g] >= min_travel and steady(g)), None)
        if stall is None:
            until = f"the command opened at {b}" if b < n else "the episode ended"
            warnings.append(f"frame {onset}: the gripper was still closing when {until}; no grasp")
            continue
        if o[stall] <= fully_closed:
            warnings.append(
                f"frame {stall}: gripper closed fully ({o[stall]:.1f} mm): missed grasp, no event"
            )
            floor = stall + 1
            continue
        events.append(GripperTransition("grasp", stall, float(o[stall])))
        floor = stall + 1
        r_lo, r_hi = max(stall + 1, b - lag), min(n, next_start + lag)
        held = float(np.nanmedian(o[stall : max(r_lo, stall + 1)]))
        release = next((f for f in range(r_lo, r_hi) if rise[f] and opens_from(f, held)), None)
        if release is None:
            if b < n:
                warnings.append(
                    f"frame {b}: command opened after the grasp at {stall} but the gripper did not open"
                )
            continue
        events.append(GripperTransition("release", release, float(o[release])))
        floor = release + 1
    return events, warnings
