"""Multi-Scale Temporal Hashing (Act2Goal): per-frame proximal/distal index tables.

Given a trajectory horizon K, a near horizon P and a stride r, the future of frame t is
split into

    proximal, dense:  t + k*r        k = 1 .. P/r
    distal, sparse:   t + d_m        m = 1 .. M,  d_m = P + floor((K - P) / log(M + 1) * log(m + 1))

so that d_M = K. :func:`msth_offsets` computes the offsets in exact integer arithmetic
(the float formula gives d_M = K - 1 for some inputs, e.g. ``log(M + 1) / log(M + 1) * (K - P)``
rounding below ``K - P``). :func:`msth_index` builds the table for a whole episode at once
(numpy broadcasting, no loop over frames); :func:`build_msth` writes ``tables/msth.parquet``
for every episode (schema ``MSTH_SCHEMA``).

Conventions (also in ``MSTH_SCHEMA``):
- indices past the clip end (``clip="episode"``, the default: the episode end, so the distal
  anchors run on toward the episode's goal through the next task segments; ``clip="segment"``:
  the end of t's task segment, the episode end for frames outside every segment and for
  datasets without segments) are clamped to the last frame before it and flagged in a pad
  mask, as LeRobot's ``_is_pad``;
- a table is only written when some frame reaches ``t + K`` within its clip, and M is at most
  the ``K - P + 1`` frames the anchors can take: otherwise every distal target is padding;
- action row i is the command issued at frame i (it moves toward frame i + 1), so the
  proximal action chunk of frame t is rows t .. t + P - 1 and the distal action of anchor
  m is row t + d_m - 1 (the action that produces frame t + d_m);
- goal frames: the segment's last frame, the episode's last frame, and the hindsight goal
  ``min(t + K, clip_end - 1)``: the frame actually reached K steps later.
"""

from __future__ import annotations

import decimal
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

from goalframe.schemas.layout import utc_now
from goalframe.schemas.tables import MSTH_SCHEMA, empty_table
from goalframe.storage import open_dataset
from goalframe.storage.lease import writes_dataset
from goalframe.storage.parallel import run_tasks
from goalframe.storage.store import new_step, open_root, record_step, write_table

CLIP_MODES = ("segment", "episode")


@dataclass(frozen=True)
class MSTHSpec:
    """MSTH parameters: ``horizon`` K, ``near`` P, ``stride`` r, ``distal`` M (frames, counts)."""

    horizon: int
    near: int
    stride: int
    distal: int

    def __post_init__(self) -> None:
        check_msth_params(self.horizon, self.near, self.stride, self.distal)

    @property
    def n_proximal(self) -> int:
        return self.near // self.stride

    def offsets(self) -> tuple[np.ndarray, np.ndarray]:
        return msth_offsets(self.horizon, self.near, self.stride, self.distal)


def check_msth_params(horizon: int, near: int, stride: int, distal: int) -> None:
    """Raise a one-line ValueError for parameters MSTH cannot use."""
    values = {"horizon": horizon, "near": near, "stride": stride, "distal": distal}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"MSTH --{name} must be an integer, got {value!r}")
    if stride < 1:
        raise ValueError(f"MSTH --stride r must be >= 1, got {stride}")
    if near < 1:
        raise ValueError(f"MSTH --near P must be >= 1, got {near}")
    if near % stride:
        raise ValueError(f"MSTH --near P={near} must be a multiple of --stride r={stride}")
    if distal < 1:
        raise ValueError(f"MSTH --distal M must be >= 1, got {distal}")
    if horizon < near:
        raise ValueError(f"MSTH --horizon K={horizon} must be >= --near P={near}")


def _primitive_root(n: int) -> tuple[int, int]:
    """``(b, k)`` with ``n == b**k`` and ``k`` as large as possible (``b`` is no perfect power), n >= 2."""
    for k in range(n.bit_length(), 1, -1):
        guess = round(n ** (1.0 / k))
        for b in (guess - 1, guess, guess + 1):
            if b >= 2 and b**k == n:
                return b, k
    return n, 1


def _floor_scaled_log_ratio(a: int, m: int, big_m: int) -> int:
    """``floor(a * log(m + 1) / log(M + 1))`` exactly, for integers a >= 0 and 1 <= m <= M.

    The float estimate is trusted when it is far from an integer. Otherwise: the ratio
    ``log(m+1) / log(M+1)`` is rational exactly when both numbers are powers of one base
    (unique factorisation), and then the floor is an integer division; else the ratio is
    irrational, ``a`` times it is never an integer, and decimals precise enough to tell
    which side of the nearest integer it lies on settle it. Both take microseconds for any
    ``a`` (raising ``M + 1`` to the power ``a`` had not finished after a minute for 10^8).
    """
    if m == big_m or a == 0:
        return a
    x = a * math.log(m + 1) / math.log(big_m + 1)
    nearest = round(x)
    if abs(x - nearest) > 1e-9 * max(1.0, x):
        return min(a, max(0, math.floor(x)))
    (base, i), (other, j) = _primitive_root(m + 1), _primitive_root(big_m + 1)
    if base == other:
        return a * i // j
    digits = len(str(a)) + 30
    while True:  # terminates: an irrational multiple is some distance from every integer
        with decimal.localcontext() as context:
            context.prec = digits
            exact = decimal.Decimal(a) * decimal.Decimal(m + 1).ln() / decimal.Decimal(big_m + 1).ln()
            floor = int(exact.to_integral_value(rounding=decimal.ROUND_FLOOR))
            margin = decimal.Decimal(10) ** (len(str(a)) + 5 - digits)  # far above the rounding error
            if exact - floor > margin and floor + 1 - exact > margin:
                return min(a, max(0, floor))
        digits *= 2


