"""The Segment Anything annotator: the real ``segment_anything.SamPredictor``, tracked backward.

Event frame: a positive point prompt at the event's prompt point, three candidate masks,
the one SAM scores best is kept. Earlier frames: the next frame's mask is warped back by
optical flow (the shared loop in :mod:`goalframe.annotators.annotator`) and SAM is prompted
with that mask's box and its most interior points; the score is SAM's own IoU estimate
times the new mask's overlap with the warped one. Keyframe mode (``every = K``): SAM runs
on every K-th frame back from the event, the frames between get the warped mask.

Checkpoints are segment-anything's own (``sam_vit_b_01ec64.pth`` ...), loaded with
``sam_model_registry[model_type](checkpoint=path)`` after a cheap look at the file (memory
mapped, weights only) so that a missing file, a file that is not a PyTorch state dict, and
a checkpoint of another model type each fail with one line that says which. ``tiny`` is a
small randomly initialised SAM of the same architecture (the tests' and benchmark's model);
it loads checkpoints saved from itself.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from goalframe.annotators.annotator import BackwardTracker, Point, Window
from goalframe.media.images import iou, mask_box

MODEL_TYPES = ("vit_b", "vit_l", "vit_h")
TINY = {"img_size": 256, "embed_dim": 64, "depth": 2, "num_heads": 2, "prompt_dim": 32}
# image-encoder embedding width of each model type (image_encoder.patch_embed.proj.weight rows)
EMBED_DIMS = {768: "vit_b", 1024: "vit_l", 1280: "vit_h", TINY["embed_dim"]: "tiny"}


def build_tiny_sam(checkpoint: str | None = None, seed: int = 0):
    """A small SAM (ViT of depth 2, width 64, 256 px input) with seeded random weights."""
    import torch
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    size, dim, prompt_dim = TINY["img_size"], TINY["embed_dim"], TINY["prompt_dim"]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        sam = Sam(
            image_encoder=ImageEncoderViT(
                img_size=size,
                patch_size=16,
                embed_dim=dim,
                depth=TINY["depth"],
                num_heads=TINY["num_heads"],
                mlp_ratio=4,
                out_chans=prompt_dim,
                qkv_bias=True,
                norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
                use_rel_pos=True,
                global_attn_indexes=(1,),
                window_size=4,
            ),
            prompt_encoder=PromptEncoder(
                embed_dim=prompt_dim,
                image_embedding_size=(size // 16, size // 16),
                input_image_size=(size, size),
                mask_in_chans=4,
            ),
            mask_decoder=MaskDecoder(
                num_multimask_outputs=3,
                transformer=TwoWayTransformer(depth=1, embedding_dim=prompt_dim, mlp_dim=64, num_heads=2),
                transformer_dim=prompt_dim,
                iou_head_depth=2,
                iou_head_hidden_dim=32,
            ),
            pixel_mean=[123.675, 116.28, 103.53],
            pixel_std=[58.395, 57.12, 57.375],
        )
    sam.eval()
    if checkpoint is not None:
        with open(checkpoint, "rb") as f:
            sam.load_state_dict(torch.load(f, map_location="cpu", weights_only=True))
    return sam


def model_builders() -> dict[str, Any]:
    from segment_anything import sam_model_registry

    return {**{name: sam_model_registry[name] for name in MODEL_TYPES}, "tiny": build_tiny_sam}


def checkpoint_model_type(path: Path) -> str:
    """The model type a checkpoint file holds, from its shapes (ValueError when it is no SAM state dict)."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # noqa: BLE001 - pickle, zip and torch errors alike
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"checkpoint {path} is not a readable PyTorch state dict (corrupt or not a checkpoint):"
            f" {first[:160]}"
        ) from None
    if not isinstance(state, dict) or "image_encoder.patch_embed.proj.weight" not in state:
        raise ValueError(
            f"checkpoint {path} is not a Segment Anything state dict (no"
            " image_encoder.patch_embed.proj.weight)"
        )
    width = int(state["image_encoder.patch_embed.proj.weight"].shape[0])
    return EMBED_DIMS.get(width, f"an unknown SAM (encoder width {width})")


