"""The build steps, one contract: a dataclass of typed parameters with a ``name`` and
``run(dataset, context)`` that adds its part to the dataset and returns a summary.

``validate()`` runs before the build takes the writer lease, so bad parameters fail before
any work. The steps call the same library functions as ``goalframe ingest/events/masks/
pairs/msth``, so a built dataset can be resumed or any step re-run alone.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from goalframe.annotators.events import EventFilters
from goalframe.annotators.masks import MaskOptions
from goalframe.sampling.msth import CLIP_MODES, MSTHSpec, check_distal_count
from goalframe.storage.layout import DEFAULT_FRAME_CODEC

#: ``progress(description, total)``: a context manager yielding ``advance(result)``, called
#: once per finished task (an episode, an event) with that task's result.
Progress = Callable[[str, int], AbstractContextManager[Callable[[Any], None]]]


@contextmanager
def no_progress(_description: str, _total: int) -> Iterator[Callable[[Any], None]]:
    yield lambda _result=None: None


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


@dataclass
class StepContext:
    """What every step of one build shares: the raw input and how to run in parallel."""

    raw: Path
    fmt: str
    workers: int | None = None
    scheduler: str | None = None
    storage_options: dict[str, Any] | None = None
    progress: Progress = no_progress

    def parallel(self) -> dict[str, Any]:
        """Keyword arguments of the library functions after ingest (one worker unless asked)."""
        return {
            "workers": self.workers or 1,
            "scheduler": self.scheduler,
            "storage_options": self.storage_options,
        }

    def n_episodes(self, dataset: str) -> int:
        from goalframe.storage import open_dataset

        return len(open_dataset(dataset, self.storage_options).episodes)


@dataclass
class Step:
    """Base of the steps: subclasses are dataclasses whose fields are their parameters."""

    name: ClassVar[str] = "step"

    def validate(self) -> None:
        """Refuse bad parameters before the build starts."""

    def params(self) -> dict[str, Any]:
        return asdict(self)

    def run(self, dataset: str, context: StepContext) -> Any:
        raise NotImplementedError


@dataclass
class Ingest(Step):
    """Raw recordings into episodes; complete episodes are skipped. Summary: the report's."""

    name: ClassVar[str] = "ingest"
    codec: str = DEFAULT_FRAME_CODEC
    truncate_camera: bool = False  # VPT: camera degrees truncated toward zero, as VPT's own conversion
    chunk_frames: int | None = None  # h264/av1: frames per video chunk (None: the codec's default)
    crf: int | None = None  # h264/av1: constant rate factor (None: the codec's default)
    gop: int | None = None  # h264/av1: a keyframe every gop frames inside a chunk (None/0: one per chunk)

    def validate(self) -> None:
        from goalframe.storage.layout import FRAME_CODECS, frame_array_options

        if self.codec not in FRAME_CODECS:
            raise ValueError(f"--codec must be one of {', '.join(FRAME_CODECS)}, got {self.codec!r}")
        frame_array_options(self.codec, 2, 2, **self.codec_options())  # a bad crf or chunk length fails now

    def codec_options(self) -> dict[str, int]:
        return {
            name: value
            for name, value in (("chunk_frames", self.chunk_frames), ("crf", self.crf), ("gop", self.gop))
            if value is not None
        }

    def reader_options(self) -> dict[str, Any] | None:
        return {"truncate_camera": True} if self.truncate_camera else None

    def run(self, dataset: str, context: StepContext) -> dict[str, Any]:
        return ingest_raw(
            context.fmt,
            context.raw,
            dataset,
            context.workers,
            context.scheduler,
            self.codec,
            context.storage_options,
            self.reader_options(),
            context.progress,
            self.codec_options() or None,
        ).summary()


def ingest_raw(
    fmt: str,
    raw: Path,
    out: str,
    workers: int | None = None,
    scheduler: str | None = None,
    codec: str = DEFAULT_FRAME_CODEC,
    storage_options: dict | None = None,
    reader_options: dict | None = None,
    progress: Progress = no_progress,
    codec_options: dict | None = None,
) -> Any:
    """Discover ``raw`` and ingest every episode into ``out``; returns the IngestReport.

    ``reader_options`` are keyword arguments of the format's ``read`` (VPT: ``truncate_camera``);
    ``codec_options`` the video codecs' ``chunk_frames``, ``crf`` and ``gop`` (None entries are dropped).
    """
    from goalframe.sources.registry import get_format
    from goalframe.storage.ingest import ingest
    from goalframe.storage.layout import frame_array_options
    from goalframe.storage.lease import dataset_lease
    from goalframe.storage.store import create_or_open

    Ingest(codec=codec).validate()
    codec_options = {name: value for name, value in (codec_options or {}).items() if value is not None}
    frame_array_options(codec, 2, 2, **codec_options)  # a bad crf or chunk length fails before any work
    if not raw.exists():
        raise FileNotFoundError(f"{raw}: no such file or folder")
    source = get_format(fmt)
    if scheduler:  # a cluster's workers do not share our working directory
        raw = raw.resolve()
    refs = source.discover(raw)
    if not refs:
        raise ValueError(f"{raw}: no {fmt} episodes found")
    workers = workers or min(default_workers(), len(refs))
    # Held here already (ingest() takes it again, re-entrant) so that a busy or read-only
    # dataset, like a foreign output folder, is refused before any progress is shown.
    with dataset_lease(out, f"ingest {fmt}", storage_options, create=True):
        create_or_open(out, storage_options)
        read = functools.partial(source.read, **reader_options) if reader_options else source.read
        params = {
            "raw": str(raw),
            "codec": codec,
            "workers": workers,
            "scheduler": scheduler,
            **codec_options,
            **(reader_options or {}),
        }
        with progress(f"ingest {fmt}", len(refs)) as advance:
            return ingest(
                out,
                refs,
                read,
                fmt,
                codec=codec,
                workers=workers,
                scheduler=scheduler,
                on_result=advance,
                storage_options=storage_options,
                params=params,
                codec_options=codec_options or None,
            )


