"""The AgiBot reader: every field round-trips, short actions are placed and filled, bad input is named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from goalframe.media.video import write_mp4
from goalframe.schemas.episode import RawFormatError
from goalframe.sim.agibot.synth import episode_ids, synthesize_agibot
from goalframe.sources.agibot import discover, read

CAMERAS = ("hand_left_color", "hand_right_color", "head_color")


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("agibot_reader_raw")
    synthesize_agibot(out, episodes=2, seed=3, frames_per_object=60, n_objects=1)
    return out


@pytest.fixture
def copy(raw: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "raw"
    shutil.copytree(raw, dst, ignore=shutil.ignore_patterns("truth"))
    return dst


def _h5_datasets(path: Path) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    with h5py.File(path) as h5:
        h5.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
    return out


def _ref(raw: Path, which: int = 0):
    refs = discover(raw)
    return refs[which]


def test_discover(raw: Path) -> None:
    refs = discover(raw)
    expected = [f"{t}_{e}" for t, e in episode_ids(2)]
    assert [r.episode_id for r in refs] == expected
    for ref, (task, ep) in zip(refs, episode_ids(2)):
        assert (ref.task_id, ref.raw_episode_id) == (str(task), str(ep))
        names = {p.name for p in ref.paths}
        assert "proprio_stats.h5" in names and {f"{c}.mp4" for c in CAMERAS} <= names
        assert {f"{c.removesuffix('_color')}_intrinsic_params.json" for c in CAMERAS} <= names
        assert all(p.is_file() for p in ref.paths)
    # an episode with only observations (no h5) is still found
    assert discover(raw / "observations") == []


@pytest.mark.parametrize("which", [0, 1])
def test_round_trip(raw: Path, which: int) -> None:
    ref = _ref(raw, which)
    ep = read(ref)
    h5 = _h5_datasets(ref.h5)
    n = len(h5["timestamp"])
    assert ep.episode_id == ref.episode_id and ep.source_format == "agibot" and ep.fps == 30
    assert (
        ep.n_frames == n
        and np.array_equal(ep.timestamps, h5["timestamp"])
        and ep.timestamps.dtype == np.int64
    )
    assert set(ep.videos) == set(CAMERAS)
    for cam, v in ep.videos.items():
        assert (v.n_frames, v.height, v.width) == (n, 480, 640) and v.path.name == f"{cam}.mp4"

    empty = sorted(k for k, v in h5.items() if v.size == 0)
    assert sorted(ep.attrs["empty_datasets"]) == empty and "state/joint/effort" in empty
    for key, value in h5.items():
        if key.startswith("state/") and value.size:
            out = ep.arrays["states/" + key[len("state/") :]]
            assert out.dtype == value.dtype and np.array_equal(out, value), key
    assert not any(k.startswith("states/robot") for k in ep.arrays)

    # actions: full-length rows taken as they are, the index kept as "commanded";
    # short rows placed at their index frames (an empty end index uses the joint one), the rest filled
    for group in ("joint", "effector", "end", "head", "waist", "robot"):
        idx = h5[f"action/{group}/index"]
        if not len(idx) and group == "end":
            idx = h5["action/joint/index"]
        commanded = ep.arrays[f"actions/{group}/commanded"]
        assert commanded.dtype == bool and commanded.shape == (n,)
        assert np.array_equal(commanded, np.isin(np.arange(n), idx))
    placed_keys = [k for k in h5 if k.startswith("action/") and not k.endswith("/index")]
    assert {"actions/" + k[len("action/") :] for k in placed_keys} <= set(ep.arrays)
    for key in placed_keys:
        group = key.split("/")[1]
        out = ep.arrays["actions/" + key[len("action/") :]]
        filled = ep.arrays[f"actions/{group}/filled"]
        assert out.shape == (n, *h5[key].shape[1:])
        if len(h5[key]) == n:
            assert np.array_equal(out, h5[key]) and not filled.any(), key
            continue
        idx = h5[f"action/{group}/index"] if len(h5[f"action/{group}/index"]) else h5["action/joint/index"]
        assert np.array_equal(out[idx], h5[key]), key
        assert np.array_equal(~filled, np.isin(np.arange(n), idx))
        if group in ("joint", "end", "head", "waist"):
            state = h5[key.replace("action/", "state/")]
            assert np.array_equal(out[filled], state[filled]), key
        elif group == "effector":
            opening = h5["state/effector/position"]
            thr = ep.attrs["action_fill"]["effector/position"]["threshold_mm"]
            assert np.array_equal(out[filled], (opening[filled] < thr).astype(float))
            assert ep.attrs["action_fill"]["effector/position"]["method"] == "state opening thresholded"
            # the thresholded opening agrees with the commands recorded at neighbouring frames
            nxt = np.minimum(np.searchsorted(idx, np.flatnonzero(filled)), len(idx) - 1)
            agree = (out[filled] == h5[key][nxt]).mean()
            assert agree > 0.8
        elif group == "robot":
            assert np.all(out[filled] == 0)
    if len(h5["action/joint/position"]) < n:
        assert ep.attrs["action_fill"]["joint/position"]["source"] == "state/joint/position"
        assert ep.array_attrs["actions/joint/position"]["filled_rows"] == int(
            ep.arrays["actions/joint/filled"].sum()
        )
    assert ep.attrs["actions_equal_state"]["joint/position"] == np.array_equal(
        h5["action/joint/position"], h5["state/joint/position"]
    )
    assert ep.array_attrs["states/joint/current_value"]["unit"] == "motor steps"
    assert "flange" in ep.array_attrs["states/end/position"]["pose_of"]
    assert ep.attrs["effector"]["type"] == "gripper" and ep.attrs["vectors"]["state"][0] == "head.yaw"

    # task record and segments
    records = json.loads(ref.task_info.read_text())
    (rec,) = [r for r in records if str(r["episode_id"]) == ref.raw_episode_id]
    task = ep.attrs["task"]
    assert task["task_name"] == rec["task_name"] and task["init_scene_text"] == rec["init_scene_text"]
    config = rec["label_info"]["action_config"]
    assert task["action_config"] == config
    assert ep.arrays["segments/start_frame"].dtype == np.int32
    assert ep.arrays["segments/start_frame"].tolist() == [s["start_frame"] for s in config]
    assert ep.arrays["segments/end_frame"].tolist() == [s["end_frame"] for s in config]
    assert ep.array_attrs["segments/start_frame"]["action_text"] == [s["action_text"] for s in config]
    assert ep.attrs["segments"]["skill"] == [s["skill"] for s in config]

    # cameras: parameter files named by the prefix without _color
    for cam in CAMERAS:
        prefix = cam.removesuffix("_color")
        intr = json.loads((ref.camera_dir / f"{prefix}_intrinsic_params.json").read_text())["intrinsic"]
        info = ep.attrs["cameras"][cam]
        assert info["intrinsic"] == intr and info["has_extrinsics"] is True and intr["fx"] != intr["fy"]
        ext = json.loads((ref.camera_dir / f"{prefix}_extrinsic_params_aligned.json").read_text())
        rot, trans = ep.arrays[f"cameras/{cam}/rotation"], ep.arrays[f"cameras/{cam}/translation"]
        assert rot.shape == (n, 3, 3) and trans.shape == (n, 3) and rot.dtype == np.float64
        assert np.array_equal(rot, [e["extrinsic"]["rotation_matrix"] for e in ext])
        assert np.array_equal(trans, [e["extrinsic"]["translation_vector"] for e in ext])

    json.dumps(ep.attrs)
    json.dumps(ep.array_attrs)
    assert ep.raw_files == ref.paths and ep.warnings == []
    assert ep.attrs["depth"]["files"]


def test_both_action_layouts_are_generated(raw: Path) -> None:
    episodes = [read(r) for r in discover(raw)]
    # episode 0: a row per frame and shorter joint/end indexes (the usual Beta layout)
    assert not episodes[0].arrays["actions/joint/filled"].any()
    assert 0 < episodes[0].arrays["actions/joint/commanded"].sum() < episodes[0].n_frames
    assert episodes[0].arrays["actions/effector/commanded"].all()
    # episode 1: the rarer short rows, placed by index, with an empty end index
    assert episodes[1].arrays["actions/joint/filled"].any()
    assert episodes[1].array_attrs["actions/end/position"]["placed_by"] == "action/joint/index"


def test_missing_extrinsics_allowed(copy: Path) -> None:
    ref = _ref(copy)
    (ref.camera_dir / "hand_left_extrinsic_params_aligned.json").unlink()
    (ref.camera_dir / "hand_left_extrinsic_params.json").unlink()
    ep = read(ref)
    assert ep.attrs["cameras"]["hand_left_color"]["has_extrinsics"] is False
    assert "cameras/hand_left_color/rotation" not in ep.arrays
    assert ep.attrs["cameras"]["head_color"]["has_extrinsics"] is True


def test_full_length_actions_without_index(copy: Path) -> None:
    ref = _ref(copy)
    with h5py.File(ref.h5, "a") as h5:
        n = len(h5["timestamp"])
        pos = h5["state/joint/position"][()]
        del h5["action/joint/position"], h5["action/joint/index"]
        h5["action/joint/position"] = pos
    ep = read(ref)
    assert not ep.arrays["actions/joint/filled"].any() and ep.arrays["actions/joint/position"].shape == (
        n,
        14,
    )


def _expect(ref_file: Path, fn) -> RawFormatError:
    with pytest.raises(RawFormatError) as info:
        fn()
    assert str(ref_file) in str(info.value)
    assert "\n" not in str(info.value)
    return info.value


@pytest.mark.parametrize(
    "key", ["timestamp", "state/joint/position", "state/effector/position", "state/end/position"]
)
def test_missing_required_key(copy: Path, key: str) -> None:
    ref = _ref(copy)
    with h5py.File(ref.h5, "a") as h5:
        del h5[key]
    err = _expect(ref.h5, lambda: read(ref))
    assert key in str(err)


def test_action_longer_than_state_without_index(copy: Path) -> None:
    ref = _ref(copy)
    with h5py.File(ref.h5, "a") as h5:
        n = len(h5["timestamp"])
        del h5["action/end/position"], h5["action/end/orientation"], h5["action/end/index"]
        h5["action/end/position"] = np.zeros((n + 5, 2, 3))
        h5["action/end/orientation"] = np.zeros((n + 5, 2, 4))
    err = _expect(ref.h5, lambda: read(ref))
    assert "action/end/" in str(err)


def test_action_index_out_of_range(copy: Path) -> None:
    ref = _ref(copy)
    with h5py.File(ref.h5, "a") as h5:
        n = len(h5["timestamp"])
        idx = h5["action/head/index"][()]
        idx[-1] = n + 3
        h5["action/head/index"][...] = idx
    err = _expect(ref.h5, lambda: read(ref))
    assert "action/head/index" in str(err)


def test_action_index_length_mismatch(copy: Path) -> None:
    ref = _ref(copy, 1)  # the short-actions episode: its rows are placed by the index
    with h5py.File(ref.h5, "a") as h5:
        idx = h5["action/waist/index"][()]
        del h5["action/waist/index"]
        h5["action/waist/index"] = idx[:-2]
    _expect(ref.h5, lambda: read(ref))


def test_state_length_mismatch(copy: Path) -> None:
    ref = _ref(copy)
    with h5py.File(ref.h5, "a") as h5:
        v = h5["state/head/position"][()]
        del h5["state/head/position"]
        h5["state/head/position"] = v[:-1]
    _expect(ref.h5, lambda: read(ref))


def test_corrupt_h5(copy: Path) -> None:
    ref = _ref(copy)
    ref.h5.write_bytes(b"not an hdf5 file" * 10)
    _expect(ref.h5, lambda: read(ref))


def test_corrupt_mp4(copy: Path) -> None:
    ref = _ref(copy)
    mp4 = ref.videos_dir / "hand_right_color.mp4"
    mp4.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    _expect(mp4, lambda: read(ref))


def test_video_frame_count_mismatch(copy: Path) -> None:
    ref = _ref(copy)
    mp4 = ref.videos_dir / "head_color.mp4"
    with h5py.File(ref.h5) as h5:
        n = len(h5["timestamp"])
    write_mp4(mp4, (np.zeros((480, 640, 3), np.uint8) for _ in range(n - 2)), fps=30)
    err = _expect(mp4, lambda: read(ref))
    assert str(n - 2) in str(err)


def test_episode_absent_from_task_info(copy: Path) -> None:
    ref = _ref(copy)
    records = json.loads(ref.task_info.read_text())
    ref.task_info.write_text(json.dumps([r for r in records if str(r["episode_id"]) != ref.raw_episode_id]))
    err = _expect(ref.task_info, lambda: read(ref))
    assert ref.raw_episode_id in str(err)


def test_missing_task_info(copy: Path) -> None:
    ref = _ref(copy)
    ref.task_info.unlink()
    _expect(ref.task_info, lambda: read(ref))


def test_malformed_task_info(copy: Path) -> None:
    ref = _ref(copy)
    ref.task_info.write_text('[{"episode_id": 1,')
    _expect(ref.task_info, lambda: read(ref))


@pytest.mark.parametrize(
    "name, content",
    [
        ("head_intrinsic_params.json", "{not json"),
        ("head_intrinsic_params.json", json.dumps({"intrinsic": {"fx": 1.0}})),
        ("hand_left_extrinsic_params_aligned.json", json.dumps({"extrinsic": {}})),
        ("hand_left_extrinsic_params.json", json.dumps([])),
        (
            "hand_left_extrinsic_params_aligned.json",
            json.dumps(
                [{"extrinsic": {"rotation_matrix": [[1, 0], [0, 1]], "translation_vector": [0, 0]}}] * 3
            ),
        ),
    ],
)
def test_malformed_camera_json(copy: Path, name: str, content: str) -> None:
    ref = _ref(copy)
    path = ref.camera_dir / name
    path.write_text(content)
    _expect(path, lambda: read(ref))


def test_extrinsic_count_mismatch(copy: Path) -> None:
    ref = _ref(copy)
    path = ref.camera_dir / "head_extrinsic_params_aligned.json"
    ext = json.loads(path.read_text())
    path.write_text(json.dumps(ext[:-3]))
    _expect(path, lambda: read(ref))


def test_missing_h5(copy: Path) -> None:
    ref = _ref(copy)
    ref.h5.unlink()
    assert ref.episode_id in [r.episode_id for r in discover(copy)]  # still discovered from observations/
    _expect(ref.h5, lambda: read(ref))


def test_a_real_beta_layout_is_accepted(copy: Path) -> None:
    """The issue's real episode: 90 rows per action, a 72-entry end index (was rejected)."""
    ref = _ref(copy)
    with h5py.File(ref.h5, "a") as h5:
        n = len(h5["timestamp"])
        del h5["action/end/index"]
        h5["action/end/index"] = np.arange(5, 5 + int(n * 0.8), dtype=np.int64)
    ep = read(ref)
    assert ep.arrays["actions/end/position"].shape == (n, 2, 3)
    assert (
        ep.arrays["actions/end/commanded"].sum() == int(n * 0.8) and not ep.arrays["actions/end/filled"].any()
    )


