"""The attributes of a mask track group (``masks/<episode_id>/<track_id>/``), typed.

Written by the masks step for every automatic track and read back for the tracks table and
for review; unknown keys are kept (``extra="allow"``) so tracks written by other versions
round-trip untouched.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TrackMeta(BaseModel):
    """Provenance of one automatic mask track: which event, camera and annotator made it."""

    model_config = ConfigDict(extra="allow")

    event_id: str | None = None
    camera: str | None = None
    annotator: str | None = None
    annotator_version: str | None = None
    event_frame: int | None = None  # the event's frame: the track's last one
    interaction: str | None = None
    object: str | None = None
    prompt: list[float] | None = None  # (row, col) of the prompt point in the event frame
    window: int | None = None  # frames in the track's window, the event frame included
    every: int = 1  # annotate every n-th frame (the others are propagated)
    poses: bool = False  # the prompt followed the target's pose
    params: dict[str, Any] = Field(default_factory=dict)  # the annotator's own parameters
    max_area: float | None = None  # the plausibility check's limit (a fraction of the frame)
    implausible: dict[str, Any] | None = None  # frames the check found implausible: how many, why, which
    note: str | None = None  # why a track is not visible, when it is not
    kind: str = "automatic"  # automatic | reviewed (a review revision's group)
    created: str | None = None
    complete: bool = False  # written last: readers ignore a track without it

    def attrs(self) -> dict[str, Any]:
        """The group attributes to write (unset optional fields left out, as before)."""
        return self.model_dump(exclude_none=True)
