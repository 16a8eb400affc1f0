"""The build chain as a library: steps with one contract, and ``build`` that runs them.

    from goalframe.pipeline import build, Masks
    from goalframe.annotators.masks import MaskOptions

    summary = build("raw/vpt", "data/vpt.zarr", "vpt", masks=Masks(MaskOptions(window=64)))

``goalframe build`` calls :func:`build`; so do the demo, the training data preparation,
the benchmarks and the tests. Import direction: pipeline imports sampling, training,
annotators, storage, sources; nothing below it imports pipeline.
"""

from goalframe.pipeline.chain import DEFAULT_STEPS, build
from goalframe.pipeline.steps import (
    MSTH,
    STEP_TYPES,
    Events,
    Ingest,
    Masks,
    Pairs,
    Progress,
    Step,
    StepContext,
    default_workers,
    ingest_raw,
)

__all__ = [
    "DEFAULT_STEPS",
    "MSTH",
    "STEP_TYPES",
    "Events",
    "Ingest",
    "Masks",
    "Pairs",
    "Progress",
    "Step",
    "StepContext",
    "build",
    "default_workers",
    "ingest_raw",
]