@dataclass
class Events(Step):
    """Interaction events into ``tables/events.parquet``. Summary: the number of events."""

    name: ClassVar[str] = "events"
    filters: EventFilters = field(default_factory=EventFilters)
    grasp_offset: float | None = None  # AgiBot: metres from the flange to the grasp point

    def validate(self) -> None:
        self.filters.validate()
        if self.grasp_offset is not None and not 0.0 <= self.grasp_offset <= 0.5:
            raise ValueError(f"--grasp-offset must be between 0 and 0.5 m, got {self.grasp_offset}")

    def run(self, dataset: str, context: StepContext) -> int:
        from goalframe.annotators.events import extract_events

        with context.progress("events", context.n_episodes(dataset)) as advance:
            table, _warnings = extract_events(
                dataset, self.filters, on_result=advance, grasp_offset=self.grasp_offset, **context.parallel()
            )
        return table.height


@dataclass
class Masks(Step):
    """A mask track per event with a prompt point. Summary: the mask report's."""

    name: ClassVar[str] = "masks"
    options: MaskOptions = field(default_factory=MaskOptions)

    def validate(self) -> None:
        self.options.validate()
        if self.options.annotator == "sam":  # a missing checkpoint fails now, not after ingest
            from goalframe.annotators.sam import check_checkpoint

            check_checkpoint(self.options.checkpoint, self.options.model_type)

    def run(self, dataset: str, context: StepContext) -> dict[str, Any]:
        from goalframe.annotators.masks import annotate_masks
        from goalframe.storage import open_dataset

        n_events = open_dataset(dataset, context.storage_options).table("events").height
        with context.progress("masks", n_events) as advance:
            return annotate_masks(dataset, self.options, on_result=advance, **context.parallel()).summary()


@dataclass
class Pairs(Step):
    """Cross-view goal pairs (ROCKET-2) into ``tables/pairs.parquet``. Summary: its rows."""

    name: ClassVar[str] = "pairs"
    seed: int = 0
    cross_episode: bool = False
    cross_camera: bool = False

    def run(self, dataset: str, context: StepContext) -> int:
        from goalframe.sampling.pairs import build_pairs
        from goalframe.storage import open_dataset

        ds = open_dataset(dataset, context.storage_options)
        with_tracks = len({episode for episode, _track in ds.track_ids()})
        with context.progress("pairs", with_tracks) as advance:
            table, _warnings = build_pairs(
                dataset,
                seed=self.seed,
                cross_episode=self.cross_episode,
                cross_camera=self.cross_camera,
                on_result=advance,
                **context.parallel(),
            )
        return table.height


#: The MSTH spec of ``goalframe build`` when none is given.
DEFAULT_MSTH = MSTHSpec(horizon=120, near=30, stride=5, distal=6)


@dataclass
class MSTH(Step):
    """Multi-Scale Temporal Hashing indices (Act2Goal) into ``tables/msth.parquet``. Summary: its rows."""

    name: ClassVar[str] = "msth"
    spec: MSTHSpec = DEFAULT_MSTH
    clip: str = "episode"

    def validate(self) -> None:
        check_distal_count(self.spec)
        if self.clip not in CLIP_MODES:
            raise ValueError(f"--clip must be one of {', '.join(CLIP_MODES)}, got {self.clip!r}")

    def run(self, dataset: str, context: StepContext) -> int:
        from goalframe.sampling.msth import build_msth

        with context.progress("msth", context.n_episodes(dataset)) as advance:
            table, _warnings = build_msth(
                dataset, self.spec, clip=self.clip, on_result=advance, **context.parallel()
            )
        return table.height


#: The steps of ``goalframe build``, in order.
STEP_TYPES: dict[str, type[Step]] = {step.name: step for step in (Ingest, Events, Masks, Pairs, MSTH)}
