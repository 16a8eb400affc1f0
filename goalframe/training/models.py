"""Small reference policies: ROCKET-2 (cross-view goal alignment) and Act2Goal (MSTH).

Both keep the papers' structure at a size that trains on two CPU cores in minutes
(64 x 64 inputs, width 64, two blocks per transformer by default).

ROCKET-2 (:class:`Rocket2Policy`)
    - a patch encoder (strided conv stem, 8 x 8 tokens at 64 x 64) for the view o_t and,
      with the same weights, for the goal view o_g; a second one for the 1-channel goal mask
      m_g; goal tokens = FFN(concat(image token, mask token)), fused per token (then pooled
      2 x 2: 16 goal tokens next to 64 view tokens);
    - a non-causal spatial transformer over [cls; view tokens; goal tokens] per frame;
    - a target readout: a softmax over the view tokens (which token shows the goal object)
      gives the attention-pooled target feature and the predicted target centroid (the
      soft-argmax of token centres): the cross-view consistency head;
    - a causal temporal transformer over the window, each step = that frame's embedding +
      the interaction-type embedding + a time embedding;
    - heads on the temporal output: 20 VPT buttons (Bernoulli), camera pitch and yaw
      (11 bins each), target visibility.
    Losses (each switchable): behaviour cloning (buttons + camera), visibility (BCE),
    cross-view consistency (L1 between the predicted and the mask centroid, visible frames).

Act2Goal (:class:`Act2GoalPolicy`)
    - the same patch encoder for the observation and the goal image, a state token, one
      transformer over [cls; observation tokens; goal tokens; state]; the latent is its cls
      output with spatial-softmax keypoints of both images and the state (positions precise
      to a fraction of a patch: grasping needs about 2 cm);
    - heads: the proximal action chunk (P actions, executed), the distal guidance actions
      (M, at the MSTH anchors; not executed) and the world-model stand-in: features of the
      proximal frames (P / r) and of the distal frames (M), as 8 x 8 RGB thumbnails;
    - ``msth=False`` (the ablation): the distal heads are dropped, the model predicts a
      fixed-horizon chunk only (proximal actions and proximal frames);
    - ``uses_goal=False`` (the goal-blind baseline): the goal image is zeroed in the model, in
      training and in evaluation alike.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

N_BUTTONS = 20
N_CAMERA_BINS = 11
N_INTERACTIONS = 8  # ROCKET ids -1 (none) .. 6, shifted by one
THUMB = 8  # world-model features: THUMB x THUMB RGB thumbnails


def _from_dict(cls, data: dict):
    names = {f.name for f in fields(cls)}
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names})


@dataclass
class Rocket2Config:
    size: int = 64
    patch: int = 8
    width: int = 64
    heads: int = 4
    spatial_blocks: int = 2
    temporal_blocks: int = 2
    window: int = 16
    goal_pool: int = 2  # goal tokens pooled pool x pool after the per-token fusion
    dropout: float = 0.0
    goal_input: bool = True  # False: the goal image and mask are zeroed (the goal-blind baseline)

    to_dict = asdict

    @classmethod
    def from_dict(cls, data: dict) -> Rocket2Config:
        return _from_dict(cls, data)


@dataclass
class Act2GoalConfig:
    size: int = 64
    patch: int = 8
    width: int = 64
    heads: int = 4
    blocks: int = 2
    action_dim: int = 10
    state_dim: int = 10
    near: int = 12  # P proximal actions
    n_proximal_frames: int = 4  # P / r
    n_distal: int = 4  # M
    msth: bool = True
    uses_goal: bool = True  # False: the goal image is zeroed inside the model (the goal-blind baseline)
    keypoints: int = 16  # spatial-softmax keypoints of the observation and of the goal
    dropout: float = 0.0

    to_dict = asdict

    @classmethod
    def from_dict(cls, data: dict) -> Act2GoalConfig:
        return _from_dict(cls, data)


# ---------------------------------------------------------------------------- blocks


def images_to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 (…, C, S, S) -> float in [-0.5, 0.5]; bool masks -> {0, 1}."""
    if images.dtype == torch.bool:
        return images.float()
    if images.dtype == torch.uint8:
        return images.float() / 255.0 - 0.5
    return images.float()


