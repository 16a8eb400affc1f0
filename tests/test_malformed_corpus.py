"""A corpus of malformed raw recordings (every kind of damage the readers know) mixed with
good ones: one ingest run per format reports every bad one with its file and reason and
ingests every good one.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
import vpt_fixtures as fx
from dataset_compare import goalframe

from goalframe.media.video import write_mp4
from goalframe.sim.agibot.synth import synthesize_agibot
from goalframe.sources.agibot import episode_ref
from goalframe.storage import open_dataset
from goalframe.storage.verify import verify_dataset

# ---------------------------------------------------------------------------------- VPT
# name: (write_episode options, text the error must hold besides the file)
LINES = [fx.make_line(t) for t in range(6)]
VPT_BAD: dict[str, tuple[dict, str]] = {
    "missing-mp4": ({"missing_mp4": True}, "video file (.mp4) is missing"),
    "missing-jsonl": ({"missing_jsonl": True}, "action file (.jsonl) is missing"),
    "malformed-middle": ({"malformed_line": 3}, ".jsonl:3: malformed JSON"),
    "frames-off-by-two": ({"n_frames": 8}, "video has 8 frames but"),
    "too-few-frames": ({"n_frames": 4}, "video has 4 frames but"),
    "fps-30": ({"fps": 30}, "30 fps"),
    "unreadable-mp4": ({"garbage_mp4": True}, "unreadable video"),
    "empty-jsonl": ({"lines": [], "n_frames": 6}, "action file has no lines"),
    "only-line-cut": ({"lines": [b'{"mouse": {"x": 1'], "n_frames": 1}, "no valid lines"),
    "wrong-type": (
        {"lines": [LINES[0], fx.make_line(1, mouse={"x": "left"}), *LINES[2:]]},
        ".jsonl:2: field 'mouse.x' is str",
    ),
    "array-line": ({"lines": [LINES[0], b"[1, 2, 3]", *LINES[2:]]}, ".jsonl:2: line is a JSON list"),
    "inventory-without-type": (
        {"lines": [LINES[0], fx.make_line(1, inventory=[{"quantity": 3}]), *LINES[2:]]},
        ".jsonl:2: inventory entry",
    ),
}
VPT_GOOD: dict[str, tuple[dict, str | None]] = {
    "good-a": ({}, None),
    "good-b": ({"n_frames": 7}, None),  # the recorder's doubled last frame
    "truncated-last": ({"truncate_last": True}, "truncated"),
    "non-utf8": ({"bad_utf8_line": 2}, "UTF-8"),
    "no-hotbar-field": ({"drop_fields": ("hotbar",)}, None),
}


def vpt_stem(name: str) -> str:
    return f"{name}-0000-20220101-000000"


@pytest.fixture(scope="module")
def vpt_corpus(tmp_path_factory):
    base = tmp_path_factory.mktemp("corpus-vpt")
    raw = base / "raw"
    for name, (options, _needle) in {**VPT_BAD, **VPT_GOOD}.items():
        fx.write_episode(raw, n_lines=6, stem=vpt_stem(name), **options)
    out = base / "ds.zarr"
    result = goalframe("ingest", "vpt", str(raw), "--out", str(out), "--workers", "2", "--json")
    return raw, out, result


def test_vpt_corpus_every_bad_one_reported_every_good_one_ingested(vpt_corpus):
    raw, out, result = vpt_corpus
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    by_id = {r["episode_id"]: r for r in report["episodes"]}
    assert len(by_id) == len(VPT_BAD) + len(VPT_GOOD)
    for name, (_options, needle) in VPT_BAD.items():
        entry = by_id[vpt_stem(name)]
        assert entry["status"] == "failed", (name, entry)
        assert str(raw) in entry["error"] and vpt_stem(name) in entry["error"], (name, entry["error"])
        assert needle in entry["error"], (name, entry["error"])
        assert "\n" not in entry["error"] and "Traceback" not in entry["error"]
    for name, (_options, warning) in VPT_GOOD.items():
        entry = by_id[vpt_stem(name)]
        assert entry["status"] == "written", (name, entry)
        if warning:
            assert any(warning in w for w in entry["warnings"]), (name, entry["warnings"])
    assert report["failed"] == len(VPT_BAD) and report["written"] == len(VPT_GOOD)
    ds = open_dataset(out)
    assert ds.episodes == sorted(vpt_stem(n) for n in VPT_GOOD)
    assert verify_dataset(str(out)).ok


# ------------------------------------------------------------------------------- AgiBot
CAMERAS = ("hand_left_color", "hand_right_color", "head_color")


def _h5_edit(ref, edit: Callable[[h5py.File], None]) -> None:
    with h5py.File(ref.h5, "a") as h5:
        edit(h5)


def _replace(h5: h5py.File, key: str, value) -> None:
    del h5[key]
    h5[key] = value


def missing_key(key: str):
    return lambda ref: _h5_edit(ref, lambda h5: h5.__delitem__(key)), str(key)


def _longer_action(h5: h5py.File) -> None:
    n = len(h5["timestamp"])
    del h5["action/end/position"], h5["action/end/orientation"], h5["action/end/index"]
    h5["action/end/position"] = np.zeros((n + 5, 2, 3))
    h5["action/end/orientation"] = np.zeros((n + 5, 2, 4))


def _index_out_of_range(h5: h5py.File) -> None:
    index = h5["action/head/index"][()]
    index[-1] = len(h5["timestamp"]) + 3
    h5["action/head/index"][...] = index


def _short_video(ref) -> None:
    with h5py.File(ref.h5) as h5:
        n = len(h5["timestamp"])
    write_mp4(
        ref.videos_dir / "head_color.mp4", (np.zeros((480, 640, 3), np.uint8) for _ in range(n - 2)), fps=30
    )


def _drop_extrinsics(ref, name: str = "head") -> None:
    path = ref.camera_dir / f"{name}_extrinsic_params_aligned.json"
    path.write_text(json.dumps(json.loads(path.read_text())[:-3]))


def _keep_first_extrinsic(ref, name: str) -> None:
    path = ref.camera_dir / f"{name}_extrinsic_params_aligned.json"
    path.write_text(json.dumps(json.loads(path.read_text())[:1]))


def _camera_file(name: str, content: str):
    def damage(ref) -> None:
        (ref.camera_dir / name).write_text(content)

    return damage


BAD_MATRIX = json.dumps(
    [{"extrinsic": {"rotation_matrix": [[1, 0], [0, 1]], "translation_vector": [0, 0]}}] * 3
)
# name: (damage(ref), the file the error names ("h5", "task_info", "camera:<file>", "video:<camera>"), needle)
AGIBOT_BAD: dict[str, tuple[Callable, str, str]] = {
    **{
        f"missing-{key.replace('/', '-')}": (missing_key(key)[0], "h5", key)
        for key in ("timestamp", "state/joint/position", "state/effector/position", "state/end/position")
    },
    "action-longer-than-state": (lambda ref: _h5_edit(ref, _longer_action), "h5", "action/end/"),
    "action-index-out-of-range": (lambda ref: _h5_edit(ref, _index_out_of_range), "h5", "action/head/index"),
    "action-index-length": (
        lambda ref: _h5_edit(
            ref, lambda h5: _replace(h5, "action/waist/position", h5["action/waist/position"][()][:-2])
        ),
        "h5",
        "action/waist/index",
    ),
    "action-longer-with-index": (
        lambda ref: _h5_edit(
            ref, lambda h5: _replace(h5, "action/joint/position", np.zeros((len(h5["timestamp"]) + 4, 14)))
        ),
        "h5",
        "action/joint/position",
    ),
    "state-length": (
        lambda ref: _h5_edit(
            ref, lambda h5: _replace(h5, "state/head/position", h5["state/head/position"][()][:-1])
        ),
        "h5",
        "state/head/position",
    ),
    "corrupt-h5": (lambda ref: ref.h5.write_bytes(b"not an hdf5 file" * 10), "h5", ""),
    "missing-h5": (lambda ref: ref.h5.unlink(), "h5", "missing"),
    "corrupt-mp4": (
        lambda ref: (ref.videos_dir / "hand_right_color.mp4").write_bytes(
            np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes()
        ),
        "video:hand_right_color",
        "",
    ),
    "short-video": (_short_video, "video:head_color", "frames"),
    "intrinsic-not-json": (
        _camera_file("head_intrinsic_params.json", "{not json"),
        "camera:head_intrinsic_params.json",
        "",
    ),
    "intrinsic-incomplete": (
        _camera_file("head_intrinsic_params.json", json.dumps({"intrinsic": {"fx": 1.0}})),
        "camera:head_intrinsic_params.json",
        "",
    ),
    "extrinsic-empty": (
        _camera_file("hand_left_extrinsic_params_aligned.json", json.dumps({"extrinsic": {}})),
        "camera:hand_left_extrinsic_params_aligned.json",
        "",
    ),
    "extrinsic-bad-matrix": (
        _camera_file("hand_left_extrinsic_params_aligned.json", BAD_MATRIX),
        "camera:hand_left_extrinsic_params_aligned.json",
        "",
    ),
    "extrinsic-count": (_drop_extrinsics, "camera:head_extrinsic_params_aligned.json", ""),
    "unaligned-extrinsic-not-json": (
        _camera_file("hand_right_extrinsic_params.json", "[{"),
        "camera:hand_right_extrinsic_params.json",
        "",
    ),
}
# Damage to the task_info json (shared by a task's episodes): each in a task of its own.
AGIBOT_BAD_TASK = {
    "absent-from-task-info": "absent",
    "missing-task-info": "missing",
    "malformed-task-info": "malformed",
}
AGIBOT_GOOD: dict[str, Callable | None] = {
    "as-synthesized": None,
    "clone": None,
    "no-extrinsics": lambda ref: [
        (ref.camera_dir / f"hand_left_{k}.json").unlink()
        for k in ("extrinsic_params_aligned", "extrinsic_params")
    ],
    "real-beta-short-end-index": lambda ref: _h5_edit(
        ref,
        lambda h5: _replace(h5, "action/end/index", np.arange(3, len(h5["timestamp"]) - 6, dtype=np.int64)),
    ),
    "single-frame-extrinsics": lambda ref: _keep_first_extrinsic(ref, "hand_right"),
    "camera-folder-without-parameters-level": lambda ref: shutil.move(
        ref.camera_dir, ref.camera_dir.parent.parent / "camera"
    ),
    "actions-without-index": lambda ref: _h5_edit(
        ref,
        lambda h5: (
            h5.__delitem__("action/joint/index"),
            _replace(h5, "action/joint/position", h5["state/joint/position"][()]),
        ),
    ),
}


def _clone(raw: Path, source: tuple[str, str], task: str, episode: str, record: bool = True) -> None:
    src_task, src_episode = source
    for top in ("observations", "proprio_stats", "parameters"):
        shutil.copytree(raw / top / src_task / src_episode, raw / top / task / episode)
    if not record:
        return
    source_info = raw / "task_info" / f"task_{src_task}.json"
    (template,) = [r for r in json.loads(source_info.read_text()) if str(r["episode_id"]) == src_episode]
    target = raw / "task_info" / f"task_{task}.json"
    records = json.loads(target.read_text()) if target.exists() else []
    records.append(copy.deepcopy(template) | {"episode_id": int(episode)})
    target.write_text(json.dumps(records))


def _named_file(ref, which: str) -> Path:
    if which == "h5":
        return ref.h5
    if which == "task_info":
        return ref.task_info
    kind, name = which.split(":", 1)
    return ref.videos_dir / f"{name}.mp4" if kind == "video" else ref.camera_dir / name


@pytest.fixture(scope="module")
def agibot_corpus(tmp_path_factory):
    base = tmp_path_factory.mktemp("corpus-agibot")
    raw = base / "raw"
    synthesize_agibot(raw, episodes=1, seed=3, frames_per_object=36, n_objects=1)
    shutil.rmtree(raw / "truth")
    (source_task,) = [p.name for p in (raw / "proprio_stats").iterdir()]
    (source_episode,) = [p.name for p in (raw / "proprio_stats" / source_task).iterdir()]
    source = (source_task, source_episode)
    expected: dict[str, tuple[str, str | None, str]] = {}  # episode id -> (status, file, needle)
    next_episode = 900001
    for name, (damage, which, needle) in AGIBOT_BAD.items():
        episode = str(next_episode)
        next_episode += 1
        _clone(raw, source, source_task, episode)
        ref = episode_ref(raw, source_task, episode)
        damage(ref)
        expected[ref.episode_id] = ("failed", str(_named_file(ref, which)), needle)
    for index, (name, how) in enumerate(AGIBOT_BAD_TASK.items()):
        task, episode = str(800 + index), str(next_episode)
        next_episode += 1
        _clone(
            raw,
            source,
            source_task if how == "absent" else task,
            episode,
            record=how != "absent" and how != "missing",
        )
        ref = episode_ref(raw, source_task if how == "absent" else task, episode)
        if how == "malformed":
            ref.task_info.write_text('[{"episode_id": 1,')
        expected[ref.episode_id] = ("failed", str(ref.task_info), episode if how == "absent" else "")
    for name, how in AGIBOT_GOOD.items():
        if name == "as-synthesized":
            ref = episode_ref(raw, *source)
        else:
            episode = str(next_episode)
            next_episode += 1
            _clone(raw, source, source_task, episode)
            ref = episode_ref(raw, source_task, episode)
            if how:
                how(ref)
        expected[ref.episode_id] = ("written", None, name)
    out = base / "ds.zarr"
    result = goalframe("ingest", "agibot", str(raw), "--out", str(out), "--workers", "2", "--json")
    return out, expected, result


def test_agibot_corpus_every_bad_one_reported_every_good_one_ingested(agibot_corpus):
    out, expected, result = agibot_corpus
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    by_id = {r["episode_id"]: r for r in report["episodes"]}
    assert set(by_id) == set(expected)
    bad = {e for e, (status, _f, _n) in expected.items() if status == "failed"}
    assert len(bad) >= 20
    for episode, (status, named_file, needle) in expected.items():
        entry = by_id[episode]
        assert entry["status"] == status, (episode, needle, entry)
        if status == "failed":
            assert entry["error"].startswith(named_file), (episode, named_file, entry["error"])
            assert needle in entry["error"], (episode, needle, entry["error"])
            assert "\n" not in entry["error"] and "Traceback" not in entry["error"]
    ds = open_dataset(out)
    assert ds.episodes == sorted(e for e, (status, _f, _n) in expected.items() if status == "written")
    no_extrinsics = [e for e, (_s, _f, name) in expected.items() if name == "no-extrinsics"]
    assert ds.meta(no_extrinsics[0]).source["cameras"]["hand_left_color"]["has_extrinsics"] is False
    assert verify_dataset(str(out)).ok


def test_the_corpus_holds_twenty_or_more_malformed_recordings():
    assert len(VPT_BAD) + len(AGIBOT_BAD) + len(AGIBOT_BAD_TASK) >= 20
    assert len(AGIBOT_BAD) + len(AGIBOT_BAD_TASK) >= 10 and len(VPT_BAD) >= 10
