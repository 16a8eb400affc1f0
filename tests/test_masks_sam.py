"""The SAM annotator on a tiny randomly initialised Sam: the real predictor path, keyframes, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import simple_source
import torch

from goalframe.annotators.masks import MaskOptions, annotate_masks
from goalframe.annotators.registry import build_annotator
from goalframe.annotators.sam import SamAnnotator, build_tiny_sam, check_checkpoint, interior_points, load_sam
from goalframe.schemas.tables import EVENTS_SCHEMA, conform
from goalframe.storage import open_dataset
from goalframe.storage.masks import track_id_for
from goalframe.storage.store import write_table


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("sam") / "tiny_sam.pth"
    torch.save(build_tiny_sam(seed=3).state_dict(), path)
    return str(path)


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return simple_source.make_frames(0, 12)


def test_tiny_sam_runs_the_real_predictor_backward_over_the_window(frames):
    from segment_anything import SamPredictor
    from segment_anything.modeling import Sam

    annotator = SamAnnotator(build_tiny_sam(), device="auto", model_type="tiny", min_score=0.0, patience=100)
    assert isinstance(annotator.model, Sam) and isinstance(annotator.predictor, SamPredictor)
    assert annotator.device == ("cuda" if torch.cuda.is_available() else "cpu")
    track = annotator.annotate(frames, (30.0, 5 + 2 * 11 + 10.0), first_frame=100)
    assert track.frame_index.tolist() == list(range(100, 112)) and track.mask.shape == (12, 72, 128)
    assert annotator.calls == 12  # one SAM image encoding per frame: the event frame, then each earlier frame
    assert ((track.score >= 0) & (track.score <= 1)).all()
    assert track.attrs["annotator"] == "sam" and track.attrs["params"]["model_type"] == "tiny"


@pytest.mark.parametrize("every, calls", [(5, 3), (4, 3), (11, 2)])
def test_keyframe_mode_runs_sam_every_k_frames_and_warps_between(frames, every, calls):
    annotator = SamAnnotator(build_tiny_sam(), device="cpu", every=every, min_score=0.0, patience=100)
    track = annotator.annotate(frames, (30.0, 37.0))
    assert annotator.calls == calls  # frames 11 (event), 11 - K, 11 - 2K, ... of 0..11
    assert len(track) == 12


def test_checkpoint_saved_from_the_tiny_sam_loads_through_the_loader(tiny_checkpoint):
    model = load_sam(tiny_checkpoint, "tiny")
    reference = build_tiny_sam(seed=3)
    for name, value in reference.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name], value)
    assert not torch.equal(
        build_tiny_sam(seed=4).state_dict()["mask_decoder.iou_token.weight"],
        reference.state_dict()["mask_decoder.iou_token.weight"],
    )
    annotator = build_annotator("sam", checkpoint=tiny_checkpoint, model_type="tiny", device="cpu")
    assert isinstance(annotator, SamAnnotator)


def test_bad_checkpoints_fail_with_one_line(tiny_checkpoint, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"checkpoint .*missing\.pth: no such file"):
        load_sam(tmp_path / "missing.pth", "vit_b")
    with pytest.raises(ValueError, match=r"holds a tiny model, not --model-type vit_b"):
        load_sam(tiny_checkpoint, "vit_b")
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"\x80\x02 this is not a checkpoint" * 10)
    with pytest.raises(ValueError, match="not a readable PyTorch state dict") as info:
        load_sam(corrupt, "vit_b")
    assert "\n" not in str(info.value)
    other = tmp_path / "other.pth"
    torch.save({"weight": torch.zeros(3)}, other)
    with pytest.raises(ValueError, match="not a Segment Anything state dict"):
        check_checkpoint(other, "vit_h")
    with pytest.raises(ValueError, match="needs --checkpoint PATH"):
        load_sam(None, "vit_b")
    with pytest.raises(ValueError, match="unknown SAM model type 'vit_x'"):
        load_sam(tiny_checkpoint, "vit_x")


def test_interior_points_lie_deep_inside_the_mask():
    mask = np.zeros((40, 60), bool)
    mask[10:30, 5:25] = True
    mask[12:18, 40:50] = True
    points = interior_points(mask, 3)
    assert len(points) == 3 and all(mask[int(y), int(x)] for x, y in points)
    assert (
        tuple(points[0]) == (14.0, 19.0)
        or mask[int(points[0][1]) - 8 : int(points[0][1]) + 8, int(points[0][0])].all()
    )


@pytest.fixture
def simple_dataset(tmp_path) -> str:
    out = simple_source.ingested_episode(tmp_path, 24)
    row = {
        "event_id": "ep0:00000",
        "episode_id": "ep0",
        "source_format": "simple",
        "frame": 20,
        "end_frame": 21,
        "kind": "grasp",
        "name": "test",
        "object": "square",
        "interaction": "use",
        "interaction_id": 3,
        "delta": 1,
        "merged": 1,
        "gui_open": False,
        "camera": "main",
        "prompt_row": 30.0,
        "prompt_col": 55.0,
        "prompt_visible": True,
    }
    write_table(out, "events", conform([row], EVENTS_SCHEMA))
    return out


def test_masks_step_with_the_sam_annotator_and_a_checkpoint(simple_dataset, tiny_checkpoint):
    options = MaskOptions(
        annotator="sam",
        checkpoint=tiny_checkpoint,
        model_type="tiny",
        window=6,
        every=2,
        device="cpu",
        extra={"min_score": 0.0},
    )
    report = annotate_masks(simple_dataset, options)
    assert report.summary()["written"] == 1, [(r.event_id, r.reason) for r in report.results]
    track = open_dataset(simple_dataset).read_track("ep0", track_id_for("ep0:00000", "main", "sam"))
    assert (
        track.frame_index.tolist() == list(range(15, 21))
        and track.attrs["annotator"] == "sam"
        and track.attrs["every"] == 2
    )
    assert annotate_masks(simple_dataset, options).summary()["skipped"] == 1
    with pytest.raises(ValueError, match="holds a tiny model, not --model-type vit_l"):
        annotate_masks(
            simple_dataset, MaskOptions(annotator="sam", checkpoint=tiny_checkpoint, model_type="vit_l")
        )


def test_cli_refuses_missing_and_wrong_type_checkpoints_in_one_line(
    simple_dataset, tiny_checkpoint, tmp_path
):
    from typer.testing import CliRunner

    from goalframe.toolkit.cli import app

    def goalframe(*args: str):
        return CliRunner().invoke(app, ["masks", simple_dataset, *args])

    missing = tmp_path / "sam_vit_b_01ec64.pth"
    result = goalframe("--annotator", "sam", "--checkpoint", str(missing))
    assert (
        result.exit_code == 2
        and result.output.strip().splitlines()[-1] == f"error: checkpoint {missing}: no such file"
    )
    result = goalframe("--annotator", "sam", "--checkpoint", tiny_checkpoint, "--model-type", "vit_h")
    assert (
        result.exit_code == 2
        and result.output.strip().splitlines()[-1]
        == f"error: checkpoint {tiny_checkpoint} holds a tiny model, not --model-type vit_h"
    )
    result = goalframe(
        "--annotator",
        "sam",
        "--checkpoint",
        tiny_checkpoint,
        "--model-type",
        "tiny",
        "--window",
        "4",
        "--device",
        "cpu",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert '"written": 1' in result.output
