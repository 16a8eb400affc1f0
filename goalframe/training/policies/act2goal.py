"""Act2Goal: goal-conditioned AgiBot policy on MSTH samples; its training task, evaluation hooks and spec.

Training samples come from :class:`CachedMSTH` (proximal + distal end-effector actions and
world-model features); closed-loop evaluation arranges 1, 3 and 5 objects next to a random
policy; offline metrics are proximal action errors (cm), gripper accuracy and the losses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import default_collate

from goalframe.training.data import EE_RELATIVE, CachedMSTH, object_counts
from goalframe.training.envs import RandomAgibotPolicy
from goalframe.training.evaluate import TASK_LENGTHS, Act2GoalAgent, closed_loop_act2goal
from goalframe.training.models import (
    Act2GoalConfig,
    Act2GoalLosses,
    Act2GoalPolicy,
    act2goal_loss,
    thumbnails,
)
from goalframe.training.policies import PolicySpec
from goalframe.training.trainer import TrainConfig


class Act2GoalTask:
    """Act2Goal samples from :class:`CachedMSTH`; proximal (+ distal) actions and world-model features."""

    def __init__(self, config: TrainConfig, splits: tuple[str, ...] = ("train", "val")):
        self.config = config
        self.msth = "msth" not in config.ablate
        self.data = {
            split: CachedMSTH(
                config.dataset,
                split=split,
                cameras=[config.camera],
                size=config.size,
                goal=config.goal,
                frame_stride=config.frame_stride,
                distal_spacing="uniform" if "log-anchors" in config.ablate else "log",
                val_fraction=config.val_fraction,
                seed=config.split_seed,
            )
            for split in splits
        }
        first = self.data[splits[0]]
        spec = first.spec
        if spec.get("near") is None or spec.get("stride") is None or spec.get("distal") is None:
            raise ValueError(
                f"{config.dataset}: the msth table has no step record with its spec; re-run goalframe msth"
            )
        self.model_config = Act2GoalConfig(
            size=config.size,
            width=config.width,
            blocks=config.blocks,
            near=int(spec["near"]),
            n_proximal_frames=int(spec["near"]) // int(spec["stride"]),
            n_distal=int(spec["distal"]),
            msth=self.msth,
            uses_goal="goal" not in config.ablate,
        )
        self.losses = Act2GoalLosses()
        self.stats: dict[str, torch.Tensor] | None = None

    def make_model(self) -> Act2GoalPolicy:
        return Act2GoalPolicy(self.model_config)

    def compute_stats(self) -> dict[str, torch.Tensor]:
        """Mean and std of the state and of the relative proximal / distal action targets."""
        data = self.data["train"]
        rng = np.random.default_rng(0)
        chosen = rng.choice(len(data), size=min(len(data), 1500), replace=False)
        states, proximal, distal = [], [], []
        for i in chosen:
            s = data[int(i)]
            state = s["state"].numpy()
            states.append(state)
            p = s["proximal_action"].numpy().copy()
            p[:, EE_RELATIVE] -= state[EE_RELATIVE]
            proximal.append(p[~s["proximal_action_pad"].numpy()])
            d = s["distal_action"].numpy().copy()
            d[:, EE_RELATIVE] -= state[EE_RELATIVE]
            distal.append(d[~s["distal_action_pad"].numpy()])

        def moments(rows: list[np.ndarray], name: str) -> tuple[torch.Tensor, torch.Tensor]:
            x = np.concatenate([r.reshape(-1, r.shape[-1]) for r in rows])
            if not len(x):  # statistics of nothing are NaN, and so would every loss be
                raise ValueError(
                    f"{self.config.dataset}: every {name} action target in the training split is padding (the"
                    " MSTH indices end at the task segment); rebuild with `goalframe msth"
                    f" {self.config.dataset} --clip episode` or a shorter --horizon"
                )
            return torch.tensor(x.mean(0), dtype=torch.float32), torch.tensor(
                np.maximum(x.std(0), 1e-3), dtype=torch.float32
            )

        stats = {}
        stats["state_mean"], stats["state_std"] = moments(states, "state")
        stats["proximal_mean"], stats["proximal_std"] = moments(proximal, "proximal")
        stats["distal_mean"], stats["distal_std"] = moments(distal, "distal")
        return stats

    def batch(self, samples: list[dict]) -> dict[str, torch.Tensor]:
        b = default_collate(samples)
        st = self.stats
        state = b["state"]
        out = {
            "observation": b["observation"][:, 0],
            "goal_image": b["goal_image"][:, 0],
            "state": (state - st["state_mean"]) / st["state_std"],
            "proximal_action_pad": b["proximal_action_pad"],
            "proximal_pad": b["proximal_pad"],
            "distal_action_pad": b["distal_action_pad"],
            "distal_pad": b["distal_pad"],
        }
        for key in ("proximal", "distal"):
            rel = b[f"{key}_action"].clone()
            rel[..., EE_RELATIVE] -= state[:, None, EE_RELATIVE]
            out[f"{key}_target"] = (rel - st[f"{key}_mean"]) / st[f"{key}_std"]
            out[f"{key}_features"] = thumbnails(b[f"{key}_frames"][:, :, 0])
        return out

    def train_batch(self, indices: np.ndarray, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        return self.batch([self.data["train"][int(i)] for i in indices])

    def loss(self, model, batch) -> tuple[torch.Tensor, dict[str, float]]:
        out = model(batch["observation"], batch["goal_image"], batch["state"])
        return act2goal_loss(out, batch, self.losses)


@torch.no_grad()
def offline_metrics(
    config, model, stats, task, indices: np.ndarray, batch_size: int, batch_done
) -> dict[str, Any]:
    """Proximal action errors (cm), the stand-still baseline, gripper accuracy and val-sample losses."""
    data = task.data["val"]
    first_err, chunk_err, grip_hits, grip_n, losses = [], [], 0.0, 0, {}
    hold_first, hold_chunk = [], []  # the "stand still" baseline: every target = the current position
    std = stats["proximal_std"]
    mean = stats["proximal_mean"]
    counts = object_counts(config.dataset)
    lengths, per_sample = [], []
    for start in range(0, len(indices), batch_size):
        chunk = indices[start : start + batch_size]
        samples = [data[int(i)] for i in chunk]
        lengths += [counts.get(data.episode_of(int(i)), 0) for i in chunk]
        batch = task.batch(samples)
        out = model(batch["observation"], batch["goal_image"], batch["state"])
        _loss, parts = task.loss(model, batch)
        for k, v in parts.items():
            losses[k] = losses.get(k, 0.0) + v * len(chunk)
        pred = out["proximal"] * std + mean
        true = batch["proximal_target"] * std + mean
        valid = ~batch["proximal_action_pad"]
        position = (pred[..., :6] - true[..., :6]).view(*pred.shape[:2], 2, 3).norm(dim=-1).mean(
            -1
        ) * 100  # cm, per arm averaged
        first_err.append(position[:, 0].numpy())
        chunk_err.append(position[valid].numpy())
        hold = (
            true[..., :6].view(*true.shape[:2], 2, 3).norm(dim=-1).mean(-1) * 100
        )  # targets are relative to the state
        hold_first.append(hold[:, 0].numpy())
        hold_chunk.append(hold[valid].numpy())
        per_sample += ((position * valid).sum(1) / valid.sum(1).clamp(min=1)).tolist()
        grip_hits += float((((pred[..., 8:10] >= 0.5) == (true[..., 8:10] >= 0.5)).all(-1) & valid).sum())
        grip_n += int(valid.sum())
        batch_done(start)
    return {
        "samples": int(len(indices)),
        "first_action_error_cm": float(np.concatenate(first_err).mean()),
        "chunk_action_error_cm": float(np.concatenate(chunk_err).mean()),
        "hold_position_first_action_error_cm": float(np.concatenate(hold_first).mean()),
        "hold_position_chunk_action_error_cm": float(np.concatenate(hold_chunk).mean()),
        "gripper_accuracy": grip_hits / max(grip_n, 1),
        "chunk_action_error_cm_by_length": {
            str(n): float(np.mean([e for e, m in zip(per_sample, lengths) if m == n]))
            for n in sorted(set(lengths))
        },
        **{f"val_{k}": v / len(indices) for k, v in losses.items()},
    }


def success_plot(metrics: dict, baseline: bool, episodes: int) -> tuple[dict, str, str]:
    groups = {}
    for n, v in metrics["closed_loop"]["by_length"].items():
        groups[f"{n} obj"] = {"policy": v["success_rate"]}
        if baseline:
            groups[f"{n} obj"]["random"] = metrics["random"]["by_length"][n]["success_rate"]
    return groups, f"closed-loop success by task length ({episodes} each)", "objects to arrange"


SPEC = PolicySpec(
    name="act2goal",
    task=Act2GoalTask,
    model=lambda saved: Act2GoalPolicy(Act2GoalConfig.from_dict(saved)),
    agent=lambda model, stats: lambda _seed: Act2GoalAgent(model, stats),
    random_agent=lambda _stats, _prior: lambda s: RandomAgibotPolicy(s),
    closed_loop=closed_loop_act2goal,
    closed_loop_episodes=lambda episodes: episodes * len(TASK_LENGTHS),
    offline_metrics=offline_metrics,
    success_plot=success_plot,
    defaults={"steps": 1500, "batch_size": 32},
    # msth: fixed-horizon chunk; log-anchors: uniformly spaced distal anchors; goal: goal image zeroed
    ablations=("msth", "log-anchors", "goal"),
)