def msth_offsets(horizon: int, near: int, stride: int, distal: int) -> tuple[np.ndarray, np.ndarray]:
    """(proximal offsets ``r, 2r, ..., P``, distal offsets ``d_1 .. d_M``) as int64 arrays.

    ``d_m = P + floor((K - P) / log(M + 1) * log(m + 1))``, computed exactly: ``d_M == K``
    for every valid input. Offsets are non-decreasing (equal neighbours when K - P < M).
    """
    check_msth_params(horizon, near, stride, distal)
    horizon, near, stride, distal = int(horizon), int(near), int(stride), int(distal)
    proximal = np.arange(stride, near + 1, stride, dtype=np.int64)
    span = horizon - near
    distal_offsets = np.array(
        [near + _floor_scaled_log_ratio(span, m, distal) for m in range(1, distal + 1)], dtype=np.int64
    )
    return proximal, distal_offsets


def _segment_bounds(
    n_frames: int, starts: np.ndarray | None, ends: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: (segment index or -1, segment start, segment end exclusive); no segment -> the episode."""
    t = np.arange(n_frames, dtype=np.int64)
    segment = np.full(n_frames, -1, dtype=np.int32)
    seg_start = np.zeros(n_frames, dtype=np.int64)
    seg_end = np.full(n_frames, n_frames, dtype=np.int64)
    if starts is None or ends is None or len(starts) == 0:
        return segment, seg_start, seg_end
    starts = np.clip(np.asarray(starts, dtype=np.int64), 0, n_frames)
    ends = np.clip(np.asarray(ends, dtype=np.int64), 0, n_frames)
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    # the last segment starting at or before t holds t if t < its end (gaps hold nothing)
    holder = np.searchsorted(starts, t, side="right") - 1
    inside = (holder >= 0) & (t < ends[np.maximum(holder, 0)])
    segment[inside] = order[holder[inside]].astype(np.int32)
    seg_start[inside] = starts[holder[inside]]
    seg_end[inside] = ends[holder[inside]]
    return segment, seg_start, seg_end


def msth_index(
    n_frames: int,
    spec: MSTHSpec,
    segment_starts: np.ndarray | None = None,
    segment_ends: np.ndarray | None = None,
    clip: str = "episode",
) -> dict[str, np.ndarray]:
    """The MSTH index table of one episode as numpy arrays (column names of ``MSTH_SCHEMA``).

    Shapes: per-frame columns (T,); ``proximal_*`` (T, P/r); ``distal_*`` (T, M). Segments
    are ``[start, end)`` frame ranges (AgiBot ``segments/start_frame|end_frame``).
    """
    if clip not in CLIP_MODES:
        raise ValueError(f"clip must be one of {', '.join(CLIP_MODES)}, got {clip!r}")
    if n_frames < 1:
        raise ValueError(f"an episode needs at least one frame, got {n_frames}")
    proximal, distal = spec.offsets()
    t = np.arange(n_frames, dtype=np.int64)
    segment, _seg_start, seg_end = _segment_bounds(n_frames, segment_starts, segment_ends)
    clip_end = seg_end if clip == "segment" else np.full(n_frames, n_frames, dtype=np.int64)
    last = (clip_end - 1)[:, None]

    def clamp(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.minimum(raw, last), raw > last

    proximal_frames, proximal_pad = clamp(t[:, None] + proximal[None, :])
    distal_frames, distal_pad = clamp(t[:, None] + distal[None, :])
    distal_rows, distal_row_pad = clamp(t[:, None] + distal[None, :] - 1)
    hindsight, hindsight_pad = clamp(t[:, None] + spec.horizon)
    return {
        "frame": t,
        "segment": segment,
        "clip_end": clip_end,
        "proximal_frames": proximal_frames,
        "proximal_pad": proximal_pad,
        "distal_frames": distal_frames,
        "distal_pad": distal_pad,
        "action_start": t,
        "action_stop": np.minimum(t + spec.near, clip_end),
        "distal_action_rows": distal_rows,
        "distal_action_pad": distal_row_pad,
        "goal_segment_end": seg_end - 1,
        "goal_episode_end": np.full(n_frames, n_frames - 1, dtype=np.int64),
        "goal_hindsight": hindsight[:, 0],
        "hindsight_pad": hindsight_pad[:, 0],
    }


def index_frame(episode_id: str, columns: dict[str, np.ndarray]) -> pl.DataFrame:
    """A polars table (``MSTH_SCHEMA``) from :func:`msth_index` arrays, without a Python loop."""
    n = len(columns["frame"])
    data = {"episode_id": pl.Series("episode_id", [episode_id] * n, dtype=pl.String)}
    for name, dtype in MSTH_SCHEMA.items():
        if name == "episode_id":
            continue
        values = columns[name]
        if isinstance(dtype, pl.List):
            series = pl.Series(name, np.ascontiguousarray(values)).cast(dtype)
        else:
            series = pl.Series(name, values).cast(dtype)
        data[name] = series
    return pl.DataFrame(data).select(list(MSTH_SCHEMA))


@dataclass
class EpisodeMSTH:
    episode_id: str
    table: pl.DataFrame
    segments: int
    warnings: list[str]
    reach: int = 0  # the most frames any frame of the episode can look ahead without padding


def check_distal_count(spec: MSTHSpec) -> None:
    """A table holds M anchors per frame, all within ``t + P .. t + K``: more than those
    ``K - P + 1`` frames only repeats anchors (and an absurd M would take minutes and memory)."""
    distinct = spec.horizon - spec.near + 1
    if spec.distal > distinct:
        raise ValueError(
            f"MSTH --distal M={spec.distal} is more than the {distinct} frames the distal anchors can take "
            f"(t + P .. t + K with --near P={spec.near}, --horizon K={spec.horizon})"
        )


def check_horizon_fits(dataset: str, spec: MSTHSpec, clip: str, reach: int) -> None:
    """Refuse a horizon that no frame of the dataset reaches within its clip: every distal
    target and hindsight goal would be padding, and training on it would learn nothing."""
    if spec.horizon <= reach:
        return
    if clip == "segment":
        raise ValueError(
            f"{dataset}: --horizon K={spec.horizon} reaches past the end of every task segment (--clip"
            f" segment: frames look at most {reach} frames ahead within their segment), so every distal"
            f" target would be padding; use --clip episode or --horizon {reach} or less"
        )
    raise ValueError(
        f"{dataset}: --horizon K={spec.horizon} is longer than any episode (the longest has {reach + 1}"
        f" frames), so every distal target would be padding; use --horizon {reach} or less"
    )


def episode_segments(ds, episode: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    names = set(ds.array_names(episode))
    if {"segments/start_frame", "segments/end_frame"} <= names:
        return ds.array(episode, "segments/start_frame"), ds.array(episode, "segments/end_frame")
    return None, None


def episode_msth(
    episode: str, dataset: str, spec: MSTHSpec, clip: str, storage_options: dict | None = None
) -> EpisodeMSTH:
    """One task: the MSTH table of one episode (reads only its length and segments)."""
    ds = open_dataset(dataset, storage_options)
    n_frames = ds.length(episode)
    starts, ends = episode_segments(ds, episode)
    warnings = []
    if (
        starts is not None
        and len(starts)
        and (np.any(starts >= ends) or np.any(ends > n_frames) or np.any(starts < 0))
    ):
        warnings.append(f"{episode}: segments outside [0, {n_frames}) or empty were clipped")
    columns = msth_index(n_frames, spec, starts, ends, clip)
    reach = int(np.max(columns["clip_end"] - 1 - columns["frame"]))
    return EpisodeMSTH(
        episode, index_frame(episode, columns), 0 if starts is None else len(starts), warnings, reach
    )


@writes_dataset("msth")
def build_msth(
    dataset: str,
    spec: MSTHSpec,
    clip: str = "episode",
    workers: int = 1,
    scheduler: str | None = None,
    storage_options: dict | None = None,
    on_result: Callable[[EpisodeMSTH], None] | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """Write ``tables/msth.parquet`` (one row per frame of every episode); returns it and warnings."""
    if clip not in CLIP_MODES:
        raise ValueError(f"--clip must be one of {', '.join(CLIP_MODES)}, got {clip!r}")
    check_distal_count(spec)
    started_at, started = utc_now(), time.perf_counter()
    ds = open_dataset(dataset, storage_options)
    results = run_tasks(
        episode_msth,
        ds.episodes,
        workers=workers,
        scheduler=scheduler,
        on_result=on_result,
        dataset=dataset,
        spec=spec,
        clip=clip,
        storage_options=storage_options,
    )
    if results:  # checked before anything is written: a refused spec leaves the old table
        check_horizon_fits(dataset, spec, clip, max(r.reach for r in results))
    tables = [r.table for r in results]
    table = pl.concat(tables) if tables else empty_table(MSTH_SCHEMA)
    write_table(dataset, "msth", table, storage_options)
    warnings = [w for r in results for w in r.warnings]
    proximal, distal = spec.offsets()
    summary = {
        "episodes": len(results),
        "rows": table.height,
        "segments": sum(r.segments for r in results),
        "proximal_offsets": proximal.tolist(),
        "distal_offsets": distal.tolist(),
        "seconds": round(time.perf_counter() - started, 3),
    }
    params = {**asdict(spec), "clip": clip}
    record_step(
        open_root(dataset, "r+", storage_options), new_step("msth", params, started_at, utc_now(), summary)
    )
    return table, warnings
