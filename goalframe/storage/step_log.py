"""The step log: ``tables/steps.parquet``, one row per run of a pipeline step.

It is read and written through the root group's own zarr store, so the one ``root``
every step already holds is enough, on local disk and on object stores alike (a zarr
store replaces a key atomically: a temporary file and a rename, or one PUT). The sha256
sidecar is the same as every other table's, so ``goalframe verify`` checks it too.
"""

from __future__ import annotations

import io
import json

import polars as pl
import zarr
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync

from goalframe.schemas.layout import DatasetError, StepRecord
from goalframe.schemas.tables import STEPS_SCHEMA, conform
from goalframe.storage.layout import TABLES
from goalframe.storage.table_checksum import checksum_problem, checksum_record, parse_record

STEPS_TABLE = "steps"


def _key(root: zarr.Group, suffix: str = "") -> str:
    return f"{root.path}/{TABLES}/{STEPS_TABLE}.parquet{suffix}".lstrip("/")


def _get(root: zarr.Group, key: str) -> bytes | None:
    found = sync(root.store.get(key, prototype=default_buffer_prototype()))
    return None if found is None else found.to_bytes()


def _set(root: zarr.Group, key: str, data: bytes) -> None:
    sync(root.store.set(key, default_buffer_prototype().buffer.from_bytes(data)))


def read_steps(root: zarr.Group) -> list[StepRecord] | None:
    """The logged steps, oldest first; None for a dataset written before the table."""
    data = _get(root, _key(root))
    if data is None:
        return None
    sidecar = _get(root, _key(root, ".sha256"))
    problem = checksum_problem(parse_record(sidecar) if sidecar is not None else None, data)
    if problem:
        raise DatasetError(f"{TABLES}/{STEPS_TABLE}.parquet: {problem}")
    try:
        rows = pl.read_parquet(io.BytesIO(data)).to_dicts()
    except Exception as exc:  # noqa: BLE001 - any parquet reader failure is one line
        raise DatasetError(
            f"{TABLES}/{STEPS_TABLE}.parquet: unreadable parquet ({exc.__class__.__name__})"
        ) from None
    return [_record(row) for row in rows]


def _record(row: dict) -> StepRecord:
    return StepRecord(**(row | {"params": json.loads(row["params"]), "summary": json.loads(row["summary"])}))


def write_steps(root: zarr.Group, steps: list[StepRecord]) -> None:
    """Replace the log with ``steps``: the sidecar first, as ``write_table`` does."""
    rows = [
        s.model_dump()
        | {
            "params": json.dumps(s.params, default=str),
            "summary": json.dumps(s.summary, default=str),
        }
        for s in steps
    ]
    buffer = io.BytesIO()
    conform(rows, STEPS_SCHEMA).write_parquet(buffer)
    data = buffer.getvalue()
    _set(root, _key(root, ".sha256"), checksum_record(data, _get(root, _key(root))))
    _set(root, _key(root), data)
