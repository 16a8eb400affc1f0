"""AgiBot events against the synthetic world's truth: grasp/release frames, segments, prompt points."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from goalframe.annotators import extract_events
from goalframe.annotators.agibot_events import ArmTrack, events_from_tracks, interaction_of_skill
from goalframe.annotators.agibot_geometry import Camera, GripperGeometry
from goalframe.annotators.agibot_gripper import debounce, gripper_transitions
from goalframe.schemas.rotations import quaternion_matrix
from goalframe.schemas.tables import INTERACTION_IDS
from goalframe.sim.agibot import constants as agibot_constants
from goalframe.sim.agibot import kinematics
from goalframe.sim.agibot.player import simulate_episode
from goalframe.sim.agibot.synth import synthesize_agibot, truth_paths
from goalframe.sim.agibot.world import AgibotWorld
from goalframe.sources import agibot
from goalframe.storage import ingest

SEED, EPISODES, FPO, OBJECTS = 5, 4, 48, 2  # full, strided and trimmed action rows among them
TOLERANCE = 2  # frames


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("agibot_events_raw")
    synthesize_agibot(out, episodes=EPISODES, seed=SEED, frames_per_object=FPO, n_objects=OBJECTS)
    return out


@pytest.fixture(scope="module")
def extracted(raw: Path, tmp_path_factory) -> tuple[pl.DataFrame, list[str]]:
    out = str(tmp_path_factory.mktemp("agibot_events_ds") / "agibot.zarr")
    report = ingest(out, agibot.discover(raw), agibot.read, "agibot")
    assert not report.failed, report.summary()
    return extract_events(out)


def _truth(raw: Path, episode: str) -> tuple[dict, Path]:
    task, ep = episode.split("_")
    npz, js = truth_paths(raw, int(task), int(ep))
    return json.loads(js.read_text()), npz


def _episodes(raw: Path) -> list[str]:
    return [ref.episode_id for ref in agibot.discover(raw)]


def _match(truth_events: list[dict], rows: list[dict]) -> list[tuple[dict, dict]]:
    """One-to-one: each truth event with the detected event of its kind and arm within TOLERANCE."""
    free = list(rows)
    pairs = []
    for ev in sorted(truth_events, key=lambda e: e["frame"]):
        near = [
            r
            for r in free
            if (r["kind"], r["arm"]) == (ev["kind"], ev["arm"]) and abs(r["frame"] - ev["frame"]) <= TOLERANCE
        ]
        assert near, f"no detection for {ev}"
        best = min(near, key=lambda r: abs(r["frame"] - ev["frame"]))
        free.remove(best)
        pairs.append((ev, best))
    assert not free, f"false events: {free}"
    return pairs


def _pixel(mask: np.ndarray, row: dict) -> int:
    return int(mask[row["frame"], int(round(row["prompt_row"])), int(round(row["prompt_col"]))])


# ----------------------------------------------------------------------------- through ingest


def test_grasps_and_releases_match_truth_one_to_one(raw: Path, extracted) -> None:
    table, warnings = extracted
    assert warnings == []
    errors = []
    modes = set()
    for episode in _episodes(raw):
        truth, _ = _truth(raw, episode)
        modes.add(truth["actions"]["mode"])
        head = table.filter(
            (pl.col("episode_id") == episode)
            & pl.col("kind").is_in(["grasp", "release"])
            & (pl.col("camera") == "head_color")
        )
        pairs = _match(truth["events"], head.to_dicts())
        assert len(pairs) == len(truth["events"]) == head.height
        errors += [row["frame"] - ev["frame"] for ev, row in pairs]
        for ev, row in pairs:
            assert row["name"] == f"{ev['arm']}.{ev['kind']}" and row["end_frame"] == row["frame"] + 1
            assert (row["interaction"], row["interaction_id"]) == ("use", INTERACTION_IDS["use"])
            assert row["text"] and ev["object_type"] in row["text"]  # the enclosing segment's text
    assert modes == {"commanded", "sparse"}
    assert max(abs(e) for e in errors) <= TOLERANCE
    assert np.mean(np.array(errors) == 0) >= 0.9  # measured: every one exact


def test_segments_equal_task_info(raw: Path, extracted) -> None:
    table, _ = extracted
    for episode in _episodes(raw):
        truth, _ = _truth(raw, episode)
        task = episode.split("_")[0]
        records = json.loads((raw / "task_info" / f"task_{task}.json").read_text())
        (rec,) = [r for r in records if str(r["episode_id"]) == episode.split("_")[1]]
        segs = table.filter((pl.col("episode_id") == episode) & (pl.col("kind") == "segment")).sort("frame")
        assert segs.select("frame", "end_frame", "name", "text").rows() == [
            (s["start_frame"], s["end_frame"], s["skill"], s["action_text"])
            for s in rec["label_info"]["action_config"]
        ]
        assert set(segs["camera"]) == {"head_color"} and set(segs["interaction"]) == {"use"}
        assert segs["arm"].to_list() == [s["arm"] for s in truth["segments"]]  # Place texts name no arm


def test_prompt_points_lie_on_the_object(raw: Path, extracted) -> None:
    table, _ = extracted
    hits: dict[str, list[bool]] = {"grasp": [], "release": [], "hand": [], "segment": []}
    for episode in _episodes(raw):
        truth, npz = _truth(raw, episode)
        rows = table.filter(pl.col("episode_id") == episode)
        with np.load(npz) as z:
            masks = {cam: z[f"masks_{cam}"] for cam in truth["cameras"]}
        events = truth["events"]
        head = rows.filter(pl.col("kind").is_in(["grasp", "release"]) & (pl.col("camera") == "head_color"))
        for ev, row in _match(events, head.to_dicts()):
            assert row["prompt_visible"]
            hits[ev["kind"]].append(_pixel(masks["head_color"], row) == ev["object_id"])
        hand = rows.filter(pl.col("camera").str.starts_with("hand"))
        assert hand.height == head.height  # the point is inside the acting arm's hand camera every time
        for ev, row in _match(events, hand.to_dicts()):
            assert row["camera"] == f"hand_{ev['arm']}_color" and row["prompt_visible"]
            hits["hand"].append(_pixel(masks[row["camera"]], row) == ev["object_id"])
        segs = rows.filter(pl.col("kind") == "segment").sort("frame").to_dicts()
        for seg, row in zip(truth["segments"], segs):
            hits["segment"].append(_pixel(masks["head_color"], row) == seg["object_id"])
    rates = {k: float(np.mean(v)) for k, v in hits.items()}
    assert len(hits["grasp"]) == EPISODES * OBJECTS
    # measured on these episodes: 1.0 for all four
    assert rates["grasp"] >= 0.95 and rates["release"] >= 0.85, rates
    assert rates["hand"] >= 0.95 and rates["segment"] >= 0.85, rates


@pytest.mark.parametrize(
    "pattern, note",
    [
        ("*.json", "head_color has no intrinsic parameters"),
        ("*_extrinsic_*.json", "head_color has no per-frame extrinsics"),
    ],
)
def test_missing_camera_parameters_give_events_without_prompts(
    raw: Path, tmp_path: Path, pattern, note
) -> None:
    copy = tmp_path / "raw"
    shutil.copytree(raw, copy, ignore=shutil.ignore_patterns("truth", "depth"))
    ref = agibot.discover(copy)[0]
    for path in ref.camera_dir.glob(pattern):
        path.unlink()
    out = str(tmp_path / "ds.zarr")
    report = ingest(out, [ref], agibot.read, "agibot")
    assert not report.failed, report.summary()
    table, warnings = extract_events(out)
    truth, _ = _truth(raw, ref.episode_id)
    events = table.filter(pl.col("kind").is_in(["grasp", "release"]))
    _match(truth["events"], events.to_dicts())
    assert set(table["camera"]) == {"head_color"}  # no hand rows: nothing says where the point lands
    assert table["prompt_row"].is_null().all() and table["prompt_col"].is_null().all()
    assert not table["prompt_visible"].any()
    assert all(note in row_note for row_note in table["prompt_note"])
    assert any("prompt points limited" in w for w in warnings)


# ----------------------------------------------------------------------------- many worlds, no files


def _tracks(rec) -> tuple[dict[str, ArmTrack], dict[str, Camera]]:
    """What agibot_episode_events reads from a dataset, straight from a simulated episode."""
    world = AgibotWorld()
    world.reset(rec.world_seed, rec.n_objects)
    cameras = {}
    for cam in agibot_constants.CAMERAS:
        poses = []
        for state in rec.states:
            world.set_state(state)
            poses.append(world.camera_pose(cam))
        rot, trans = (np.array(p) for p in zip(*poses))
        cameras[cam] = Camera(
            cam, agibot_constants.HEIGHT, agibot_constants.WIDTH, world.intrinsics(cam), rot, trans
        )
    rotation = quaternion_matrix(rec.proprio["state/end/orientation"])
    arms = {}
    for i, arm in enumerate(agibot_constants.ARMS):
        track = ArmTrack(
            rec.proprio["state/effector/position"][:, i],
            rec.actions["action/effector/position"][:, i],
            GripperGeometry().palm_positions(
                rec.proprio["state/end/position"][:, i], rotation[:, i]
            ),  # end is the flange
            rotation[:, i],
        )
        track.transitions, warnings = gripper_transitions(track.opening, track.command)
        assert warnings == []
        arms[arm] = track
    return arms, cameras


def test_head_prompt_on_object_mask_over_many_worlds() -> None:
    on_mask, errors = [], []
    for seed in range(40):
        rec = simulate_episode(2000 + seed, 1 + seed % 4, 40)
        arms, cameras = _tracks(rec)
        rows = events_from_tracks(arms, cameras, rec.segments, rec.n_frames)
        grasps = [r for r in rows if r["kind"] == "grasp" and r["camera"] == "head_color"]
        world = AgibotWorld()
        world.reset(rec.world_seed, rec.n_objects)
        for ev, row in _match([e for e in rec.events if e["kind"] == "grasp"], grasps):
            errors.append(row["frame"] - ev["frame"])
            world.set_state(rec.states[row["frame"]])
            ids = world.render("head_color")[1]
            on_mask.append(
                row["prompt_visible"] and _pixel(ids[None], {**row, "frame": 0}) == ev["object_id"]
            )
    assert len(on_mask) == 100 and errors == [0] * 100
    assert np.mean(on_mask) >= 0.97  # measured 0.99 (1.0 on these seeds); the grasp point itself: 0.25


def test_geometry_defaults_are_the_synthetic_gripper() -> None:
    g = GripperGeometry()
    assert np.allclose(g.palm_half, agibot_constants.PALM_HALF)
    assert (g.finger_length, g.finger_thickness, g.finger_depth) == (
        agibot_constants.FINGER_LEN,
        agibot_constants.FINGER_THICK,
        agibot_constants.FINGER_DEPTH,
    )
    assert g.wrist_length == agibot_constants.WRIST_LEN
    assert g.tip_depth > agibot_constants.TCP_DEPTH
    # states/end is the flange: the same offsets as the world's (grasp point 0.143 m along the flange z axis)
    assert g.grasp_offset == agibot_constants.FLANGE_TO_GRASP == pytest.approx(0.143)
    assert g.flange_to_palm == pytest.approx(agibot_constants.FLANGE_TO_PALM)
    world = AgibotWorld()
    world.reset(seed=1, n_objects=1)
    flange = world.proprio()["end/position"]
    rotation = quaternion_matrix(world.proprio()["end/orientation"])
    assert np.allclose(g.palm_positions(flange, rotation), world.state.ee)
    assert np.allclose(flange + rotation[..., :, 2] * g.grasp_offset, [world.tcp(0), world.tcp(1)])
    for yaw in (0.0, 0.7, -2.0):
        assert np.allclose(
            quaternion_matrix(kinematics.gripper_quaternion(yaw)), kinematics.gripper_rotation(yaw)
        )


# ----------------------------------------------------------------------------- gripper signals


def _scripted(
    n: int = 80, width: float = 50.0, close_at: int = 20, open_at: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Opening and command of one clean grasp (grasp at close_at + 2, release at open_at + 1)."""
    command = np.zeros(n)
    command[close_at:open_at] = 1.0
    opening = np.full(n, 90.0)
    for t in range(1, n):
        if command[t - 1] > 0.5:
            opening[t] = max(width, opening[t - 1] - 20.0)
        else:
            opening[t] = min(90.0, opening[t - 1] + 20.0)
    return opening, command


