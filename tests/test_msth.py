"""MSTH offsets and per-frame index tables against a direct evaluation of Act2Goal's formula."""

from __future__ import annotations

import json
import math
from decimal import Decimal, getcontext

import numpy as np
import polars as pl
import pytest
from test_pairs import fresh
from typer.testing import CliRunner

from goalframe.sampling import MSTHSpec, build_msth, msth_index, msth_offsets
from goalframe.sampling.msth import index_frame
from goalframe.schemas.tables import MSTH_SCHEMA
from goalframe.storage import open_dataset

getcontext().prec = 80
LN = [None] + [Decimal(n).ln() for n in range(1, 40)]  # LN[n] = ln(n), 80 digits


def reference_distal(K: int, P: int, M: int) -> list[int]:
    """d_m = P + floor((K - P) / log(M + 1) * log(m + 1)) in 80-digit decimals (exact integers snapped)."""
    out = []
    for m in range(1, M + 1):
        value = Decimal(K - P) / LN[M + 1] * LN[m + 1]
        nearest = value.to_integral_value()
        out.append(P + int(nearest if abs(value - nearest) < Decimal(10) ** -60 else math.floor(value)))
    return out


def test_offsets_equal_the_formula_and_end_at_the_horizon():
    floats_wrong = 0
    for K in range(1, 121):
        for P in range(1, K + 1):
            for M in range(1, 13):
                proximal, distal = msth_offsets(K, P, 1, M)
                assert distal.tolist() == reference_distal(K, P, M), (K, P, M)
                assert distal[-1] == K and distal[0] >= P and np.all(np.diff(distal) >= 0)
                floats_wrong += P + math.floor((K - P) / math.log(M + 1) * math.log(M + 1)) != K
    assert floats_wrong > 1000  # why the integer arithmetic: the float formula misses d_M = K
    rng = np.random.default_rng(0)
    for _ in range(300):  # long horizons
        M = int(rng.integers(1, 38))
        P = int(rng.integers(1, 500))
        K = P + int(rng.integers(0, 100_000))
        assert msth_offsets(K, P, 1, M)[1].tolist() == reference_distal(K, P, M)
    proximal, distal = msth_offsets(200, 54, 6, 9)  # Act2Goal appendix: 54 proximal actions, 9 + 9 frames
    assert proximal.tolist() == [6, 12, 18, 24, 30, 36, 42, 48, 54]
    assert len(distal) == 9 and distal[-1] == 200


@pytest.mark.parametrize(
    "args, message",
    [
        ((10, 6, 4, 2), "multiple of --stride"),
        ((10, 6, 2, 0), "--distal M must be >= 1"),
        ((4, 6, 2, 2), "--horizon K=4 must be >= --near P=6"),
        ((10, 6, 0, 2), "--stride r must be >= 1"),
        ((10, 0, 1, 2), "--near P must be >= 1"),
        ((10.5, 6, 2, 2), "must be an integer"),
    ],
)
def test_invalid_parameters_are_one_line_errors(args, message):
    with pytest.raises(ValueError, match=message) as error:
        msth_offsets(*args)
    assert "\n" not in str(error.value)


