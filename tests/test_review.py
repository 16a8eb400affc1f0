"""Mask review against a real Label Studio server: push, human edits through the API, pull, status.

The dataset is a real ingest of a generated VPT recording with its events; the automatic
tracks are written directly with the mask store (no mask annotator involved).
"""

from __future__ import annotations

import logging
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from goalframe import pipeline
from goalframe.annotators.review import TASKS_TABLE
from goalframe.annotators.review_results import mask_result, visibility_result
from goalframe.sim.vpt.synth import synthesize_vpt
from goalframe.storage import open_dataset
from goalframe.storage.masks import MaskTrack, track_id_for, write_track
from goalframe.storage.store import open_root
from goalframe.toolkit.cli import app

runner = CliRunner()
H, W = 360, 640


def square_masks(frames, row=150, col=280, side=40) -> np.ndarray:
    masks = np.zeros((len(frames), H, W), bool)
    for i, f in enumerate(frames):
        masks[i, row + i : row + side + i, col + 2 * i : col + side + 3 * i] = (
            True  # moving, growing, not square
        )
    return masks


@pytest.fixture(scope="module")
def base_dataset(tmp_path_factory) -> Path:
    """One generated VPT episode (60 frames) ingested, its events extracted, two automatic tracks."""
    base = tmp_path_factory.mktemp("review-base")
    raw, out = base / "raw", base / "ds.zarr"
    synthesize_vpt(raw, episodes=1, seed=0, frames=60)
    pipeline.build(raw, str(out), "vpt", ["ingest", "events"])
    events = open_dataset(str(out)).table("events")
    assert events.height >= 1
    event = events.row(0, named=True)
    root = open_root(str(out), "r+")
    attrs = {
        "event_id": event["event_id"],
        "camera": event["camera"],
        "annotator_version": "test",
        "event_frame": event["frame"],
        "interaction": event["interaction"],
        "object": event["object"],
    }
    frames = np.arange(event["frame"] - 8, event["frame"] + 1)
    masks = square_masks(frames)
    masks[2] = False  # the automatic annotator lost the object on one frame
    score = np.linspace(0.2, 1.0, len(frames)).astype(np.float32)
    for annotator, shift in (("square", 0), ("other", 60)):
        track = MaskTrack.from_masks(frames, np.roll(masks, shift, axis=2), score=score)
        write_track(
            root,
            event["episode_id"],
            track_id_for(event["event_id"], event["camera"], annotator),
            track,
            {**attrs, "annotator": annotator},
        )
    return out


@pytest.fixture
def local_dataset(base_dataset, label_studio, request) -> str:
    """A copy inside the server's document root: frames are served by local-files storage."""
    target = label_studio.document_root / request.node.name / "ds.zarr"
    shutil.copytree(base_dataset, target)
    return str(target)


@pytest.fixture
def upload_dataset(base_dataset, tmp_path) -> str:
    """A copy outside the server's document root: frames are uploaded."""
    target = tmp_path / "ds.zarr"
    shutil.copytree(base_dataset, target)
    return str(target)


@pytest.fixture
def ls(label_studio):
    from label_studio_sdk import LabelStudio

    return LabelStudio(base_url=label_studio.url, api_key=label_studio.token)


def review(*args: str, env: dict | None = None):
    return runner.invoke(app, ["review", *args], env=env)


def tracks_of(dataset: str) -> list[tuple[str, str]]:
    return open_dataset(dataset).track_ids()


def project_id(ls, title: str) -> int:
    return next(p.id for p in ls.projects.list(title=title) if p.title == title)


def snapshot(folder: str) -> dict[str, tuple[int, bytes]]:
    """Every file of the dataset but the writer lease (which each writing command takes and releases)."""
    from goalframe.storage.store import LEASE_NAME

    files = (p for p in sorted(Path(folder).rglob("*")) if p.is_file() and p.name != LEASE_NAME)
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes()) for p in files}