def check_checkpoint(checkpoint: str | Path | None, model_type: str = "vit_b") -> Path | None:
    """The checkpoint's path after the cheap checks (exists, is a SAM state dict, of ``model_type``)."""
    if model_type not in (*MODEL_TYPES, "tiny"):
        raise ValueError(
            f"unknown SAM model type {model_type!r}; choose one of {', '.join(MODEL_TYPES)} (or tiny, for"
            " tests)"
        )
    if checkpoint is None:
        if model_type == "tiny":
            return None
        raise ValueError(
            f"the sam annotator needs --checkpoint PATH (a segment-anything {model_type} checkpoint, e.g."
            " sam_vit_b_01ec64.pth)"
        )
    path = Path(checkpoint).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path}: no such file")
    found = checkpoint_model_type(path)
    if found != model_type:
        raise ValueError(f"checkpoint {path} holds a {found} model, not --model-type {model_type}")
    return path


def load_sam(checkpoint: str | Path | None, model_type: str = "vit_b"):
    """A SAM model from a segment-anything checkpoint; one-line ValueError / FileNotFoundError otherwise."""
    path = check_checkpoint(checkpoint, model_type)
    builders = model_builders()
    if path is None:
        return builders[model_type]()
    try:
        return builders[model_type](checkpoint=str(path))
    except Exception as exc:  # noqa: BLE001 - load_state_dict's multi-line report, reduced to one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"checkpoint {path} does not load into a {model_type} model: {first[:160]}"
        ) from None


def pick_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for but CUDA is not available")
    return device


def interior_points(mask: np.ndarray, count: int = 3) -> np.ndarray:
    """Up to ``count`` (x, y) points deep inside ``mask``, far from its edge and from each other."""
    distance = cv2.distanceTransform(np.pad(mask.astype(np.uint8), 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
    points = []
    for _ in range(count):
        row, col = np.unravel_index(int(np.argmax(distance)), distance.shape)
        if distance[row, col] <= 0:
            break
        points.append((col, row))
        radius = max(2, int(distance[row, col]))
        cv2.circle(distance, (int(col), int(row)), radius * 2, 0, -1)
    return np.array(points, np.float32).reshape(-1, 2)


class SamAnnotator(BackwardTracker):
    name = "sam"
    version = "2"

    def __init__(
        self,
        model,
        device: str = "auto",
        model_type: str = "custom",
        max_side: int = 1024,
        points: int = 3,
        **kw: Any,
    ):
        super().__init__(max_side=max_side, **kw)
        from segment_anything import SamPredictor

        self.device = pick_device(device)
        self.model = model.to(self.device)
        self.model.eval()
        self.predictor = SamPredictor(self.model)
        self.model_type = model_type
        self.points = points
        self.calls = 0  # SAM image encodings run (the keyframe benchmark counts them)

    @classmethod
    def from_options(
        cls, checkpoint: str | None = None, model_type: str = "vit_b", device: str = "auto", **kw: Any
    ) -> SamAnnotator:
        return cls(load_sam(checkpoint, model_type), device=device, model_type=model_type, **kw)

    @property
    def params(self) -> dict[str, Any]:
        return {**super().params, "model_type": self.model_type, "points": self.points}

    def _predict(self, image: np.ndarray, **prompts: Any) -> tuple[np.ndarray, np.ndarray]:
        import torch

        with torch.inference_mode():
            self.predictor.set_image(image)
            masks, scores, _logits = self.predictor.predict(**prompts)
        self.calls += 1
        return masks, scores

    def segment(self, window: Window, t: int, point: Point) -> tuple[np.ndarray, float]:
        masks, scores = self._predict(
            window.full[t],
            point_coords=np.array([[point[1], point[0]]], np.float32),
            point_labels=np.array([1]),
            multimask_output=True,
        )
        row, col = int(round(point[0])), int(round(point[1]))
        on_point = [i for i in range(len(masks)) if masks[i][row, col]] or list(range(len(masks)))
        best = max(on_point, key=lambda i: scores[i])
        return masks[best].astype(bool), float(np.clip(scores[best], 0, 1))

    def resegment(
        self, window: Window, t: int, warped: np.ndarray, previous: np.ndarray
    ) -> tuple[np.ndarray, float]:
        core = warped > 0.5
        box = mask_box(core)
        if box is None:
            return core, 0.0
        points = interior_points(core, self.points)
        prompts: dict[str, Any] = {
            "box": np.array(box, np.float32) - np.array([0, 0, 1, 1], np.float32),
            "multimask_output": False,
        }
        if len(points):
            prompts.update(point_coords=points, point_labels=np.ones(len(points), int))
        masks, scores = self._predict(window.frames[t], **prompts)
        mask = masks[0].astype(bool)
        overlap = iou(mask, core, empty=0.0)
        return mask, float(np.clip(scores[0], 0, 1) * overlap)
