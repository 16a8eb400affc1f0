"""The dataset-level record kept in the root group's attributes (``zarr.json``).

Like LeRobot's ``info.json``, it says which layout version wrote the store, what every
episode array holds (the feature schema, :mod:`goalframe.schemas.features`) and which steps
ran with which parameters, so any step can be re-run alone and readers can refuse layouts
they do not understand. The full step log is the table ``tables/steps.parquet``; the root
attrs keep the latest run of each step (for readers of layout 1.0 that look there) and,
in datasets written before the table, the whole log.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, Field

from goalframe.schemas.features import Feature

# Bump the major number when a reader of the old layout would misread the new one.
LAYOUT_VERSION = "1.0"


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class StepRecord(BaseModel):
    """One run of one pipeline step (ingest, events, masks, ...)."""

    step: str
    goalframe_version: str
    params: dict[str, Any] = Field(default_factory=dict)
    started: str
    finished: str
    summary: dict[str, Any] = Field(default_factory=dict)


def latest_per_step(steps: list[StepRecord]) -> list[StepRecord]:
    """The newest run of each step name, oldest first: the bounded copy kept in the root attrs."""
    newest = {record.step: record for record in steps}
    return [record for record in steps if newest[record.step] is record]


class DatasetInfo(BaseModel):
    """Root attributes of a goalframe dataset."""

    goalframe_layout: str = LAYOUT_VERSION
    created: str = Field(default_factory=utc_now)
    steps: list[StepRecord] = Field(default_factory=list)
    features: dict[str, Feature] = Field(default_factory=dict)  # empty in datasets written before it

    def major(self) -> int:
        return int(self.goalframe_layout.split(".")[0])


class DatasetError(ValueError):
    """A dataset path that cannot be used; ``str()`` is one line naming the path."""
