"""Training loop: seeded batches, progress, checkpoints (state dicts), resume.

A run is a folder::

    RUN/config.json        the TrainConfig (and model config) as JSON
    RUN/checkpoint.pt      {"model", "optimizer", "step", "elapsed", "cpu", "stats", "sha256"}: tensors
                           and plain containers only, read with torch.load(weights_only=True);
                           "sha256" covers every tensor's bytes and every other value, so a
                           flipped byte in a weight is refused instead of loaded
    RUN/log.jsonl          one line per logged step: train losses, lr, seconds; val losses

The config stores the dataset as an absolute path (URLs as given), so a run is evaluated
and resumed from any folder. A run that fails before its first checkpoint leaves nothing
behind (the files and folders it created are removed).

Batch ``k`` (samples and augmentation) is drawn from ``numpy.random.default_rng([seed, k])``,
so a resumed run draws exactly the batches an uninterrupted one would (same config, same
thread count: bitwise-equal weights on CPU).

Every policy's task (its data, batches and loss) shares the loop; each is defined with the
rest of its policy in :mod:`goalframe.training.policies` (ROCKET-2: CrossViewDataset windows;
Act2Goal: MSTHDataset samples with end-effector actions).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from goalframe.storage.store import store_path

CHECKPOINT, CONFIG, LOG = "checkpoint.pt", "config.json", "log.jsonl"


@dataclass
class TrainConfig:
    """Everything a run depends on. ``None`` fields take the policy's default (see :func:`resolve`)."""

    policy: str
    dataset: str
    steps: int | None = None
    batch_size: int | None = None
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup: int = 50
    seed: int = 0
    split_seed: int = 0  # the train/val episode split (shared by runs with other seeds)
    val_fraction: float = 0.15
    size: int = 64
    width: int = 64
    blocks: int = 2
    ablate: list[str] = field(default_factory=list)
    # rocket2
    window: int = 8
    window_stride: int = 4
    interactions: list[str] | None = field(default_factory=lambda: ["mine", "hunt"])
    flip: bool = True  # left-right mirroring of half the windows
    aux_views: float = 0.5  # extra cropped windows per labelled window for the auxiliary heads
    device: str = "cpu"  # rocket2: "auto" trains on CUDA when present (the weights are saved for CPU)
    # act2goal
    camera: str = "head_color"
    goal: str = "episode_end"
    frame_stride: int = 1
    # loop
    log_every: int = 10
    val_every: int = 100
    checkpoint_every: int = 100
    val_samples: int = 64
    threads: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def resolve(config: TrainConfig) -> TrainConfig:
    """Check the config and fill the policy defaults; one-line ValueErrors."""
    from goalframe.training.policies import policy_spec

    spec = policy_spec(config.policy)
    unknown = sorted(set(config.ablate) - set(spec.ablations))
    if unknown:
        raise ValueError(
            f"--ablate {unknown[0]!r} is not an ablation of {config.policy} (choose from"
            f" {', '.join(spec.ablations)})"
        )
    values = config.to_dict()
    for key, value in spec.defaults.items():
        if values[key] is None:
            values[key] = value
    values["ablate"] = sorted(set(config.ablate))
    values["dataset"] = store_path(config.dataset)  # the same dataset whichever folder a command runs from
    out = TrainConfig.from_dict(values)
    if out.steps < 1 or out.batch_size < 1:
        raise ValueError(f"--steps and --batch-size must be >= 1, got {out.steps} and {out.batch_size}")
    return out


# ---------------------------------------------------------------------------- tasks


def make_task(config: TrainConfig, splits: tuple[str, ...] = ("train", "val")):
    """The policy's training task (its data, batches and loss), from the policy registry."""
    from goalframe.training.policies import policy_spec

    return policy_spec(config.policy).task(config, splits)


# ---------------------------------------------------------------------------- checkpoints


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used: empty, cut short, not a checkpoint, or changed."""


CHECKPOINT_KEYS = ("model", "optimizer", "step", "stats")


def _feed(digest: Any, value: Any) -> None:
    """Hash a checkpoint value: tensors by dtype, shape and bytes, containers in key order."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"tensor {tensor.dtype} {tuple(tensor.shape)}\n".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, dict):
        digest.update(f"dict {len(value)}\n".encode())
        for key in sorted(value, key=repr):
            digest.update(f"{key!r}\n".encode())
            _feed(digest, value[key])
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__} {len(value)}\n".encode())
        for item in value:
            _feed(digest, item)
    else:
        digest.update(f"{type(value).__name__} {value!r}\n".encode())


