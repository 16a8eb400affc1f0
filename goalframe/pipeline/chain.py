"""``build``: the chain of steps over one dataset, under one writer lease."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from goalframe.pipeline.steps import STEP_TYPES, Progress, Step, StepContext, no_progress

DEFAULT_STEPS = tuple(STEP_TYPES)


def resolve_steps(steps: Sequence[str | Step], overrides: dict[str, Step]) -> list[Step]:
    """Step names become their default steps; ``overrides`` replace the step of that name."""
    unknown = set(overrides) - {s if isinstance(s, str) else s.name for s in steps}
    if unknown:
        raise ValueError(f"parameters for steps not in the chain: {', '.join(sorted(unknown))}")
    resolved = []
    for step in steps:
        if isinstance(step, str):
            if step not in STEP_TYPES:
                raise ValueError(f"unknown step {step!r}; choose from {', '.join(STEP_TYPES)}")
            step = overrides.get(step) or STEP_TYPES[step]()
        resolved.append(step)
    return resolved


def build(
    raw: str | Path,
    out: str,
    fmt: str,
    steps: Sequence[str | Step] = DEFAULT_STEPS,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    storage_options: dict[str, Any] | None = None,
    progress: Progress = no_progress,
    **step_params: Step,
) -> dict[str, Any]:
    """Run ``steps`` (names or :class:`Step` objects) on the ``fmt`` recordings in ``raw``
    into the dataset ``out``; returns ``{step name: its summary}``.

    ``step_params`` give a default step its parameters by name, e.g.
    ``build(raw, out, "agibot", msth=MSTH(MSTHSpec(40, 10, 5, 4), clip="segment"))``.
    Every step is validated before any work; the whole chain holds the dataset's writer
    lease, so no other writer slips in between two steps.
    """
    from goalframe.storage.lease import dataset_lease

    chain = resolve_steps(steps, step_params)
    for step in chain:
        step.validate()
    context = StepContext(Path(raw), fmt, workers, scheduler, storage_options, progress)
    summary: dict[str, Any] = {}
    with dataset_lease(out, f"build {fmt}", storage_options, create=True):
        for step in chain:
            summary[step.name] = step.run(out, context)
    return summary