class PatchEncoder(nn.Module):
    """(B, C, S, S) -> (B, (S/patch)^2, width): a strided conv stem (the patchifier with some depth)."""

    def __init__(self, in_channels: int, width: int, patch: int, size: int):
        super().__init__()
        if patch < 2 or patch & (patch - 1) or size % patch:
            raise ValueError(
                f"patch must be a power of two >= 2 dividing size, got patch {patch} for size {size}"
            )
        layers: list[nn.Module] = []
        channels = in_channels
        n = int(math.log2(patch))
        for i in range(n):
            out = width if i == n - 1 else max(16, width // 2)
            layers.append(nn.Conv2d(channels, out, 3, stride=2, padding=1))
            if i < n - 1:
                layers.append(nn.GELU())
            channels = out
        self.net = nn.Sequential(*layers)
        self.grid = size // patch
        self.pos = nn.Parameter(torch.randn(1, self.grid * self.grid, width) * 0.02)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images_to_float(images)).flatten(2).transpose(1, 2) + self.pos


class KeypointEncoder(nn.Module):
    """(B, 3, S, S) -> (B, 2K): expected (row, col) of K learned feature maps at S/2 resolution
    (a spatial softmax, as deep spatial autoencoders use for precise positions)."""

    def __init__(self, keypoints: int, size: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2, padding=1),
            nn.GELU(),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.GELU(),
            nn.Conv2d(32, keypoints, 1),
        )
        self.register_buffer("centres", token_centres(size // 2), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        maps = self.net(images_to_float(images)).flatten(2)  # B, K, HW
        return (torch.softmax(maps, -1) @ self.centres).flatten(1)


def transformer(width: int, heads: int, blocks: int, dropout: float) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(
        width, heads, 2 * width, dropout, activation="gelu", batch_first=True, norm_first=True
    )
    return nn.TransformerEncoder(layer, blocks, enable_nested_tensor=False)


def mlp(inputs: int, hidden: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(
        nn.LayerNorm(inputs), nn.Linear(inputs, hidden), nn.GELU(), nn.Linear(hidden, outputs)
    )


def token_centres(grid: int) -> torch.Tensor:
    """(grid^2, 2) normalised (row, col) centres of the token cells."""
    centres = (torch.arange(grid, dtype=torch.float32) + 0.5) / grid
    rows, cols = torch.meshgrid(centres, centres, indexing="ij")
    return torch.stack([rows.reshape(-1), cols.reshape(-1)], 1)


# ---------------------------------------------------------------------------- ROCKET-2


class Rocket2Policy(nn.Module):
    def __init__(self, config: Rocket2Config | None = None):
        super().__init__()
        c = self.config = config or Rocket2Config()
        d = c.width
        self.view = PatchEncoder(3, d, c.patch, c.size)
        self.mask = PatchEncoder(1, d, c.patch, c.size)
        self.fuse = mlp(2 * d, 2 * d, d)
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.kind = nn.Parameter(torch.randn(2, d) * 0.02)  # view / goal token type
        self.spatial = transformer(d, c.heads, c.spatial_blocks, c.dropout)
        self.target = nn.Linear(d, 1)
        self.register_buffer("centres", token_centres(self.view.grid), persistent=False)
        self.frame = mlp(2 * d + 2, 2 * d, d)
        self.interaction = nn.Embedding(N_INTERACTIONS, d)
        self.time = nn.Parameter(torch.randn(1, c.window, d) * 0.02)
        self.temporal = transformer(d, c.heads, c.temporal_blocks, c.dropout)
        self.norm = nn.LayerNorm(d)
        self.buttons = nn.Linear(d, N_BUTTONS)
        self.camera = nn.Linear(d, 2 * N_CAMERA_BINS)
        self.visible = nn.Linear(d, 1)
        self.register_buffer(
            "causal", torch.triu(torch.full((c.window, c.window), float("-inf")), 1), persistent=False
        )

    def encode_goal(self, goal_image: torch.Tensor, goal_mask: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) image and (B, 1, S, S) mask -> (B, Ng, D) goal tokens, fused per token
        then pooled 2 x 2 (``goal_pool``) to keep the spatial transformer cheap."""
        if not self.config.goal_input:  # same model, same data, nothing of the goal reaches it
            goal_image, goal_mask = torch.zeros_like(goal_image), torch.zeros_like(goal_mask)
        tokens = self.fuse(torch.cat([self.view(goal_image), self.mask(goal_mask)], -1))
        pool = self.config.goal_pool
        if pool > 1:
            b, n, d = tokens.shape
            grid = self.view.grid
            tokens = (
                F.avg_pool2d(tokens.transpose(1, 2).reshape(b, d, grid, grid), pool)
                .flatten(2)
                .transpose(1, 2)
            )
        return tokens + self.kind[1]

    def encode_frames(self, frames: torch.Tensor, goal_tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        """(N, 3, S, S) frames with their (N, Ng, D) goal tokens -> frame embeddings (N, D),
        predicted target centroids (N, 2) and the target attention (N, tokens)."""
        view = self.view(frames) + self.kind[0]
        tokens = torch.cat([self.cls.expand(len(view), -1, -1), view, goal_tokens], 1)
        out = self.spatial(tokens)
        cls, view_out = out[:, 0], out[:, 1 : 1 + view.shape[1]]
        attention = torch.softmax(self.target(view_out).squeeze(-1), -1)
        pooled = (attention.unsqueeze(-1) * view_out).sum(1)
        centroid = attention @ self.centres
        return {
            "embedding": self.frame(torch.cat([cls, pooled, centroid], -1)),
            "centroid": centroid,
            "attention": attention,
        }

    def temporal_heads(self, embeddings: torch.Tensor, interaction: torch.Tensor) -> dict[str, torch.Tensor]:
        """(B, L, D) frame embeddings (L <= window) and (B,) interaction ids -> per-step heads."""
        length = embeddings.shape[1]
        x = (
            embeddings
            + self.time[:, :length]
            + self.interaction((interaction + 1).clamp(0, N_INTERACTIONS - 1)).unsqueeze(1)
        )
        h = self.norm(self.temporal(x, mask=self.causal[:length, :length], is_causal=True))
        return {
            "buttons": self.buttons(h),
            "camera": self.camera(h).view(*h.shape[:2], 2, N_CAMERA_BINS),
            "visible": self.visible(h).squeeze(-1),
        }

    def forward(self, frames, goal_image, goal_mask, interaction) -> dict[str, torch.Tensor]:
        """frames (B, W, 3, S, S) -> logits buttons (B, W, 20), camera (B, W, 2, 11), visible (B, W)."""
        b, w = frames.shape[:2]
        goal = self.encode_goal(goal_image, goal_mask)
        encoded = self.encode_frames(frames.flatten(0, 1), goal.repeat_interleave(w, 0))
        out = self.temporal_heads(encoded["embedding"].view(b, w, -1), interaction)
        out["centroid"] = encoded["centroid"].view(b, w, 2)
        return out


@dataclass
class Rocket2Losses:
    """Which losses train (the ablation switches) and their weights."""

    bc: bool = True
    visibility: bool = True
    consistency: bool = True
    visibility_weight: float = 0.5
    consistency_weight: float = 5.0

    to_dict = asdict

    @classmethod
    def from_dict(cls, data: dict) -> Rocket2Losses:
        return _from_dict(cls, data)


def rocket2_loss(out: dict, batch: dict, losses: Rocket2Losses) -> tuple[torch.Tensor, dict[str, float]]:
    """``batch["bc"]`` (B,) bool, when present, marks the windows whose actions are labels
    (auxiliary views, see ``policies.rocket2.Rocket2Task``, train visibility and consistency only)."""
    valid = ~batch["pad"]
    n = valid.sum().clamp(min=1)
    acting = valid & batch["bc"][:, None] if "bc" in batch else valid
    n_acting = acting.sum().clamp(min=1)
    parts: dict[str, torch.Tensor] = {}
    buttons = batch["action"][..., :N_BUTTONS]
    camera = batch["action"][..., N_BUTTONS:].long().clamp(0, N_CAMERA_BINS - 1)
    bce = F.binary_cross_entropy_with_logits(out["buttons"], buttons, reduction="none").sum(-1)
    parts["buttons"] = (bce * acting).sum() / n_acting
    ce = (
        F.cross_entropy(out["camera"].flatten(0, 2), camera.flatten(), reduction="none")
        .view(camera.shape)
        .sum(-1)
    )
    parts["camera"] = (ce * acting).sum() / n_acting
    vis = F.binary_cross_entropy_with_logits(out["visible"], batch["visible"].float(), reduction="none")
    parts["visibility"] = (vis * valid).sum() / n
    seen = batch["visible"] & valid
    err = (out["centroid"] - batch["centroid"]).abs().sum(-1)
    parts["consistency"] = (err * seen).sum() / seen.sum().clamp(min=1)
    total = out["buttons"].new_zeros(())
    if losses.bc:
        total = total + parts["buttons"] + parts["camera"]
    if losses.visibility:
        total = total + losses.visibility_weight * parts["visibility"]
    if losses.consistency:
        total = total + losses.consistency_weight * parts["consistency"]
    return total, {"loss": float(total.detach()), **{k: float(v.detach()) for k, v in parts.items()}}


# ---------------------------------------------------------------------------- Act2Goal


def thumbnails(frames: torch.Tensor) -> torch.Tensor:
    """(…, 3, S, S) uint8 -> (…, 3 * THUMB * THUMB) float: the world-model stand-in's frame features."""
    shape = frames.shape[:-3]
    x = F.adaptive_avg_pool2d(images_to_float(frames.reshape(-1, *frames.shape[-3:])), THUMB)
    return x.reshape(*shape, -1) * 4.0  # ~unit scale


class Act2GoalPolicy(nn.Module):
    def __init__(self, config: Act2GoalConfig | None = None):
        super().__init__()
        c = self.config = config or Act2GoalConfig()
        d = c.width
        self.image = PatchEncoder(3, d, c.patch, c.size)
        self.kind = nn.Parameter(torch.randn(3, d) * 0.02)  # observation / goal / state
        self.state = nn.Linear(c.state_dim, d)
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.encoder = transformer(d, c.heads, c.blocks, c.dropout)
        self.norm = nn.LayerNorm(d)
        self.points = KeypointEncoder(c.keypoints, c.size) if c.keypoints else None
        latent = d + 4 * c.keypoints + c.state_dim
        features = 3 * THUMB * THUMB
        self.proximal = mlp(latent, 4 * d, c.near * c.action_dim)
        self.proximal_frames = mlp(latent, 4 * d, c.n_proximal_frames * features)
        if c.msth:
            self.distal = mlp(latent, 4 * d, c.n_distal * c.action_dim)
            self.distal_frames = mlp(latent, 4 * d, c.n_distal * features)

    def forward(self, observation, goal_image, state) -> dict[str, torch.Tensor]:
        """observation, goal (B, 3, S, S) uint8, state (B, Ds) normalised -> proximal (B, P, Da),
        proximal_features (B, Np, F) and, with MSTH, distal (B, M, Da), distal_features (B, M, F)."""
        c = self.config
        if not c.uses_goal:
            goal_image = torch.zeros_like(goal_image)
        obs = self.image(observation) + self.kind[0]
        goal = self.image(goal_image) + self.kind[1]
        st = (self.state(state) + self.kind[2]).unsqueeze(1)
        tokens = torch.cat([self.cls.expand(len(obs), -1, -1), obs, goal, st], 1)
        parts = [self.norm(self.encoder(tokens)[:, 0])]
        if self.points is not None:
            parts += [self.points(observation), self.points(goal_image)]
        z = torch.cat([*parts, state], -1)
        b = len(z)
        out = {
            "proximal": self.proximal(z).view(b, c.near, c.action_dim),
            "proximal_features": self.proximal_frames(z).view(b, c.n_proximal_frames, -1),
        }
        if c.msth:
            out["distal"] = self.distal(z).view(b, c.n_distal, c.action_dim)
            out["distal_features"] = self.distal_frames(z).view(b, c.n_distal, -1)
        return out


@dataclass
class Act2GoalLosses:
    distal_weight: float = 0.5
    world_model_weight: float = 0.5

    to_dict = asdict

    @classmethod
    def from_dict(cls, data: dict) -> Act2GoalLosses:
        return _from_dict(cls, data)


def _masked_mse(pred: torch.Tensor, target: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
    valid = (~pad).float()
    err = ((pred - target) ** 2).mean(-1)
    return (err * valid).sum() / valid.sum().clamp(min=1)


def act2goal_loss(out: dict, batch: dict, losses: Act2GoalLosses) -> tuple[torch.Tensor, dict[str, float]]:
    """``batch`` holds normalised targets: proximal_target (B, P, Da), distal_target (B, M, Da),
    proximal_features (B, Np, F), distal_features (B, M, F) and the dataset's pad masks."""
    parts = {
        "proximal": _masked_mse(out["proximal"], batch["proximal_target"], batch["proximal_action_pad"]),
        "proximal_wm": _masked_mse(
            out["proximal_features"], batch["proximal_features"], batch["proximal_pad"]
        ),
    }
    total = parts["proximal"] + losses.world_model_weight * parts["proximal_wm"]
    if "distal" in out:
        parts["distal"] = _masked_mse(out["distal"], batch["distal_target"], batch["distal_action_pad"])
        parts["distal_wm"] = _masked_mse(
            out["distal_features"], batch["distal_features"], batch["distal_pad"]
        )
        total = (
            total + losses.distal_weight * parts["distal"] + losses.world_model_weight * parts["distal_wm"]
        )
    return total, {"loss": float(total.detach()), **{k: float(v.detach()) for k, v in parts.items()}}


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = [
    "Rocket2Config",
    "Rocket2Policy",
    "Rocket2Losses",
    "rocket2_loss",
    "Act2GoalConfig",
    "Act2GoalPolicy",
    "Act2GoalLosses",
    "act2goal_loss",
    "thumbnails",
    "count_parameters",
]