def test_action_longer_than_state_with_index_is_rejected(copy: Path) -> None:
    ref = _ref(copy)
    with h5py.File(ref.h5, "a") as h5:
        n = len(h5["timestamp"])
        del h5["action/joint/position"]
        h5["action/joint/position"] = np.zeros((n + 7, 14))
    err = _expect(ref.h5, lambda: read(ref))
    assert "action/joint/position" in str(err) and "longer" in str(err)


def test_single_frame_extrinsics_carry_hand_cameras_with_the_flange(copy: Path) -> None:
    """One pose per camera: the head stays, each hand camera moves with its arm's flange (as
    Genie-Envisioner does); on generated data that reproduces the per-frame poses exactly."""
    ref = _ref(copy)
    full = read(ref)
    for cam in CAMERAS:
        prefix = cam.removesuffix("_color")
        path = ref.camera_dir / f"{prefix}_extrinsic_params_aligned.json"
        path.write_text(json.dumps(json.loads(path.read_text())[:1]))
    one = read(ref)
    for cam in CAMERAS:
        assert np.allclose(
            one.arrays[f"cameras/{cam}/rotation"], full.arrays[f"cameras/{cam}/rotation"], atol=1e-9
        )
        assert np.allclose(
            one.arrays[f"cameras/{cam}/translation"], full.arrays[f"cameras/{cam}/translation"], atol=1e-9
        )
    assert (
        "carried with the left arm's flange" in one.array_attrs["cameras/hand_left_color/rotation"]["source"]
    )
    assert "fixed" in one.array_attrs["cameras/head_color/rotation"]["source"]
    # only the unaligned single-dict file: read too
    for cam in CAMERAS:
        (ref.camera_dir / f"{cam.removesuffix('_color')}_extrinsic_params_aligned.json").unlink()
    unaligned = read(ref)
    assert np.allclose(
        unaligned.arrays["cameras/hand_right_color/translation"],
        full.arrays["cameras/hand_right_color/translation"],
    )
    assert "extrinsic_params.json" in unaligned.attrs["cameras"]["head_color"]["extrinsics"]


