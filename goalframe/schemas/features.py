"""The feature schema of a dataset: what each array of an episode holds, kept in the root record.

Like the ``features`` of LeRobot's ``info.json``, one entry per array path inside an episode
group (``frames/head``, ``actions/joint/position``, ``timestamps``) gives its dtype, its shape
per row, the names of its columns, its unit and its codec, so a reader learns what a dataset
holds without opening an episode. Ingest writes it as the union over the episodes it wrote:
where episodes disagree (an inventory vocabulary that differs per episode, a varying width)
the entry keeps ``None`` for what they do not share.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from goalframe.schemas.vectors import AGIBOT_ACTION_LAYOUT, AGIBOT_STATE_LAYOUT

FRAME_NAMES = ["height", "width", "channel"]  # the axes of one stored frame; channels are RGB
NUMERIC_CODEC = "blosc-zstd"  # storage/layout.py numeric_compressor
TEXT_CODEC = "none"  # string arrays: only the chunk checksum


class Feature(BaseModel):
    """One array of an episode, described per row (its first axis is dropped)."""

    dtype: str
    shape: list[int | None]  # one row; None on an axis whose length differs between episodes
    per_frame: bool = True  # one row per episode frame; False for sparse tables (stats, segments)
    names: list[str] | None = None  # columns of the last axis (vectors) or, for frames, the axes (LeRobot)
    unit: str | None = None
    codec: str | None = None

    def merged(self, other: Feature) -> Feature:
        """What this feature and another episode's one of the same path have in common."""
        if len(self.shape) != len(other.shape) or self.dtype != other.dtype:
            return Feature(
                dtype=_same(self.dtype, other.dtype) or "mixed",
                shape=[],
                per_frame=self.per_frame and other.per_frame,
            )
        return Feature(
            dtype=self.dtype,
            shape=[_same(a, b) for a, b in zip(self.shape, other.shape)],
            per_frame=self.per_frame and other.per_frame,
            names=_same(self.names, other.names),
            unit=_same(self.unit, other.unit),
            codec=_same(self.codec, other.codec),
        )


def _same(a: Any, b: Any) -> Any:
    return a if a == b else None


def merge_features(*schemas: dict[str, Feature]) -> dict[str, Feature]:
    """The union of feature schemas, sorted by path; a path in several is merged."""
    out: dict[str, Feature] = {}
    for schema in schemas:
        for path, feature in schema.items():
            out[path] = out[path].merged(feature) if path in out else feature
    return dict(sorted(out.items()))


def unit_of(attrs: dict[str, Any]) -> str | None:
    """The unit an array's attrs give (AgiBot readers say ``unit``, VPT ones ``units``)."""
    unit = attrs.get("unit", attrs.get("units"))
    return str(unit) if unit is not None else None


def _vector_columns() -> dict[str, list[str]]:
    """Column names of AgiBot's state and action arrays, from the LeRobot vector layout."""
    columns: dict[str, list[str]] = {}
    for layout in (AGIBOT_STATE_LAYOUT, AGIBOT_ACTION_LAYOUT):
        for path, first, _last, names in layout:
            found = columns.setdefault(path, [])
            if len(found) == first:  # layouts list each array's columns in order
                found.extend(names)
    return columns


VECTOR_COLUMNS = _vector_columns()


def names_of(
    path: str, row_shape: tuple[int, ...], attrs: dict[str, Any], vectors: bool = False
) -> list[str] | None:
    """Column names of an array's last axis: its attrs' ``names`` or ``vocabulary``, or the
    vector layout (``vectors``: the episode carries the AgiBot gripper layout)."""
    if not row_shape:
        return None
    width = row_shape[-1]
    for key in ("names", "vocabulary"):
        candidate = attrs.get(key)
        if isinstance(candidate, list) and len(candidate) == width:
            return [str(name) for name in candidate]
    if vectors and len(VECTOR_COLUMNS.get(path, [])) == width:
        return list(VECTOR_COLUMNS[path])
    return None


def array_feature(
    path: str,
    dtype: str,
    shape: tuple[int, ...],
    n_frames: int,
    attrs: dict[str, Any],
    codec: str,
    vectors: bool = False,
) -> Feature:
    """The feature of one numeric array of ``shape`` in an episode of ``n_frames`` frames."""
    row = tuple(shape[1:])
    return Feature(
        dtype=dtype,
        shape=list(row),
        per_frame=bool(shape) and shape[0] == n_frames,
        names=names_of(path, row, attrs, vectors),
        unit=unit_of(attrs),
        codec=codec,
    )


def frame_feature(height: int, width: int, codec: str) -> Feature:
    return Feature(dtype="uint8", shape=[height, width, 3], names=list(FRAME_NAMES), codec=codec)
