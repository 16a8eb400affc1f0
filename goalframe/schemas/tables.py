"""Polars schemas of the dataset's tables (``tables/*.parquet``)."""

from __future__ import annotations

import polars as pl

# One row per complete episode; rebuilt from episode attributes after every ingest.
MANIFEST_SCHEMA: dict[str, pl.DataType] = {
    "episode_id": pl.String,
    "source_format": pl.String,
    "raw_path": pl.String,
    "fps": pl.Float64,
    "n_frames": pl.Int64,
    "cameras": pl.List(pl.String),
    "height": pl.Int32,
    "width": pl.Int32,
    "frame_codec": pl.String,
    "checksum": pl.String,
    "ingested": pl.String,
}


def empty_table(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def conform(rows: list[dict], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Build a table from row dicts with exactly ``schema``'s columns and types."""
    if not rows:
        return empty_table(schema)
    return pl.DataFrame(rows, schema=schema, orient="row")
