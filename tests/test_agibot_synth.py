"""Synthetic AgiBot World recordings: real layout, exact h5 tree, camera geometry, truth."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest

from goalframe.media.video import iter_frames, probe_video
from goalframe.sim.agibot.constants import CAMERAS, FLANGE_TO_GRASP, FLANGE_TO_PALM, GRIPPER_IDS, TABLE_Z
from goalframe.sim.agibot.kinematics import flange_of_palm
from goalframe.sim.agibot.synth import episode_ids, synthesize_agibot, truth_paths
from goalframe.sim.agibot.world import AgibotWorld

SEED = 11
FPO = 60  # frames per object: ~63-frame episodes

STATE_KEYS = {
    "state/joint/position": ((None, 14), "float64"),
    "state/joint/current_value": ((None, 14), "float64"),
    "state/joint/effort": ((0,), "float32"),
    "state/joint/velocity": ((0,), "float32"),
    "state/effector/position": ((None, 2), "float64"),
    "state/end/position": ((None, 2, 3), "float64"),
    "state/end/orientation": ((None, 2, 4), "float64"),
    "state/head/position": ((None, 2), "float64"),
    "state/waist/position": ((None, 2), "float64"),
    "state/robot/orientation": ((0,), "float32"),
    "state/robot/orientation_drift": ((0,), "float32"),
    "state/robot/position": ((0,), "float32"),
    "state/robot/position_drift": ((0,), "float32"),
}
ACTION_KEYS = {
    "action/joint/position": (14,),
    "action/effector/position": (2,),
    "action/end/position": (2, 3),
    "action/end/orientation": (2, 4),
    "action/head/position": (2,),
    "action/waist/position": (2,),
    "action/robot/velocity": (2,),
}
GROUPS = ("joint", "effector", "end", "head", "waist", "robot")


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("agibot_raw")
    stats: dict = {}
    seen: list[int] = []
    paths = synthesize_agibot(
        out, episodes=2, seed=SEED, frames_per_object=FPO, n_objects=1, progress=seen.append, stats=stats
    )
    assert len(paths) == 2 and all(p.is_dir() for p in paths)
    assert sum(seen) == stats["frames"] and len(seen) == 2
    return out


def _episodes(raw: Path) -> list[tuple[int, int]]:
    return episode_ids(2)


def _h5(raw: Path, task: int, ep: int) -> Path:
    return raw / "proprio_stats" / str(task) / str(ep) / "proprio_stats.h5"


def _truth(raw: Path, task: int, ep: int) -> tuple[dict, dict]:
    npz, js = truth_paths(raw, task, ep)
    with np.load(npz) as z:
        masks = {k: z[k] for k in z.files}
    return json.loads(js.read_text()), masks


def _cam_params(raw: Path, task: int, ep: int, cam: str) -> tuple[dict, list]:
    d = raw / "parameters" / str(task) / str(ep) / "parameters" / "camera"
    prefix = cam.removesuffix("_color")  # files are named by the camera prefix, as in real releases
    intr = json.loads((d / f"{prefix}_intrinsic_params.json").read_text())["intrinsic"]
    ext = json.loads((d / f"{prefix}_extrinsic_params_aligned.json").read_text())
    return intr, ext


def test_layout_and_task_info(raw: Path) -> None:
    tasks = {t for t, _ in _episodes(raw)}
    for task in tasks:
        records = json.loads((raw / "task_info" / f"task_{task}.json").read_text())
        assert isinstance(records, list)
        for rec in records:
            assert isinstance(rec["episode_id"], int)
            assert rec["task_name"] and rec["init_scene_text"]
            for seg in rec["label_info"]["action_config"]:
                assert set(seg) == {"start_frame", "end_frame", "action_text", "skill"}
                assert seg["skill"] in ("Pick", "Place")
    for task, ep in _episodes(raw):
        obs = raw / "observations" / str(task) / str(ep)
        assert sorted(p.name for p in (obs / "videos").iterdir()) == sorted(f"{c}.mp4" for c in CAMERAS)
        depth = sorted((obs / "depth").glob("head_depth_*.png"))
        assert depth
        for png in depth:
            d = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
            assert d.dtype == np.uint16 and d.shape == (480, 640)
            assert 500 < np.median(d[d > 0]) < 1500  # the table, about 0.8 m away, in mm
        for cam in CAMERAS:
            intr, ext = _cam_params(raw, task, ep, cam)
            assert (
                set(intr) == {"fx", "fy", "ppx", "ppy"} and intr["fx"] < intr["fy"]
            )  # as real Genie-1 cameras
            r = np.array(ext[0]["extrinsic"]["rotation_matrix"])
            assert r.shape == (3, 3) and np.allclose(r @ r.T, np.eye(3), atol=1e-9)
            assert len(ext[0]["extrinsic"]["translation_vector"]) == 3
        assert _h5(raw, task, ep).is_file()


def test_h5_key_tree_and_dtypes(raw: Path) -> None:
    for task, ep in _episodes(raw):
        with h5py.File(_h5(raw, task, ep)) as h5:
            keys: dict[str, h5py.Dataset] = {}
            h5.visititems(lambda n, o: keys.__setitem__(n, o) if isinstance(o, h5py.Dataset) else None)
            expected = {"timestamp", *STATE_KEYS, *ACTION_KEYS, *(f"action/{g}/index" for g in GROUPS)}
            assert set(keys) == expected
            ts = keys["timestamp"]
            assert ts.dtype == np.int64 and ts.ndim == 1
            n = len(ts)
            assert np.all(np.diff(ts[()]) > 0)
            assert abs(np.median(np.diff(ts[()])) - 1e9 / 30) < 1
            for key, (shape, dtype) in STATE_KEYS.items():
                assert keys[key].dtype == np.dtype(dtype), key
                assert keys[key].shape == tuple(n if s is None else s for s in shape), key
            n_act = len(keys["action/head/index"])
            assert n_act in (n, (n + 1) // 2)  # a row per frame, or the rarer rows at every second frame
            for key, tail in ACTION_KEYS.items():
                assert keys[key].dtype == np.float64 and keys[key].shape == (n_act, *tail), key
            for g in GROUPS:
                idx = keys[f"action/{g}/index"]
                assert idx.dtype == np.int64 and idx.ndim == 1 and len(idx) <= n_act
            opening = keys["state/effector/position"][()]
            assert opening.min() >= 0 and opening.max() < 120
            assert set(np.unique(keys["action/effector/position"][()])) <= {0.0, 1.0}
            quat = keys["state/end/orientation"][()]
            assert np.allclose(np.linalg.norm(quat, axis=-1), 1.0)


def test_both_action_layouts_exist(raw: Path) -> None:
    """Episode 0: a row per frame, joint/end indexes shorter (Beta); episode 1: short rows, no end index."""
    (task0, ep0), (task1, ep1) = _episodes(raw)
    with h5py.File(_h5(raw, task0, ep0)) as h5:
        n = len(h5["timestamp"])
        idx = h5["action/joint/index"][()]
        assert np.all(np.diff(idx) > 0) and idx.min() > 0 and idx.max() < n - 1 and len(idx) < n
        assert np.array_equal(h5["action/end/index"][()], idx) and len(h5["action/effector/index"]) == n
        assert all(len(h5[k]) == n for k in ACTION_KEYS)
    with h5py.File(_h5(raw, task1, ep1)) as h5:
        n = len(h5["timestamp"])
        idx = h5["action/joint/index"][()]
        assert len(idx) < n and len(h5["action/joint/position"]) == len(idx) == len(h5["action/end/position"])
        assert len(h5["action/end/index"]) == 0  # the known quirk: the joint index applies


def test_videos_match_h5(raw: Path) -> None:
    for task, ep in _episodes(raw):
        with h5py.File(_h5(raw, task, ep)) as h5:
            n = len(h5["timestamp"])
        for cam in CAMERAS:
            probe = probe_video(raw / "observations" / str(task) / str(ep) / "videos" / f"{cam}.mp4")
            assert (probe.height, probe.width, probe.codec) == (480, 640, "h264")
            assert probe.fps == pytest.approx(30.0)
            assert probe.n_frames == n


def _project(intr: dict, ext: dict, points: np.ndarray) -> np.ndarray:
    rot = np.array(ext["extrinsic"]["rotation_matrix"])
    t = np.array(ext["extrinsic"]["translation_vector"])
    pc = (points - t) @ rot  # camera-to-base: p_cam = R^T (p_base - t)
    assert np.all(pc[:, 2] > 0)
    return np.stack(
        [intr["fx"] * pc[:, 0] / pc[:, 2] + intr["ppx"], intr["fy"] * pc[:, 1] / pc[:, 2] + intr["ppy"]], 1
    )


def test_projection_of_end_effectors_lands_on_grippers(raw: Path) -> None:
    for task, ep in _episodes(raw):
        truth, masks = _truth(raw, task, ep)
        intr, ext = _cam_params(raw, task, ep, "head_color")
        with h5py.File(_h5(raw, task, ep)) as h5:
            end = h5["state/end/position"][()] - [0.0, 0.0, FLANGE_TO_PALM]  # the flange's palm centre
        n = len(end)
        mask = masks["masks_head_color"]
        video = iter_frames(raw / "observations" / str(task) / str(ep) / "videos" / "head_color.mp4")
        inside = hits = dark = 0
        for t, frame in zip(range(n), video):
            uv = np.rint(_project(intr, ext[t], end[t])).astype(int)
            for arm in range(2):
                u, v = uv[arm]
                if not (0 <= u < 640 and 0 <= v < 480):
                    continue
                inside += 1
                hits += mask[t, v, u] == GRIPPER_IDS[arm]
                dark += frame[v, u].max() < 120  # the grippers are dark grey, table and objects are not
        assert inside >= 0.9 * 2 * n
        assert hits >= 0.98 * inside
        assert dark >= 0.95 * inside
        # objects: the initial centre projects onto that object at frame 0
        for obj in truth["objects"]:
            u, v = np.rint(_project(intr, ext[0], np.array([obj["initial_position"]]))[0]).astype(int)
            assert mask[0, v, u] == obj["id"]


def test_hand_cameras_ride_on_the_grippers(raw: Path) -> None:
    for task, ep in _episodes(raw):
        with h5py.File(_h5(raw, task, ep)) as h5:
            end = h5["state/end/position"][()]
        _, masks = _truth(raw, task, ep)
        for arm, cam in enumerate(("hand_left_color", "hand_right_color")):
            _, ext = _cam_params(raw, task, ep, cam)
            t = np.array([e["extrinsic"]["translation_vector"] for e in ext])
            dist = np.linalg.norm(t - end[:, arm], axis=1)
            assert np.allclose(dist, dist[0], atol=1e-9) and dist[0] < 0.15
            # the camera's own fingers are in view in every frame
            own = (masks[f"masks_{cam}"] == GRIPPER_IDS[arm]).reshape(len(end), -1).any(1)
            assert own.all()


def test_truth_masks_and_segments(raw: Path) -> None:
    for task, ep in _episodes(raw):
        truth, masks = _truth(raw, task, ep)
        n = truth["n_frames"]
        assert set(masks) == {f"masks_{c}" for c in CAMERAS}
        for m in masks.values():
            assert m.shape == (n, 480, 640) and m.dtype == np.uint16
        records = json.loads((raw / "task_info" / f"task_{task}.json").read_text())
        (rec,) = [r for r in records if r["episode_id"] == ep]
        config = rec["label_info"]["action_config"]
        assert [
            {k: s[k] for k in ("start_frame", "end_frame", "action_text", "skill")} for s in truth["segments"]
        ] == config
        assert config[0]["start_frame"] == 0 and config[-1]["end_frame"] == n
        assert all(a["end_frame"] == b["start_frame"] for a, b in zip(config, config[1:]))
        names = {o["id"]: o["type"] for o in truth["objects"]}
        grasps = [e for e in truth["events"] if e["kind"] == "grasp"]
        releases = [e for e in truth["events"] if e["kind"] == "release"]
        assert len(grasps) == len(releases) == len(truth["objects"])
        for ev, skill in [(e, "Pick") for e in grasps] + [(e, "Place") for e in releases]:
            (seg,) = [s for s in config if s["start_frame"] <= ev["frame"] < s["end_frame"]]
            assert seg["skill"] == skill and names[ev["object_id"]] in seg["action_text"]
            assert ev["arm"] in seg["action_text"] or skill == "Place"
        with h5py.File(_h5(raw, task, ep)) as h5:
            opening = h5["state/effector/position"][()]
            end = h5["state/end/position"][()]
        for g, r in zip(grasps, releases):
            arm = 0 if g["arm"] == "left" else 1
            held = slice(g["frame"], r["frame"])
            assert opening[held, arm].max() < 80  # closed on the object while holding it
            # the held object moves with the gripper
            obj_pix = (masks["masks_head_color"][g["frame"] : r["frame"]] == g["object_id"]).sum((1, 2))
            assert obj_pix.min() > 0
            assert np.ptp(end[held, arm, 2]) > 0.05  # lifted


def test_determinism(raw: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    synthesize_agibot(again, episodes=1, seed=SEED, frames_per_object=FPO, n_objects=1)
    task, ep = episode_ids(1)[0]
    with h5py.File(_h5(raw, task, ep)) as a, h5py.File(_h5(again, task, ep)) as b:
        keys: list[str] = []
        a.visititems(lambda n, o: keys.append(n) if isinstance(o, h5py.Dataset) else None)
        for k in keys:
            assert np.array_equal(a[k][()], b[k][()]), k
    t1, m1 = _truth(raw, task, ep)
    t2, m2 = _truth(again, task, ep)
    assert t1 == t2
    for k in m1:
        assert np.array_equal(m1[k], m2[k])
    # the truth names the world: resetting it reproduces the episode's first frame
    world = AgibotWorld()
    world.reset(t1["world"]["seed"], t1["world"]["n_objects"])
    for obj in t1["objects"]:
        assert np.allclose(world.object(obj["id"]).position, obj["initial_position"], atol=1e-4)
        assert world.object(obj["id"]).name == obj["type"]
    assert np.array_equal(world.render("head_color")[1], m1["masks_head_color"][0])
    other = tmp_path / "other"
    synthesize_agibot(other, episodes=1, seed=SEED + 1, frames_per_object=FPO, n_objects=1)
    t3, _ = _truth(other, task, ep)
    assert t3["objects"] != t1["objects"]


def test_world_steps_deterministically_and_grasps() -> None:
    def run() -> tuple[list, np.ndarray, np.ndarray]:
        world = AgibotWorld()
        world.reset(seed=4, n_objects=2)
        obj = world.objects[0]
        arm = 0 if obj.position[1] > 0 else 1
        yaw = np.zeros(2)
        yaw[arm] = obj.yaw if obj.shape == "box" else 0.0
        grasp = flange_of_palm(world.state.ee)  # the world takes flange targets, as action/end/position holds
        grasp[arm] = [obj.position[0], obj.position[1], TABLE_Z + max(obj.height / 2, 0.03) + FLANGE_TO_GRASP]
        above = grasp.copy()
        above[arm, 2] += 0.15
        events = []
        for pos, grip, k in ((above, 0, 20), (grasp, 0, 15), (grasp, 1, 5), (above, 1, 10), (grasp, 0, 5)):
            g = np.zeros(2)
            g[arm] = grip
            for _ in range(k):
                events += world.step({"position": pos, "gripper": g, "yaw": yaw})
        rgb, ids = world.render("head_color")
        return [(e.kind, e.arm, e.frame, e.object_id) for e in events], rgb, ids

    e1, rgb1, ids1 = run()
    e2, rgb2, ids2 = run()
    assert e1 == e2 and np.array_equal(rgb1, rgb2) and np.array_equal(ids1, ids2)
    assert [e[0] for e in e1] == ["grasp", "release"] and e1[0][3] == 1
    assert rgb1.shape == (480, 640, 3) and rgb1.dtype == np.uint8 and ids1.dtype == np.uint16


def test_end_pose_is_the_flange_and_the_grasp_point_is_0143_below(raw: Path) -> None:
    """state/end is the flange: the grasp point, FLANGE_TO_GRASP along the approach axis, is
    where the grasped object's centre is at the grasp."""
    assert FLANGE_TO_GRASP == pytest.approx(0.143)
    for task, ep in _episodes(raw):
        truth, _ = _truth(raw, task, ep)
        with h5py.File(_h5(raw, task, ep)) as h5:
            end = h5["state/end/position"][()]
        world = AgibotWorld()
        world.reset(truth["world"]["seed"], truth["world"]["n_objects"])
        for event in (e for e in truth["events"] if e["kind"] == "grasp"):
            arm = 0 if event["arm"] == "left" else 1
            grasp_point = end[event["frame"], arm] - [0.0, 0.0, FLANGE_TO_GRASP]
            obj = world.object(event["object_id"])  # it stood still until the grasp
            assert np.linalg.norm(grasp_point[:2] - obj.position[:2]) < 0.01
            assert abs(grasp_point[2] - (TABLE_Z + max(obj.height / 2, 0.03))) < 0.01