def reference_table(T: int, spec: MSTHSpec, segments: list[tuple[int, int]], clip: str) -> list[dict]:
    """The table frame by frame, straight from the definitions."""
    K, P, r, M = spec.horizon, spec.near, spec.stride, spec.distal
    distal = reference_distal(K, P, M)
    rows = []
    for t in range(T):
        segment = next((i for i, (s, e) in enumerate(segments) if s <= t < e), -1)
        seg_end = segments[segment][1] if segment >= 0 else T
        end = seg_end if clip == "segment" else T

        def clamp(x: int) -> tuple[int, bool]:
            return min(x, end - 1), x > end - 1

        prox = [clamp(t + k * r) for k in range(1, P // r + 1)]
        dist = [clamp(t + d) for d in distal]
        drows = [clamp(t + d - 1) for d in distal]
        hind = clamp(t + K)
        rows.append(
            {
                "frame": t,
                "segment": segment,
                "clip_end": end,
                "proximal_frames": [x for x, _ in prox],
                "proximal_pad": [p for _, p in prox],
                "distal_frames": [x for x, _ in dist],
                "distal_pad": [p for _, p in dist],
                "action_start": t,
                "action_stop": min(t + P, end),
                "distal_action_rows": [x for x, _ in drows],
                "distal_action_pad": [p for _, p in drows],
                "goal_segment_end": seg_end - 1,
                "goal_episode_end": T - 1,
                "goal_hindsight": hind[0],
                "hindsight_pad": hind[1],
            }
        )
    return rows


SEGMENTS = {"none": [], "two": [(0, 9), (9, 23)], "gaps": [(3, 8), (12, 20)], "unsorted": [(12, 23), (0, 12)]}


def test_tables_match_a_direct_evaluation_for_many_parameters():
    T = 23
    checked = 0
    for K in (1, 2, 3, 5, 8, 13, 21, 30):
        for r in (1, 2, 3):
            for P in sorted({r, 2 * r, 3 * r, (K // r) * r} - {0}):
                if P > K:
                    continue
                for M in (1, 2, 3, 5, 9):
                    spec = MSTHSpec(K, P, r, M)
                    for name, segments in SEGMENTS.items():
                        starts = np.array([s for s, _ in segments], np.int32) if segments else None
                        ends = np.array([e for _, e in segments], np.int32) if segments else None
                        for clip in ("segment", "episode"):
                            table = index_frame("ep", msth_index(T, spec, starts, ends, clip))
                            expected = reference_table(T, spec, segments, clip)
                            got = table.drop("episode_id").to_dicts()
                            assert got == expected, (K, P, r, M, name, clip)
                            checked += 1
    assert checked > 1000


def test_pad_masks_at_the_episode_end():
    spec = MSTHSpec(
        horizon=6, near=4, stride=2, distal=2
    )  # proximal +2 +4, distal +4+floor(2*log2/log3)=5, +6
    assert msth_offsets(6, 4, 2, 2)[1].tolist() == [5, 6]
    table = index_frame("ep", msth_index(10, spec)).to_dicts()
    row = table[6]  # t = 6 of 10: frame 10 and later do not exist
    assert row["proximal_frames"] == [8, 9] and row["proximal_pad"] == [False, True]
    assert row["distal_frames"] == [9, 9] and row["distal_pad"] == [True, True]
    assert (row["action_start"], row["action_stop"]) == (6, 10)  # rows 6..9 all exist
    assert row["distal_action_rows"] == [9, 9] and row["distal_action_pad"] == [True, True]  # rows 10, 11
    assert table[5]["distal_action_rows"] == [9, 9] and table[5]["distal_action_pad"] == [
        False,
        True,
    ]  # rows 9, 10
    assert (row["goal_hindsight"], row["hindsight_pad"], row["goal_episode_end"]) == (9, True, 9)
    last = table[9]
    assert all(last["proximal_pad"]) and all(last["distal_pad"]) and last["action_stop"] == 10
    first = table[0]
    assert not any(first["proximal_pad"] + first["distal_pad"] + [first["hindsight_pad"]])
    assert first["distal_frames"] == [5, 6] and first["goal_hindsight"] == 6


def test_msth_on_agibot_clips_at_task_segments_and_the_command(tmp_path_factory, tmp_path):
    from goalframe.toolkit.cli import app

    _raw, dataset = fresh(tmp_path_factory, tmp_path, "agibot")
    ds = open_dataset(dataset)
    table, warnings = build_msth(dataset, MSTHSpec(horizon=12, near=6, stride=2, distal=3), clip="segment")
    assert not warnings and table.schema == pl.Schema(MSTH_SCHEMA)
    assert table.height == sum(ds.lengths.values())
    for episode in ds.episodes:
        starts, ends = ds.array(episode, "segments/start_frame"), ds.array(episode, "segments/end_frame")
        rows = table.filter(pl.col("episode_id") == episode).sort("frame")
        expected = index_frame(
            episode, msth_index(ds.length(episode), MSTHSpec(12, 6, 2, 3), starts, ends, "segment")
        )
        assert rows.equals(expected)
        for s, e in zip(starts, ends):
            inside = rows.filter((pl.col("frame") >= int(s)) & (pl.col("frame") < int(e)))
            assert set(inside["clip_end"]) == {int(e)} and set(inside["goal_segment_end"]) == {int(e) - 1}
            assert inside["proximal_frames"].list.max().max() <= int(e) - 1
    assert open_dataset(dataset).table("msth").equals(table)
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "msth",
            dataset,
            "--horizon",
            "20",
            "--near",
            "8",
            "--stride",
            "4",
            "--distal",
            "4",
            "--clip",
            "episode",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["proximal_offsets"] == [4, 8] and summary["distal_offsets"][-1] == 20
    step = open_dataset(dataset).info.steps[-1]
    assert step.step == "msth" and step.params == {
        "horizon": 20,
        "near": 8,
        "stride": 4,
        "distal": 4,
        "clip": "episode",
    }
    assert set(open_dataset(dataset).table("msth")["clip_end"]) == set(ds.lengths.values())
    bad = runner.invoke(
        app, ["msth", dataset, "--horizon", "20", "--near", "6", "--stride", "4", "--distal", "4"]
    )
    assert (
        bad.exit_code == 2
        and "multiple of --stride" in bad.output
        and len(bad.output.strip().splitlines()) == 1
    )
