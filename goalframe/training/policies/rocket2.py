"""ROCKET-2: cross-view goal-conditioned VPT policy; its training task, evaluation hooks and spec.

Training windows come from :class:`CachedCrossView` (BC + visibility + consistency losses);
closed-loop evaluation is the reach-and-mine world, next to uniform and data-prior random
policies; offline metrics are button / camera accuracy, centroid error and visibility F1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import default_collate

from goalframe.sources.vpt_actions import BUTTON_INDEX
from goalframe.training.data import CachedCrossView
from goalframe.training.envs import RandomVptPolicy
from goalframe.training.evaluate import Rocket2Agent, closed_loop_rocket2, f1_score
from goalframe.training.models import (
    N_BUTTONS,
    N_CAMERA_BINS,
    Rocket2Config,
    Rocket2Losses,
    Rocket2Policy,
    rocket2_loss,
)
from goalframe.training.policies import PolicySpec
from goalframe.training.trainer import TrainConfig

LEFT, RIGHT = BUTTON_INDEX["left"], BUTTON_INDEX["right"]


class Rocket2Task:
    """ROCKET-2 windows from :class:`CachedCrossView`; BC + visibility + consistency losses."""

    def __init__(self, config: TrainConfig, splits: tuple[str, ...] = ("train", "val")):
        self.config = config
        self.model_config = Rocket2Config(
            size=config.size,
            width=config.width,
            spatial_blocks=config.blocks,
            temporal_blocks=config.blocks,
            window=config.window,
            goal_input="goal" not in config.ablate,
        )
        self.losses = Rocket2Losses(
            visibility="visibility" not in config.ablate, consistency="consistency" not in config.ablate
        )
        self.data = {
            split: CachedCrossView(
                config.dataset,
                split=split,
                window=config.window,
                size=config.size,
                window_stride=config.window_stride,
                val_fraction=config.val_fraction,
                seed=config.split_seed,
                interactions=config.interactions,
            )
            for split in splits
        }

    @property
    def device(self) -> torch.device:
        wanted = getattr(self.config, "device", "cpu")
        if wanted == "auto":
            wanted = "cuda" if torch.cuda.is_available() else "cpu"
        return torch.device(wanted)

    def make_model(self) -> Rocket2Policy:
        return Rocket2Policy(self.model_config).to(self.device)

    def compute_stats(self) -> dict[str, torch.Tensor]:
        """Marginals of the training actions (for the data-prior random baseline)."""
        data = self.data["train"]
        buttons = np.zeros(N_BUTTONS)
        camera = np.zeros((2, N_CAMERA_BINS))
        n = 0
        for i in data.indices[:: max(1, len(data.indices) // 400)]:
            s = data[int(i)]
            valid = ~s["pad"].numpy()
            a = s["action"].numpy()[valid]
            buttons += a[:, :N_BUTTONS].sum(0)
            for axis in range(2):
                camera[axis] += np.bincount(a[:, N_BUTTONS + axis].astype(int), minlength=N_CAMERA_BINS)[
                    :N_CAMERA_BINS
                ]
            n += len(a)
        return {
            "button_p": torch.tensor(buttons / max(n, 1), dtype=torch.float32),
            "camera_p": torch.tensor(
                (camera + 1e-3) / (camera + 1e-3).sum(1, keepdims=True), dtype=torch.float32
            ),
        }

    def batch(self, samples: list[dict], flip: np.ndarray | None = None) -> dict[str, torch.Tensor]:
        """Collated samples; ``flip[i]`` mirrors sample i left-right (augmentation): images and
        masks, the centroid column, the yaw bin and the left / right buttons."""
        batch = default_collate(samples)
        if flip is not None and flip.any():
            f = torch.from_numpy(np.asarray(flip, bool))
            for key in ("frames", "goal_image", "goal_mask"):
                batch[key][f] = batch[key][f].flip(-1)
            centroid = batch["centroid"][f]
            centroid[..., 1] = torch.where(batch["visible"][f], 1.0 - centroid[..., 1], centroid[..., 1])
            batch["centroid"][f] = centroid
            action = batch["action"][f]
            action[..., [LEFT, RIGHT]] = action[..., [RIGHT, LEFT]]
            action[..., N_BUTTONS + 1] = (N_CAMERA_BINS - 1) - action[..., N_BUTTONS + 1]
            batch["action"][f] = action
        return batch

    def train_batch(self, indices: np.ndarray, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        flip = rng.random(len(indices)) < 0.5 if self.config.flip else None
        batch = self.batch([self.data["train"][int(i)] for i in indices], flip)
        n_aux = int(round(self.config.aux_views * len(indices)))
        if n_aux and (self.losses.visibility or self.losses.consistency):
            pool = np.asarray(self.data["train"].indices)
            extra = self.batch(
                [self.data["train"][int(i)] for i in pool[rng.integers(len(pool), size=n_aux)]],
                rng.random(n_aux) < 0.5,
            )
            extra = auxiliary_views(extra, rng)
            batch["bc"] = torch.ones(len(indices), dtype=torch.bool)
            batch = {k: torch.cat([batch[k], extra[k]]) for k in extra if k in batch}
        return batch

    def loss(self, model, batch) -> tuple[torch.Tensor, dict[str, float]]:
        device = next(model.parameters()).device
        batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
        out = model(batch["frames"], batch["goal_image"], batch["goal_mask"], batch["interaction"])
        return rocket2_loss(out, batch, self.losses)


def auxiliary_views(
    batch: dict[str, torch.Tensor], rng: np.random.Generator, smallest: float = 0.5
) -> dict[str, torch.Tensor]:
    """Windows seen through a random crop (side ``smallest`` to 1 of the frame, anywhere in it),
    resized back: the target lands anywhere in the view, with its centroid and visibility
    relabelled. Their actions are not labels any more (``bc`` False): these windows train the
    visibility and cross-view consistency heads only, on targets that are not in the middle
    (the recorded player looks at what it mines, so most labelled centroids are central)."""
    frames = batch["frames"]
    b, w, c, size, _ = frames.shape
    out = dict(batch)
    new_frames = torch.empty_like(frames)
    centroid = batch["centroid"].clone()
    visible = batch["visible"].clone()
    for i in range(b):
        side = int(round(size * rng.uniform(smallest, 1.0)))
        y0, x0 = (int(v) for v in rng.integers(0, size - side + 1, size=2))
        crop = frames[i, :, :, y0 : y0 + side, x0 : x0 + side].float()
        new_frames[i] = (
            F.interpolate(crop, size=(size, size), mode="bilinear", align_corners=False)
            .round()
            .clamp(0, 255)
            .to(frames.dtype)
        )
        moved = (batch["centroid"][i] * size - torch.tensor([y0, x0], dtype=torch.float32)) / side
        inside = ((moved >= 0) & (moved <= 1)).all(-1)
        visible[i] = batch["visible"][i] & inside
        centroid[i] = torch.where(visible[i][:, None], moved, torch.zeros_like(moved))
    out.update(frames=new_frames, centroid=centroid, visible=visible, bc=torch.zeros(b, dtype=torch.bool))
    return out


@torch.no_grad()
def offline_metrics(
    config, model, stats, task, indices: np.ndarray, batch_size: int, batch_done
) -> dict[str, Any]:
    """Button and camera accuracy, centroid error and visibility F1 on the val windows."""
    data = task.data["val"]
    button_hits, camera_hits, frames, errs, vis_pred, vis_true = 0.0, 0.0, 0, [], [], []
    for start in range(0, len(indices), batch_size):
        batch = task.batch([data[int(i)] for i in indices[start : start + batch_size]])
        out = model(batch["frames"], batch["goal_image"], batch["goal_mask"], batch["interaction"])
        valid = ~batch["pad"]
        buttons = (torch.sigmoid(out["buttons"]) > 0.5).float()
        target = batch["action"][..., :N_BUTTONS]
        button_hits += float(((buttons == target).float().mean(-1) * valid).sum())
        camera = out["camera"].argmax(-1)
        camera_hits += float(((camera == batch["action"][..., N_BUTTONS:].long()).all(-1) & valid).sum())
        frames += int(valid.sum())
        seen = batch["visible"] & valid
        errs.append((out["centroid"] - batch["centroid"]).norm(dim=-1)[seen].numpy())
        vis_pred.append((out["visible"] > 0)[valid].numpy())
        vis_true.append(batch["visible"][valid].numpy())
        batch_done(start)
    errs_all = np.concatenate(errs) if errs else np.zeros(0)
    return {
        "samples": int(len(indices)),
        "frames": frames,
        "button_accuracy": button_hits / max(frames, 1),
        "camera_accuracy": camera_hits / max(frames, 1),
        "centroid_error": float(errs_all.mean()) if len(errs_all) else None,
        "visibility_f1": f1_score(np.concatenate(vis_pred), np.concatenate(vis_true)),
    }


def random_agent(stats: dict, prior: bool) -> Any:
    if prior:
        return lambda s: RandomVptPolicy(s, stats["button_p"].numpy(), stats["camera_p"].numpy())
    return lambda s: RandomVptPolicy(s)


def success_plot(metrics: dict, baseline: bool, episodes: int) -> tuple[dict, str, str]:
    groups = {"reach and mine": {"policy": metrics["closed_loop"]["success_rate"]}}
    if baseline:
        groups["reach and mine"]["random (uniform)"] = metrics["random"]["success_rate"]
        groups["reach and mine"]["random (data prior)"] = metrics["random_prior"]["success_rate"]
    return groups, f"closed-loop success ({episodes} episodes)", ""


SPEC = PolicySpec(
    name="rocket2",
    task=Rocket2Task,
    model=lambda saved: Rocket2Policy(Rocket2Config.from_dict(saved)),
    agent=lambda model, _stats: lambda seed: Rocket2Agent(model, sample=True, seed=seed),
    random_agent=random_agent,
    closed_loop=closed_loop_rocket2,
    closed_loop_episodes=lambda episodes: episodes,
    offline_metrics=offline_metrics,
    success_plot=success_plot,
    defaults={"steps": 1500, "batch_size": 8},
    ablations=("visibility", "consistency", "goal"),
    prior_baseline=True,
)