def test_push_then_pull_without_edits_is_bit_exact_and_second_push_adds_nothing(
    local_dataset, label_studio, ls
):
    title = "bit exact"
    args = [local_dataset, "--url", label_studio.url, "--api-key", label_studio.token, "--project", title]
    first = review("push", *args, "--frames-per-track", "4", "--json")
    assert first.exit_code == 0, first.output
    assert '"created": 8' in first.stdout and '"served": "local-files"' in first.stdout
    pid = project_id(ls, title)
    tasks = list(ls.tasks.list(project=pid, fields="all"))
    assert len(tasks) == 8
    assert all(t.data["image"].startswith("/data/local-files/?d=") for t in tasks)
    table = open_dataset(local_dataset).table(TASKS_TABLE)
    by_id = {t.id: t for t in tasks}
    assert sorted(table["task_id"].to_list()) == sorted(by_id)
    for row in table.iter_rows(named=True):  # each recorded task is the frame it says
        data = by_id[row["task_id"]].data
        assert (data["episode_id"], data["track_id"], data["frame"], data["image"]) == (
            row["episode_id"],
            row["track_id"],
            row["frame"],
            row["image"],
        )

    second = review("push", *args, "--frames-per-track", "4", "--json")
    assert second.exit_code == 0, second.output
    assert '"created": 0' in second.stdout and '"existing": 8' in second.stdout
    assert len(list(ls.tasks.list(project=pid))) == 8
    assert open_dataset(local_dataset).table(TASKS_TABLE).equals(table)

    # the served image is the stored frame, pixel for pixel, at the mask's size
    http = label_studio_http(label_studio)
    import cv2

    task = tasks[0]
    served = cv2.imdecode(np.frombuffer(http.get(task.data["image"]).content, np.uint8), cv2.IMREAD_COLOR)[
        :, :, ::-1
    ]
    ds = open_dataset(local_dataset)
    np.testing.assert_array_equal(
        served,
        ds.read_frames(
            task.data["episode_id"], task.data["frame"], task.data["frame"] + 1, task.data["camera"]
        )[0],
    )

    # a reviewer accepts every prediction unchanged
    for task in tasks:
        ls.annotations.create(
            id=task.id,
            result=(
                task.predictions[0]["result"]
                if isinstance(task.predictions[0], dict)
                else task.predictions[0].result
            ),
        )
    pulled = review("pull", *args, "--json")
    assert pulled.exit_code == 0, pulled.output
    assert '"pulled": 8' in pulled.stdout
    ds = open_dataset(local_dataset)
    for episode, track_id in tracks_of(local_dataset):
        automatic = ds.read_track(episode, track_id, reviewed=False)
        merged = ds.read_track(episode, track_id)
        assert len(merged.attrs["reviewed_frames"]) == 4
        np.testing.assert_array_equal(merged.mask, automatic.mask)
        np.testing.assert_array_equal(merged.visible, automatic.visible)
    assert ds.table("tracks")["n_reviewed_frames"].to_list() == [4, 4]

    before = snapshot(local_dataset)
    again = review("pull", *args, "--json")
    assert again.exit_code == 0, again.output
    assert '"pulled": 0' in again.stdout and '"unchanged": 8' in again.stdout
    assert snapshot(local_dataset) == before, "pulling twice changes nothing"

    status = review("status", *args, "--json")
    assert status.exit_code == 0, status.output
    assert (
        '"pushed": 8' in status.stdout and '"pulled": 8' in status.stdout and '"to_pull": 0' in status.stdout
    )


def label_studio_http(server):
    import httpx

    return httpx.Client(base_url=server.url, headers={"Authorization": f"Token {server.token}"}, timeout=30)


