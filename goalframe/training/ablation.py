"""The papers' ablations on data built here: train every variant on the same data, evaluate, tabulate.

- ROCKET-2: BC only / + visibility / + cross-view consistency (``--ablate`` of the losses);
- Act2Goal: with MSTH / fixed-horizon chunk (``--ablate msth``), success by task length.

Run it from the command line (``goalframe.pipeline.ablation``; ``--prepare`` generates the two demo
datasets first)::

    python -m goalframe.pipeline.ablation --out runs/ablation --prepare
    python -m goalframe.pipeline.ablation --out runs/ablation \
        --vpt data/vpt.zarr --agibot data/agibot.zarr --seeds 0 1 2

Each variant is one run folder ``OUT/<policy>-<variant>-s<seed>`` (resumable; finished runs and
their metrics are reused), and the tables go to stdout, ``OUT/ablation.md`` and
``OUT/ablation.json``, with ``OUT/rocket2_ablation.png`` and ``OUT/act2goal_by_length.png``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from goalframe.training.evaluate import METRICS, evaluate_run, plot_success
from goalframe.training.trainer import TrainConfig, train

ROCKET2_VARIANTS = {  # name -> ablated losses
    "BC only": ["visibility", "consistency"],
    "+ visibility": ["consistency"],
    "+ consistency": [],
}
ACT2GOAL_VARIANTS = {"fixed horizon": ["msth"], "MSTH": []}


def _slug(name: str) -> str:
    return {
        "BC only": "bc",
        "+ visibility": "bc-vis",
        "+ consistency": "bc-vis-cons",
        "fixed horizon": "fixed",
        "MSTH": "msth",
    }[name]


def _metrics(run: Path, episodes: int, seed: int) -> dict[str, Any]:
    path = run / METRICS
    if path.exists():
        old = json.loads(path.read_text())
        if old.get("episodes") == episodes and old.get("seed") == seed:
            return old
    return evaluate_run(run, episodes=episodes, seed=seed)


def run_ablation(
    out: Path,
    vpt: str | None,
    agibot: str | None,
    steps: dict[str, int | None] | None = None,
    seeds: tuple[int, ...] = (0,),
    episodes: int = 20,
    eval_seed: int = 1000,
    say: Callable[[str], None] = print,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train and evaluate every variant (``vpt`` / ``agibot`` None skips that policy)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    steps = steps or {}
    results: dict[str, Any] = {
        "seeds": list(seeds),
        "episodes": episodes,
        "eval_seed": eval_seed,
        "rocket2": {},
        "act2goal": {},
    }
    plans = []
    if vpt:
        plans += [("rocket2", vpt, name, ablate) for name, ablate in ROCKET2_VARIANTS.items()]
    if agibot:
        plans += [("act2goal", agibot, name, ablate) for name, ablate in ACT2GOAL_VARIANTS.items()]
    for policy, dataset, name, ablate in plans:
        runs = []
        for seed in seeds:
            run = out / f"{policy}-{_slug(name)}-s{seed}"
            config = TrainConfig(
                policy=policy,
                dataset=dataset,
                steps=steps.get(policy),
                ablate=list(ablate),
                seed=seed,
                **(extra or {}).get(policy, {}),
            )
            started = time.perf_counter()
            result = train(config, run)
            if result.resumed_from < result.steps:
                say(
                    f"{policy} {name} seed {seed}: trained {result.steps} steps in {result.seconds:.0f} s"
                    f" (wall {time.perf_counter() - started:.0f} s)"
                )
            metrics = _metrics(run, episodes, eval_seed)
            runs.append(metrics)
            say(
                f"{policy} {name} seed {seed}: success {metrics['closed_loop']['success_rate']:.2f} (random"
                f" {metrics['random']['success_rate']:.2f})"
            )
        results[policy][name] = _aggregate(runs)
    (out / "ablation.json").write_text(json.dumps(results, indent=1))
    tables = format_tables(results)
    (out / "ablation.md").write_text(tables + "\n")
    _plots(results, out)
    say(tables)
    return results


def _mean_std(values: list[float]) -> dict[str, float]:
    v = np.asarray([x for x in values if x is not None], dtype=float)
    return {
        "mean": float(v.mean()) if len(v) else float("nan"),
        "std": float(v.std()) if len(v) else float("nan"),
        "n": int(len(v)),
    }


def _aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    agg: dict[str, Any] = {
        "success": _mean_std([r["closed_loop"]["success_rate"] for r in runs]),
        "random": _mean_std([r["random"]["success_rate"] for r in runs]),
        "random_prior": _mean_std([r["random_prior"]["success_rate"] for r in runs if "random_prior" in r]),
        "min_angle": _mean_std([r["closed_loop"].get("mean_min_angle") for r in runs]),
        "train_seconds": _mean_std([r.get("train_seconds") for r in runs]),
        "per_seed": [r["closed_loop"]["success_rate"] for r in runs],
    }
    offline_keys = sorted(
        {k for r in runs for k, v in (r.get("offline") or {}).items() if isinstance(v, (int, float))}
    )
    agg["offline"] = {k: _mean_std([(r.get("offline") or {}).get(k) for r in runs]) for k in offline_keys}
    by_length_offline = [(r.get("offline") or {}).get("chunk_action_error_cm_by_length") or {} for r in runs]
    if any(by_length_offline):
        agg["offline_by_length"] = {
            n: _mean_std([b.get(n) for b in by_length_offline])
            for n in sorted({n for b in by_length_offline for n in b}, key=int)
        }
    if "by_length" in runs[0]["closed_loop"]:
        agg["by_length"] = {
            n: {
                "success": _mean_std([r["closed_loop"]["by_length"][n]["success_rate"] for r in runs]),
                "placed": _mean_std([r["closed_loop"]["by_length"][n].get("mean_placed") for r in runs]),
                "progress": _mean_std([r["closed_loop"]["by_length"][n].get("mean_progress") for r in runs]),
                "random": _mean_std([r["random"]["by_length"][n]["success_rate"] for r in runs]),
            }
            for n in runs[0]["closed_loop"]["by_length"]
        }
    return agg


def _fmt(stat: dict[str, float] | None, digits: int = 2) -> str:
    if not stat or stat.get("n", 0) == 0 or np.isnan(stat["mean"]):
        return "-"
    text = f"{stat['mean']:.{digits}f}"
    return text + (f" ± {stat['std']:.{digits}f}" if stat["n"] > 1 else "")


def format_tables(results: dict[str, Any]) -> str:
    lines = []
    n_seeds, episodes = len(results["seeds"]), results["episodes"]
    if results["rocket2"]:
        lines += [
            (
                f"ROCKET-2, VPT reach-and-mine with a cross-view goal: closed-loop success over {episodes}"
                f" episodes (seeds {results['eval_seed']}..{results['eval_seed'] + episodes - 1}), mean ± std"
                f" over {n_seeds} training seed(s)"
            ),
            "",
            (
                "| variant | success | min angle to target (deg) | button acc | camera acc | centroid err |"
                " visibility F1 | train s |"
            ),
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, agg in results["rocket2"].items():
            off = agg["offline"]
            lines.append(
                f"| {name} | {_fmt(agg['success'])} | {_fmt(agg['min_angle'], 1)} |"
                f" {_fmt(off.get('button_accuracy'), 3)} | {_fmt(off.get('camera_accuracy'), 3)} |"
                f" {_fmt(off.get('centroid_error'), 3)} | {_fmt(off.get('visibility_f1'), 3)} |"
                f" {_fmt(agg['train_seconds'], 0)} |"
            )
        first = next(iter(results["rocket2"].values()))
        lines.append(f"| random policy (uniform) | {_fmt(first['random'])} | - | - | - | - | - | - |")
        lines.append(
            f"| random policy (data's action prior) | {_fmt(first['random_prior'])} | - | - | - | - | - | - |"
        )
        lines.append("")
    if results["act2goal"]:
        lengths = list(next(iter(results["act2goal"].values()))["by_length"])
        lines += [
            (
                f"Act2Goal, AgiBot arrange-to-goal-image: success by task length (objects), {episodes}"
                f" episodes each, mean ± std over {n_seeds} training seed(s); objects placed (fraction within"
                " 4 cm of the goal) in brackets"
            ),
            "",
            "| variant | " + " | ".join(f"{n} obj" for n in lengths) + " | first action err cm | train s |",
            "|---|" + "---|" * len(lengths) + "---|---|",
        ]
        for name, agg in results["act2goal"].items():
            cells = [
                f"{_fmt(agg['by_length'][n]['success'])} ({_fmt(agg['by_length'][n]['placed'])})"
                for n in lengths
            ]
            lines.append(
                f"| {name} | "
                + " | ".join(cells)
                + f" | {_fmt(agg['offline'].get('first_action_error_cm'), 2)} |"
                f" {_fmt(agg['train_seconds'], 0)} |"
            )
        random_cells = [
            _fmt(next(iter(results["act2goal"].values()))["by_length"][n]["random"]) for n in lengths
        ]
        lines.append("| random policy | " + " | ".join(random_cells) + " | - | - |")
        hold = next(iter(results["act2goal"].values()))["offline"].get("hold_position_first_action_error_cm")
        if hold:  # the baseline a model must beat offline: every target = the current pose
            lines.append("| stand still | " + " | ".join("-" for _ in lengths) + f" | {_fmt(hold, 2)} | - |")
        offline_lengths = sorted(
            {n for agg in results["act2goal"].values() for n in agg.get("offline_by_length", {})}, key=int
        )
        if offline_lengths:
            lines += [
                "",
                (
                    "Act2Goal offline, held-out episodes: proximal action-chunk error (cm, end-effector"
                    " positions) by the episode's task length"
                ),
                "",
                "| variant | " + " | ".join(f"{n} obj" for n in offline_lengths) + " |",
                "|---|" + "---|" * len(offline_lengths),
            ]
            for name, agg in results["act2goal"].items():
                lines.append(
                    f"| {name} | "
                    + " | ".join(_fmt(agg.get("offline_by_length", {}).get(n), 2) for n in offline_lengths)
                    + " |"
                )
    return "\n".join(lines)


def _plots(results: dict[str, Any], out: Path) -> None:
    if results["rocket2"]:
        groups = {name: {"policy": agg["success"]["mean"]} for name, agg in results["rocket2"].items()}
        first = next(iter(results["rocket2"].values()))
        groups["random (uniform)"] = {"policy": first["random"]["mean"]}
        groups["random (data prior)"] = {"policy": first["random_prior"]["mean"]}
        plot_success(groups, out / "rocket2_ablation.png", "ROCKET-2 loss ablation: closed-loop success")
    if results["act2goal"]:
        lengths = list(next(iter(results["act2goal"].values()))["by_length"])
        groups = {
            f"{n} obj": {
                name: agg["by_length"][n]["success"]["mean"] for name, agg in results["act2goal"].items()
            }
            for n in lengths
        }
        plot_success(
            groups, out / "act2goal_by_length.png", "Act2Goal: MSTH vs fixed horizon", "objects to arrange"
        )
