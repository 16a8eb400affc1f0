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


# ROCKET's interaction types and ids (reference/raw-formats.md); -1 is "none".
INTERACTION_IDS: dict[str, int] = {"hunt": 0, "mine": 2, "use": 3, "craft": 4, "switch": 5, "approach": 6, "none": -1}

# One row per interaction event. VPT events come from increases of the cumulative stats
# counters; AgiBot events are task segments and gripper grasp/release transitions.
EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String,  # "<episode_id>:<index>", stable for a given extraction
    "episode_id": pl.String,
    "source_format": pl.String,
    "frame": pl.Int64,  # the frame the event happens on (stats line that shows it; grasp onset)
    "end_frame": pl.Int64,  # segments: exclusive end; otherwise frame + 1
    "kind": pl.String,  # mine_block | use_item | craft_item | kill_entity | pickup | drop | break_item | segment | grasp | release
    "name": pl.String,  # the full stat name, the segment skill, or "<arm>.<kind>"
    "object": pl.String,  # minecraft object, grasped object if known, or null
    "interaction": pl.String,  # hunt | mine | use | craft | switch | approach | none
    "interaction_id": pl.Int8,
    "delta": pl.Int64,  # counter increase (merged bursts add up); 1 for AgiBot events
    "merged": pl.Int32,  # raw events merged into this one by --min-gap
    "gui_open": pl.Boolean,
    "arm": pl.String,  # AgiBot: left | right; VPT: null
    "text": pl.String,  # AgiBot segment action_text
    "camera": pl.String,  # camera the prompt point is in
    "prompt_row": pl.Float64,  # pixels of the stored frame; null when there is none
    "prompt_col": pl.Float64,
    "prompt_visible": pl.Boolean,  # the prompt point lies inside the image, in front of the camera
    "prompt_note": pl.String,  # why there is no prompt point, when there is none
}


# One row per mask track (a target object's masks over an event's window, one camera, one
# annotator); rebuilt from the masks/ groups after every masks or review step.
TRACKS_SCHEMA: dict[str, pl.DataType] = {
    "track_id": pl.String,
    "event_id": pl.String,
    "episode_id": pl.String,
    "camera": pl.String,
    "start_frame": pl.Int64,  # first frame of the track (inclusive)
    "stop_frame": pl.Int64,  # exclusive; the event frame is stop_frame - 1
    "event_frame": pl.Int64,
    "interaction": pl.String,
    "object": pl.String,
    "annotator": pl.String,
    "annotator_version": pl.String,
    "n_frames": pl.Int32,
    "n_visible": pl.Int32,
    "mean_score": pl.Float32,
    "reviewed": pl.Boolean,  # at least one reviewed revision exists
    "n_reviewed_frames": pl.Int32,
}