def test_camera_folder_without_the_parameters_level(copy: Path) -> None:
    ref = _ref(copy)
    flat = ref.camera_dir.parent.parent / "camera"
    shutil.move(ref.camera_dir, flat)
    shutil.rmtree(ref.camera_dir.parent)
    (moved,) = [r for r in discover(copy) if r.episode_id == ref.episode_id]
    assert moved.camera_dir == flat
    ep = read(moved)
    assert all(
        ep.attrs["cameras"][c]["has_intrinsics"] and ep.attrs["cameras"][c]["has_extrinsics"] for c in CAMERAS
    )


def test_files_named_after_the_video_are_still_linked(copy: Path) -> None:
    """Older exports name the files after the video (head_color_intrinsic_params.json)."""
    ref = _ref(copy)
    for path in ref.camera_dir.glob("head_*.json"):
        path.rename(path.with_name(path.name.replace("head_", "head_color_", 1)))
    ep = read(ref)
    assert ep.attrs["cameras"]["head_color"]["parameter_prefix"] == "head_color"
    assert "cameras/head_color/rotation" in ep.arrays


def test_dexterous_hands_are_labelled_and_never_thresholded(copy: Path) -> None:
    ref = _ref(copy, 1)
    with h5py.File(ref.h5, "a") as h5:
        n = len(h5["timestamp"])
        angles = np.linspace(0, 1.2, n)[:, None] * np.ones((1, 12))
        del h5["state/effector/position"], h5["action/effector/position"]
        h5["state/effector/position"] = angles
        h5["action/effector/position"] = angles[::2]
    ep = read(ref)
    assert (
        ep.attrs["effector"]["type"] == "dexhand"
        and ep.array_attrs["states/effector/position"]["unit"] == "rad"
    )
    filled = ep.arrays["actions/effector/filled"]
    assert filled.any() and np.array_equal(ep.arrays["actions/effector/position"][filled], angles[filled])
    assert ep.attrs["action_fill"]["effector/position"]["method"] == "copy of the state at the same frame"
    assert "refused" in ep.attrs["vectors"]


def test_task_info_with_bad_utf8_is_replaced_with_a_warning(copy: Path) -> None:
    ref = _ref(copy)
    records = json.loads(ref.task_info.read_text())
    records[0]["task_name"] = "Tidy up the table XX"
    ref.task_info.write_bytes(json.dumps(records).encode().replace(b"XX", b"\xff\xfe"))
    ep = read(ref)
    assert ep.attrs["task"]["task_name"].startswith("Tidy up the table")
    assert any("not UTF-8" in w and ref.task_info.name in w for w in ep.warnings)


def test_english_action_text_variant(copy: Path) -> None:
    ref = _ref(copy)
    records = json.loads(ref.task_info.read_text())
    for rec in records:
        for seg in rec["label_info"]["action_config"]:
            seg["english_action_text"] = seg.pop("action_text")
    ref.task_info.write_text(json.dumps(records))
    ep = read(ref)
    assert ep.array_attrs["segments/start_frame"]["action_text"][0].startswith("Pick up the")
