"""The whiteboard scenario: K strokes in the band, demonstrations that draw their goal, the env's
ink-overlap success, and recorded episodes the AgiBot reader ingests with one segment per stroke."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from goalframe.media.video import iter_frames
from goalframe.sim.agibot.synth import synthesize_agibot, truth_paths
from goalframe.sim.agibot.whiteboard import (
    BOARD_ID,
    INK_RGB,
    IOU_THRESHOLD,
    STROKE_BANDS,
    ink_iou,
    parse_strokes,
    simulate_whiteboard,
    stroke_ink,
)
from goalframe.sources import agibot
from goalframe.training.whiteboard_env import OtherGoalScript, WhiteboardEnv, WhiteboardOracle
from goalframe.training.whiteboard_eval import run_whiteboard_episode

FPS_STROKE = 24  # frames per stroke: short episodes


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("whiteboard")
    synthesize_agibot(
        out, episodes=2, seed=5, scenario="whiteboard", strokes=(3, 4), frames_per_stroke=FPS_STROKE
    )
    return out


def test_bands_parse():
    assert parse_strokes("6-8") == (6, 8) and parse_strokes("2") == (2, 2)
    assert parse_strokes("medium") == STROKE_BANDS["medium"] == (3, 4)
    with pytest.raises(ValueError, match="--strokes"):
        parse_strokes("8-6")


def test_episodes_draw_k_strokes_within_the_band(raw):
    records = json.loads(next((raw / "task_info").glob("task_*.json")).read_text())
    assert len(records) == 2
    for rec in records:
        truth = json.loads(truth_paths(raw, 351, rec["episode_id"])[1].read_text())
        k = len(truth["scenario"]["strokes"])
        assert 3 <= k <= 4
        assert len(rec["label_info"]["action_config"]) == k
        assert rec["task_name"] == "Write on the whiteboard"
    for low, high in STROKE_BANDS.values():
        env = WhiteboardEnv((low, high), size=16, frames_per_stroke=FPS_STROKE)
        drawn = set()
        for seed in range(4):
            env.reset(seed)
            drawn.add(env.k)
            assert len(env.record.segments) == env.k
        assert drawn <= set(range(low, high + 1))


@pytest.mark.parametrize("k", [1, 4, 8])
def test_scripted_drawing_matches_its_goal_and_not_another(k):
    for seed in range(4):
        rec = simulate_whiteboard(seed, k, FPS_STROKE)
        drawn, goal = rec.states[-1].ink, rec.scenario["goal_ink"]
        assert goal.any() and ink_iou(drawn, goal) >= IOU_THRESHOLD
        strokes = [tuple(np.array(p) for p in s) for s in rec.scenario["truth"]["strokes"]]
        assert ink_iou(stroke_ink(strokes), goal) > 0.99
        other = simulate_whiteboard(seed + 100, k, FPS_STROKE).scenario["goal_ink"]
        assert ink_iou(drawn, other) < IOU_THRESHOLD
        assert not rec.states[0].ink.any()


def test_env_scores_a_wrong_drawing_as_failure_and_the_right_one_as_success():
    env = WhiteboardEnv((3, 4), size=32, frames_per_stroke=FPS_STROKE)
    for seed in (0, 1):
        right = run_whiteboard_episode(env, WhiteboardOracle(env), seed)
        assert right["success"] and right["iou"] >= IOU_THRESHOLD
        wrong = run_whiteboard_episode(env, OtherGoalScript(env), seed)
        assert not wrong["success"] and wrong["iou"] < IOU_THRESHOLD
        assert wrong["steps"] == env.max_steps
    obs = env.reset(0)
    assert obs["image"].shape == obs["goal_image"].shape == (3, 32, 32)
    assert not np.array_equal(obs["image"], obs["goal_image"])  # the goal shows the drawing


def test_recorded_episode_reads_with_one_segment_per_stroke_and_shows_the_ink(raw):
    refs = agibot.discover(raw)
    assert len(refs) == 2
    for ref in refs:
        episode = agibot.read(ref)
        truth = json.loads(truth_paths(raw, 351, int(ref.raw_episode_id))[1].read_text())
        starts, ends = episode.arrays["segments/start_frame"], episode.arrays["segments/end_frame"]
        assert len(starts) == len(truth["scenario"]["strokes"])
        assert starts[0] == 0 and ends[-1] == truth["n_frames"] and (starts[1:] == ends[:-1]).all()
        assert truth["labels"][str(BOARD_ID)] == "whiteboard"
        video = Path(raw, "observations", "351", str(ref.raw_episode_id), "videos", "head_color.mp4")
        frames = list(iter_frames(video))
        assert len(frames) == truth["n_frames"]
        board = np.load(truth_paths(raw, 351, int(ref.raw_episode_id))[0])["masks_head_color"] == BOARD_ID
        inked = [
            int(((np.abs(frames[t].astype(int) - INK_RGB).sum(-1) < 60) & board[t]).sum()) for t in (0, -1)
        ]
        assert inked[0] == 0 and inked[1] > 2000


def test_cli_rejects_a_bad_band(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "goalframe.toolkit.cli", "synth", "agibot", str(tmp_path / "x")]
        + ["--scenario", "whiteboard", "--strokes", "8-6"],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "--strokes" in result.stderr
    assert not (tmp_path / "x").exists()