def state_sha256(state: dict[str, Any]) -> str:
    """sha256 of everything in a checkpoint but its own ``sha256`` entry."""
    digest = hashlib.sha256()
    _feed(digest, {k: v for k, v in state.items() if k != "sha256"})
    return digest.hexdigest()


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write atomically (a crash never leaves a half-written checkpoint), with its checksum."""
    tmp = path.with_suffix(".tmp")
    torch.save({**state, "sha256": state_sha256(state)}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint's state (without its checksum); a one-line CheckpointError naming the file
    when it is empty, cut short, not a goalframe checkpoint, or its bytes changed since written.
    Checkpoints written before checksums were stored load unchecked."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: empty file (0 bytes), not a checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for cut or foreign files; any means unusable
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CheckpointError(
            f"{path}: not a readable checkpoint (cut short, damaged or not written by goalframe train:"
            f" {exc.__class__.__name__}: {reason})"
        ) from None
    missing = [key for key in CHECKPOINT_KEYS if not isinstance(state, dict) or key not in state]
    if missing:
        raise CheckpointError(f"{path}: not a goalframe checkpoint (no {', '.join(missing)})")
    recorded = state.pop("sha256", None)
    actual = state_sha256(state) if recorded is not None else None
    if recorded != actual:
        raise CheckpointError(
            f"{path}: checksum mismatch: the stored weights or state changed after goalframe train wrote them"
            f" (sha256 recorded {str(recorded)[:12]}…, now {actual[:12]}…)"
        )
    return state


def load_weights(model: torch.nn.Module, state: dict[str, Any], path: Path) -> None:
    """``model.load_state_dict`` with a one-line error when the weights belong to another model."""
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, KeyError, TypeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise CheckpointError(f"{path}: the weights do not fit the run's model ({reason})") from None


def read_config(run: Path) -> TrainConfig:
    path = Path(run) / CONFIG
    if not path.exists():
        raise FileNotFoundError(f"{run}: not a training run (no {CONFIG})")
    try:
        return TrainConfig.from_dict(json.loads(path.read_text())["train"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"{path}: not a readable run config ({exc.__class__.__name__}:"
            f" {str(exc).splitlines()[0] if str(exc) else ''})"
        ) from None


def read_log(run: Path) -> list[dict[str, Any]]:
    path = Path(run) / LOG
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _same_run(a: TrainConfig, b: TrainConfig) -> bool:
    ignore = {"steps", "log_every", "val_every", "checkpoint_every", "threads"}
    da, db = a.to_dict(), b.to_dict()
    da["dataset"], db["dataset"] = (
        store_path(da["dataset"]),
        store_path(db["dataset"]),
    )  # runs from before paths were stored resolved
    return all(da[k] == db[k] for k in da if k not in ignore)


# ---------------------------------------------------------------------------- the loop


@dataclass
class TrainResult:
    run: str
    steps: int
    seconds: float
    final: dict[str, float]
    val: dict[str, float] | None
    resumed_from: int


def _lr(config: TrainConfig, step: int) -> float:
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    progress = min(1.0, (step - config.warmup) / max(1, config.steps - config.warmup))
    return config.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def _draw(config: TrainConfig, indices: np.ndarray, step: int) -> tuple[np.ndarray, np.random.Generator]:
    rng = np.random.default_rng([config.seed, step])
    return indices[rng.integers(len(indices), size=config.batch_size)], rng


def _evaluate_loss(task, model, indices: np.ndarray, batch_size: int) -> dict[str, float]:
    data = task.data["val"]
    model.eval()
    totals: dict[str, float] = {}
    n = 0
    with torch.no_grad():
        for start in range(0, len(indices), batch_size):
            chunk = indices[start : start + batch_size]
            _loss, parts = task.loss(model, task.batch([data[int(i)] for i in chunk]))
            for k, v in parts.items():
                totals[k] = totals.get(k, 0.0) + v * len(chunk)
            n += len(chunk)
    model.train()
    return {k: v / max(n, 1) for k, v in totals.items()}


def train(
    config: TrainConfig,
    out: str | Path,
    resume: bool = True,
    on_step: Callable[[int, int, dict[str, float]], None] | None = None,
    task=None,
) -> TrainResult:
    """Train ``config`` into the run folder ``out``; continue a run there when ``resume``.

    ``on_step(step, steps, losses)`` is called after every step (progress bars). A failure
    before the first checkpoint removes the files and folders this call created.
    """
    config = resolve(config)
    out = Path(out)
    new_folders = [folder for folder in (out, *out.parents) if not folder.exists()]
    had = {name for name in (CONFIG, LOG) if (out / name).exists()}
    out.mkdir(parents=True, exist_ok=True)
    try:
        return _train(config, out, resume, on_step, task)
    except BaseException:
        _remove_unfinished_run(out, had, new_folders)
        raise


def _remove_unfinished_run(out: Path, had: set[str], new_folders: list[Path]) -> None:
    """Nothing to resume without a checkpoint: remove what this run wrote, then the folders it made."""
    if (out / CHECKPOINT).exists():
        return
    for name in {CONFIG, LOG} - had:
        (out / name).unlink(missing_ok=True)
    (out / CHECKPOINT).with_suffix(".tmp").unlink(missing_ok=True)
    for folder in new_folders:  # deepest first; a folder something else wrote into stays
        try:
            folder.rmdir()
        except OSError:
            break


def _train(config: TrainConfig, out: Path, resume: bool, on_step, task) -> TrainResult:
    torch.set_num_threads(config.threads or 1)  # tiny ops: one thread is the most efficient
    checkpoint_path = out / CHECKPOINT
    previous = None
    if (out / CONFIG).exists():
        previous = read_config(out)
        if not _same_run(previous, config):
            raise ValueError(
                f"{out}: holds a run with another configuration; choose a new --out (or delete it)"
            )
    state = load_checkpoint(checkpoint_path) if (resume and checkpoint_path.exists()) else None
    if state is None and (out / LOG).exists():
        (out / LOG).unlink()  # a fresh start: the old log would mix two runs

    task = task or make_task(config)
    if len(task.data["train"].indices) == 0:
        raise ValueError(
            f"{config.dataset}: no training samples for {config.policy} (check pairs / msth tables and"
            " --interactions)"
        )
    torch.manual_seed(config.seed)
    model = task.make_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    start, elapsed, cpu = 0, 0.0, 0.0
    if state is not None:
        load_weights(model, state, checkpoint_path)
        try:
            optimizer.load_state_dict(state["optimizer"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(
                f"{checkpoint_path}: the optimizer state does not fit the run's model ({exc})"
            ) from None
        start, elapsed, cpu = int(state["step"]), float(state["elapsed"]), float(state.get("cpu", 0.0))
        kept = [r for r in read_log(out) if r["step"] <= start]  # steps after the checkpoint are redone
        (out / LOG).write_text("".join(json.dumps(r) + "\n" for r in kept))
        stats = state["stats"]
    else:
        stats = task.compute_stats()
    task.stats = stats
    (out / CONFIG).write_text(
        json.dumps(
            {
                "train": config.to_dict(),
                "model": task.model_config.to_dict(),
                "losses": task.losses.to_dict(),
            },
            indent=1,
        )
    )

    train_indices = np.asarray(task.data["train"].indices)
    val_data = task.data.get("val")
    val_indices = np.asarray(val_data.indices) if val_data is not None else np.zeros(0, np.int64)
    if len(val_indices) > config.val_samples:
        val_indices = np.sort(
            np.random.default_rng(config.split_seed).choice(val_indices, config.val_samples, replace=False)
        )

    def checkpoint(step: int) -> None:
        save_checkpoint(
            checkpoint_path,
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "step": step,
                "elapsed": elapsed,
                "cpu": cpu,
                "stats": stats,
            },
        )

    log = open(out / LOG, "a")
    model.train()
    parts: dict[str, float] = {}
    val_parts = None
    step = start
    try:
        for step in range(start, config.steps):
            began, began_cpu = time.perf_counter(), time.process_time()
            for group in optimizer.param_groups:
                group["lr"] = _lr(config, step)
            idx, rng = _draw(config, train_indices, step)
            batch = task.train_batch(idx, rng)
            loss, parts = task.loss(model, batch)
            if not torch.isfinite(loss):  # stop before NaN weights reach a checkpoint
                raise ValueError(
                    f"{config.dataset}: the training loss is not finite at step {step + 1} ({parts}); the"
                    " last checkpoint is kept"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            elapsed += time.perf_counter() - began
            cpu += time.process_time() - began_cpu
            done = step + 1
            record: dict[str, Any] = {}
            if done % config.log_every == 0 or done == config.steps:
                record = {
                    "step": done,
                    "seconds": round(elapsed, 2),
                    "cpu_seconds": round(cpu, 2),
                    "lr": _lr(config, step),
                    "train": parts,
                }
            if len(val_indices) and (done % config.val_every == 0 or done == config.steps):
                val_parts = _evaluate_loss(task, model, val_indices, config.batch_size)
                record = {**(record or {"step": done, "seconds": round(elapsed, 2)}), "val": val_parts}
            if record:
                log.write(json.dumps(record) + "\n")
                log.flush()
            if done % config.checkpoint_every == 0 or done == config.steps:
                checkpoint(done)
            if on_step is not None:
                on_step(done, config.steps, parts)
        if start >= config.steps and not checkpoint_path.exists():
            checkpoint(start)
    finally:
        log.close()
    return TrainResult(str(out), config.steps, elapsed, parts, val_parts, start)


def load_policy(run: str | Path):
    """(TrainConfig, model in eval mode, stats) of a run's latest checkpoint."""
    run = Path(run)
    config = read_config(run)
    saved = json.loads((run / CONFIG).read_text())
    from goalframe.training.policies import policy_spec

    model = policy_spec(config.policy).model(saved["model"])
    if not (run / CHECKPOINT).exists():
        raise FileNotFoundError(f"{run}: no {CHECKPOINT} (training never reached a checkpoint)")
    state = load_checkpoint(run / CHECKPOINT)
    load_weights(model, state, run / CHECKPOINT)
    model.eval()
    return config, model, state["stats"], int(state["step"])