def test_a_human_correction_comes_back_reviewed_with_its_visibility(upload_dataset, label_studio, ls, caplog):
    caplog.set_level(logging.DEBUG)
    title = "correction"
    episode, track_id = tracks_of(upload_dataset)[1]
    env = {"LABEL_STUDIO_API_KEY": label_studio.token}
    args = [upload_dataset, "--url", label_studio.url, "--project", title]
    outputs = []
    pushed = review("push", *args, "--tracks", f"{episode}/{track_id}", "--frames-per-track", "3", env=env)
    outputs.append(pushed)
    assert pushed.exit_code == 0, pushed.output
    assert "3 new tasks" in pushed.stdout and "upload" in pushed.stdout
    pid = project_id(ls, title)
    tasks = sorted(ls.tasks.list(project=pid, fields="all"), key=lambda t: t.data["frame"])
    assert [t.data["track_id"] for t in tasks] == [track_id] * 3
    assert all(t.data["image"].startswith("/data/upload/") for t in tasks)
    assert label_studio_http(label_studio).get(tasks[0].data["image"]).status_code == 200

    status = review("status", *args, env=env)
    outputs.append(status)
    assert "3 tasks pushed, 0 annotated, 0 pulled" in status.stdout

    target = tasks[1]
    frame = target.data["frame"]
    corrected = np.zeros((H, W), bool)
    corrected[10:50, 400:470] = True
    corrected[60:65, 0:640] = True
    annotation = ls.annotations.create(
        id=target.id, result=[mask_result(corrected), visibility_result("occluded")]
    )
    status = review("status", *args, env=env)
    outputs.append(status)
    assert "1 annotated, 0 pulled, 1 to pull" in status.stdout

    pulled = review("pull", *args, env=env)
    outputs.append(pulled)
    assert pulled.exit_code == 0, pulled.output
    assert "pulled 1 reviewed frames" in pulled.stdout
    ds = open_dataset(upload_dataset)
    merged = ds.read_track(episode, track_id)
    automatic = ds.read_track(episode, track_id, reviewed=False)
    row = merged.row(frame)
    assert merged.attrs["reviewed_frames"] == [frame]
    np.testing.assert_array_equal(merged.mask[row], corrected)
    assert not merged.visible[row], "occluded is not visible"
    assert automatic.visible[row] and not np.array_equal(automatic.mask[row], corrected), (
        "the automatic mask is still on disk"
    )
    others = [i for i in range(len(merged)) if i != row]
    np.testing.assert_array_equal(merged.mask[others], automatic.mask[others])
    revision = open_root(upload_dataset)[f"masks/{episode}/{track_id}/reviewed/0000"]
    provenance = dict(revision.attrs)["label_studio"]["frames"]
    assert provenance == [
        {
            "frame": frame,
            "task_id": target.id,
            "annotation_id": annotation.id,
            "annotator": "reviewer@goalframe.test",
            "annotated": provenance[0]["annotated"],
            "visibility": "occluded",
        }
    ]
    assert provenance[0]["annotated"].startswith("20")

    # the reviewer changes their mind: a newer annotation wins, the older revision stays
    ls.annotations.create(id=target.id, result=[mask_result(corrected), visibility_result("absent")])
    outputs.append(review("pull", *args, env=env))
    merged = open_dataset(upload_dataset).read_track(episode, track_id)
    assert not merged.mask[merged.row(frame)].any() and not merged.visible[merged.row(frame)]
    assert sorted(open_root(upload_dataset)[f"masks/{episode}/{track_id}/reviewed"].group_keys()) == [
        "0000",
        "0001",
    ]

    # the key shows up nowhere: outputs, logs, dataset files
    key = label_studio.token.encode()
    for result in outputs:
        assert label_studio.token not in result.output
    assert label_studio.token not in caplog.text
    for path in Path(upload_dataset).rglob("*"):
        assert not path.is_file() or key not in path.read_bytes(), path