def test_clean_grasp_and_release_frames() -> None:
    opening, command = _scripted()
    events, warnings = gripper_transitions(opening, command)
    assert [(e.kind, e.frame) for e in events] == [("grasp", 22), ("release", 51)] and warnings == []
    assert events[0].opening_mm == 50.0


def test_command_chatter_creates_no_events() -> None:
    n = 60
    opening = np.full(n, 90.0)
    command = np.zeros(n)
    command[20] = 1.0  # a one-frame close: the jaws twitch and reopen
    opening[21], opening[22] = 70.0, 90.0
    command[40:42] = 1.0  # two frames
    opening[41], opening[42], opening[43] = 70.0, 50.0, 70.0
    assert not debounce(command).any()
    assert gripper_transitions(opening, command) == ([], [])
    # a 1/0/1 flicker while holding, the jaws twitching open for a frame: still one grasp, one release
    opening, command = _scripted()
    command[35] = 0.0
    opening[36] = 70.0
    events, _ = gripper_transitions(opening, command)
    assert [(e.kind, e.frame) for e in events] == [("grasp", 22), ("release", 51)]
    # continuous commands around 0.5 do not toggle (hysteresis)
    opening, command = _scripted()
    wobble = command + np.where(command > 0.5, -0.55, 0.55) * (np.arange(len(command)) % 2)
    events, _ = gripper_transitions(opening, wobble)
    assert [(e.kind, e.frame) for e in events] == [("grasp", 22), ("release", 51)]


