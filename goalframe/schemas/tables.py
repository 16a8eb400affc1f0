"""Polars schemas of the dataset's tables (``tables/*.parquet``): every table's columns, here."""

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
    # From the reader's extras, so `goalframe info` needs no episode: manifests written
    # before these columns lack them (readers fall back to the episode attrs).
    "effector": pl.String,  # AgiBot: gripper | dexhand; null elsewhere
    "actions_copying_state": pl.List(pl.String),  # action arrays the reader found equal to the state
}

# One row per run of a pipeline step, oldest first (schemas/layout.py StepRecord); params
# and summary are JSON objects. Datasets written before this table keep the log in the
# root attrs ("steps").
STEPS_SCHEMA: dict[str, pl.DataType] = {
    "step": pl.String,  # ingest-vpt | events | masks | review push | pairs | msth ...
    "goalframe_version": pl.String,
    "started": pl.String,  # UTC, ISO 8601
    "finished": pl.String,
    "params": pl.String,  # JSON
    "summary": pl.String,  # JSON
}

# One row per Label Studio task made by `goalframe review push` (one frame of one track).
REVIEW_TASKS_SCHEMA: dict[str, pl.DataType] = {
    "server": pl.String,  # base URL of the Label Studio server
    "project_id": pl.Int64,
    "project": pl.String,  # project title
    "task_id": pl.Int64,
    "episode_id": pl.String,
    "track_id": pl.String,
    "camera": pl.String,
    "frame": pl.Int64,
    "image": pl.String,  # the task's image URL on the server
    "served": pl.String,  # local-files | upload
    "pushed": pl.String,  # UTC time of the push
}


def empty_table(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def conform(rows: list[dict], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Build a table from row dicts with exactly ``schema``'s columns and types."""
    if not rows:
        return empty_table(schema)
    return pl.DataFrame(rows, schema=schema, orient="row")


# ROCKET's interaction types and ids (reference/raw-formats.md); -1 is "none".
INTERACTION_IDS: dict[str, int] = {
    "hunt": 0,
    "mine": 2,
    "use": 3,
    "craft": 4,
    "switch": 5,
    "approach": 6,
    "none": -1,
}

# One row per interaction event. VPT events come from increases of the cumulative stats
# counters; AgiBot events are task segments and gripper grasp/release transitions.
EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String,  # "<episode_id>:<index>", stable for a given extraction
    "episode_id": pl.String,
    "source_format": pl.String,
    "frame": pl.Int64,  # the frame the event happens on (stats line that shows it; grasp onset)
    "end_frame": pl.Int64,  # segments: exclusive end; otherwise frame + 1
    "kind": (
        pl.String
    ),  # mine_block use_item craft_item kill_entity pickup drop break_item segment grasp release
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


# One row per (goal pair, frame): a mask track's interaction window [window_start,
# window_stop) paired with ONE goal view (a frame whose mask is non-empty), sampled by
# ``goalframe pairs`` (ROCKET-2). Labels are normalised by the mask's height and width and
# null where the object is not visible.
PAIRS_SCHEMA: dict[str, pl.DataType] = {
    "pair_id": pl.String,  # "<episode_id>/<track_id>/<goal_source>"
    "goal_source": pl.String,  # same_episode | cross_episode | cross_camera
    "episode_id": pl.String,
    "track_id": pl.String,
    "event_id": pl.String,
    "camera": pl.String,
    "frame": pl.Int64,
    "window_start": pl.Int64,  # the track's first frame (inclusive)
    "window_stop": pl.Int64,  # exclusive
    "interaction": pl.String,
    "interaction_id": pl.Int8,  # ROCKET ids (INTERACTION_IDS)
    "object": pl.String,
    "visible": pl.Boolean,  # mask non-empty (and trusted by the annotator)
    "centroid_row": pl.Float32,  # row / height
    "centroid_col": pl.Float32,  # col / width
    "bbox_x0": pl.Float32,  # x0 / width, x1 exclusive
    "bbox_y0": pl.Float32,
    "bbox_x1": pl.Float32,
    "bbox_y1": pl.Float32,
    "goal_episode_id": pl.String,
    "goal_camera": pl.String,
    "goal_track_id": pl.String,
    "goal_frame": pl.Int64,  # its mask in goal_track_id is non-empty
}

# One row per episode frame: Multi-Scale Temporal Hashing indices (Act2Goal), written by
# ``goalframe msth``. Indices past the clip end (segment or episode) are clamped to its last
# frame and flagged in the matching ``*_pad`` list (LeRobot's ``_is_pad``). Action row i is
# the command issued at frame i (it moves toward frame i + 1), so the action that produces
# frame t + k is row t + k - 1.
MSTH_SCHEMA: dict[str, pl.DataType] = {
    "episode_id": pl.String,
    "frame": pl.Int64,  # t
    "segment": pl.Int32,  # index of the segment holding t, -1 when none
    "clip_end": pl.Int64,  # exclusive end indices are clipped to (segment end or episode length)
    "proximal_frames": pl.List(pl.Int64),  # t + r, t + 2r, ..., t + P   (P / r entries)
    "proximal_pad": pl.List(pl.Boolean),
    "distal_frames": pl.List(pl.Int64),  # t + d_m, m = 1..M (d_M = K)
    "distal_pad": pl.List(pl.Boolean),
    "action_start": pl.Int64,  # proximal action rows [action_start, action_stop): t .. t + P - 1, clipped
    "action_stop": pl.Int64,  # rows from action_stop to t + P - 1 are padding
    "distal_action_rows": pl.List(pl.Int64),  # t + d_m - 1
    "distal_action_pad": pl.List(pl.Boolean),
    "goal_segment_end": pl.Int64,  # last frame of t's segment (of the episode when none)
    "goal_episode_end": pl.Int64,  # last frame of the episode
    "goal_hindsight": pl.Int64,  # the frame actually reached at t + K (clipped)
    "hindsight_pad": pl.Boolean,  # t + K lies past the clip end
}