def test_a_wrong_size_annotation_is_refused_naming_the_task(upload_dataset, label_studio, ls):
    title = "wrong size"
    args = [upload_dataset, "--url", label_studio.url, "--api-key", label_studio.token, "--project", title]
    assert review("push", *args, "--frames-per-track", "2").exit_code == 0
    tasks = sorted(ls.tasks.list(project=project_id(ls, title), fields="all"), key=lambda t: t.id)
    small = np.zeros((H // 2, W // 2), bool)
    small[5:20, 5:20] = True
    ls.annotations.create(id=tasks[0].id, result=[mask_result(small)])
    good = np.zeros((H, W), bool)
    good[100:120, 100:300] = True
    ls.annotations.create(id=tasks[1].id, result=[mask_result(good), visibility_result("visible")])
    pulled = review("pull", *args)
    assert pulled.exit_code == 1
    assert f"task {tasks[0].id} (" in pulled.stderr and "320x180 but the frame is 640x360" in pulled.stderr
    assert "pulled 1 reviewed frames" in pulled.stdout and "1 refused" in pulled.stdout
    ds = open_dataset(upload_dataset)
    bad_track = ds.read_track(tasks[0].data["episode_id"], tasks[0].data["track_id"])
    assert tasks[0].data["frame"] not in bad_track.attrs["reviewed_frames"]
    good_track = ds.read_track(tasks[1].data["episode_id"], tasks[1].data["track_id"])
    np.testing.assert_array_equal(good_track.mask[good_track.row(tasks[1].data["frame"])], good)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_server_or_a_wrong_key_is_one_line_and_writes_nothing(upload_dataset, label_studio):
    before = snapshot(upload_dataset)
    for command in ("push", "pull", "status"):
        result = review(
            command, upload_dataset, "--url", f"http://127.0.0.1:{free_port()}", "--api-key", "s3cret-key-123"
        )
        assert result.exit_code == 2, result.output
        assert (
            result.stderr.count("\n") == 1
            and "cannot reach Label Studio at http://127.0.0.1:" in result.stderr
        )
        assert "s3cret-key-123" not in result.output
    wrong = review("push", upload_dataset, "--url", label_studio.url, "--api-key", "wrong-key-4567")
    assert (
        wrong.exit_code == 2
        and "refused the API key (HTTP 401)" in wrong.stderr
        and wrong.stderr.count("\n") == 1
    )
    assert "wrong-key-4567" not in wrong.output
    missing = review("push", upload_dataset, "--url", label_studio.url, env={"LABEL_STUDIO_API_KEY": ""})
    assert missing.exit_code == 2 and "--api-key or set LABEL_STUDIO_API_KEY" in missing.stderr
    assert snapshot(upload_dataset) == before


def test_frame_selection_and_mask_round_trip_offline():
    from goalframe.annotators.review import select_frames
    from goalframe.annotators.review_results import SizeMismatch, decode_result

    frames = np.arange(10, 19)
    track = MaskTrack.from_masks(frames, square_masks(frames), score=np.linspace(0, 1, 9))
    assert select_frames(track, 3, 0.0) == [10, 14, 18]
    assert select_frames(track, 1, 0.0) == [18], "one frame: the event frame"
    assert select_frames(track, 0, 0.6) == [15, 16, 17, 18]
    assert select_frames(track, 2, 1.1) == []
    mask = square_masks([0])[0]
    decoded = decode_result([mask_result(mask), visibility_result("occluded")], H, W)
    np.testing.assert_array_equal(decoded.mask, mask)
    assert decoded.visibility == "occluded"
    with pytest.raises(SizeMismatch, match="mask is 640x360 but the frame is 320x180"):
        decode_result([mask_result(mask)], 180, 320)


def test_a_damaged_review_image_is_named_by_verify_and_rendered_again_by_the_next_push(
    local_dataset, label_studio
):
    from goalframe.storage.review_images import DIGESTS, REVIEW_IMAGES, load_digests
    from goalframe.storage.verify import verify_dataset

    args = [local_dataset, "--url", label_studio.url, "--api-key", label_studio.token, "--project", "digests"]
    assert review("push", *args, "--frames-per-track", "2").exit_code == 0
    digests = load_digests(local_dataset)
    images = sorted((Path(local_dataset) / REVIEW_IMAGES).glob("*.png"))
    assert images and sorted(digests) == [p.name for p in images], f"{DIGESTS} records every served image"
    assert verify_dataset(local_dataset, checksums=False).ok
    original = images[0].read_bytes()
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 0x40
    images[0].write_bytes(bytes(damaged))
    images[1].unlink()
    report = verify_dataset(local_dataset, checksums=False)
    found = sorted((d.kind, d.where, d.message.split(" (")[0]) for d in report.damage)
    assert found == [
        ("review-image", f"{REVIEW_IMAGES}/{images[0].name}", "checksum mismatch"),
        ("review-image", f"{REVIEW_IMAGES}/{images[1].name}", "missing"),
    ]
    again = review("push", *args, "--frames-per-track", "2")
    assert again.exit_code == 0 and "0 new tasks" in again.stdout
    assert "2 review images were missing or damaged: rendered again" in again.stdout
    assert images[0].read_bytes() == original, "the same frame renders to the same PNG"
    assert images[1].is_file() and verify_dataset(local_dataset, checksums=False).ok


def test_push_upgrades_a_project_made_with_an_earlier_config_and_leaves_an_edited_one_alone(
    upload_dataset, label_studio, ls
):
    from goalframe.annotators.review_results import LABEL_CONFIG, PREVIOUS_LABEL_CONFIGS, same_config

    old = ls.projects.create(title="earlier config", label_config=PREVIOUS_LABEL_CONFIGS[0])
    ls.projects.import_tasks(  # a task annotated under the earlier config: the upgrade must keep it valid
        old.id,
        request=[{"data": {"image": "/data/upload/x.png", "title": "t"}, "annotations": [{"result": []}]}],
    )
    args = [upload_dataset, "--url", label_studio.url, "--api-key", label_studio.token]
    upgraded = review("push", *args, "--project", "earlier config", "--frames-per-track", "1")
    assert upgraded.exit_code == 0, upgraded.output
    assert "labeling config of the project upgraded" in upgraded.stdout
    assert same_config(ls.projects.get(old.id).label_config, LABEL_CONFIG)
    again = review("push", *args, "--project", "earlier config", "--frames-per-track", "1", "--json")
    assert '"label_config": "current"' in again.stdout and "warning" not in again.stderr

    edited_config = LABEL_CONFIG.replace(
        '<Choice value="absent"/>', '<Choice value="absent"/><Choice value="blurry"/>'
    )
    edited = ls.projects.create(title="edited config", label_config=edited_config)
    kept = review("push", *args, "--project", "edited config", "--frames-per-track", "1")
    assert kept.exit_code == 0, kept.output
    assert "warning" in kept.stderr and "'edited config' has a labeling config edited" in kept.stderr
    assert ls.projects.get(edited.id).label_config == edited_config