def test_noisy_opening_and_sparse_commands() -> None:
    rng = np.random.default_rng(0)
    for trial in range(20):
        opening, command = _scripted(close_at=20 + trial % 3, open_at=50 + trial % 4)
        noisy = opening + rng.normal(0, 0.5, len(opening))
        filled = np.ones(len(command), bool)
        filled[:: 2 + trial % 2] = False  # rows recorded at every 2nd or 3rd frame
        held = command.copy()
        held[filled] = noisy[filled] < 81.0  # the reader's fill: the opening thresholded
        events, _ = gripper_transitions(noisy, held, filled)
        assert [e.kind for e in events] == ["grasp", "release"]
        assert abs(events[0].frame - (22 + trial % 3)) <= TOLERANCE
        assert abs(events[1].frame - (51 + trial % 4)) <= TOLERANCE


def test_a_close_to_fully_closed_is_a_missed_grasp() -> None:
    opening, command = _scripted(width=0.0)
    events, warnings = gripper_transitions(opening, command)
    assert events == []
    assert len(warnings) == 1 and "missed grasp" in warnings[0]


def test_no_command_array_uses_the_opening() -> None:
    opening, _ = _scripted()
    events, _ = gripper_transitions(opening, None)
    assert [(e.kind, e.frame) for e in events] == [("grasp", 22), ("release", 51)]


def test_skill_interactions() -> None:
    assert interaction_of_skill("Pick") == interaction_of_skill("place") == "use"
    assert interaction_of_skill("Open drawer") == "switch"
    assert interaction_of_skill("Approach") == "approach"
    assert interaction_of_skill("Cut") == "mine"
    assert interaction_of_skill("") == interaction_of_skill("Dance") == "none"
