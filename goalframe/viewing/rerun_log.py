"""A Rerun recording (``.rrd``, rerun-sdk 0.41) of dataset episodes: what ``goalframe view`` writes.

Entities, per episode ``E`` (its id as one path part) and camera ``C``:

    E/C/image      every frame, as an encoded JPEG (raw RGB with ``jpeg_quality=None``)
    E/C/masks      a segmentation image on the frames a mask track covers: class k = the k-th track
                   of the camera, named "<object> (<track id>)" by the annotation context at E/C
    E/C/prompt     the events' prompt points on their frames
    E/C            AgiBot: the camera pose (camera to robot base) per frame and its pinhole
    E/events       one text log entry per event
    E/actions/..., E/states/...   one scalar series per column, named from the feature schema
    E/mask_scores/<track>        each track's score per frame
    E/flange       AgiBot: both arms' flange positions in the robot base frame

Timelines: ``frame`` (episode frame index) and ``time`` (frame / fps, seconds). The file is
written beside its final path and renamed into place once complete.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from goalframe.schemas.layout import DatasetError
from goalframe.viewing.selection import EpisodeView
from goalframe.viewing.series import episode_series

JPEG_QUALITY = 85
READ_BLOCK = 64  # frames read and logged per camera at a time
RERUN_VERSION = "0.41.0"


class RerunMissing(RuntimeError):
    """rerun-sdk cannot be imported; ``str()`` is one line saying how to get it."""


def import_rerun():
    try:
        import rerun
    except ImportError:
        raise RerunMissing(
            f"rerun-sdk is not installed: pip install 'goalframe[view]' (rerun-sdk=={RERUN_VERSION}),"
            " or write an overlay video instead with --mp4 OUT.mp4"
        ) from None
    return rerun


def entity(rr, episode: str, *parts: str) -> str:
    return "/".join([rr.escape_entity_path_part(episode), *parts])


def _time_columns(rr, frames: np.ndarray, fps: float) -> list:
    return [rr.TimeColumn("frame", sequence=frames), rr.TimeColumn("time", duration=frames / fps)]


def _set_time(rec, frame: int, fps: float) -> None:
    rec.set_time("frame", sequence=frame)
    rec.set_time("time", duration=frame / fps)


def _image(rr, image: np.ndarray, jpeg_quality: int | None):
    """An encoded JPEG of an RGB frame, or the raw image (``jpeg_quality`` None, or not RGB)."""
    if jpeg_quality is None or image.ndim != 3 or image.shape[2] != 3:
        return rr.Image(image)
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
    if not ok:
        raise DatasetError(f"frame of shape {image.shape} could not be JPEG-encoded")
    return rr.EncodedImage(contents=data.tobytes(), media_type="image/jpeg")


def _log_images(rec, rr, ds, view: EpisodeView, camera: str, advance, jpeg_quality: int | None) -> int:
    base = entity(rr, view.episode, camera)
    for start in range(0, view.n_frames, READ_BLOCK):
        stop = min(view.n_frames, start + READ_BLOCK)
        frames = ds.read_frames(view.episode, start, stop, camera)
        for frame in range(start, stop):
            _set_time(rec, frame, view.fps)
            rec.log(f"{base}/image", _image(rr, frames[frame - start], jpeg_quality))
        advance(stop - start)
    return view.n_frames


def _log_masks(rec, rr, view: EpisodeView, camera: str) -> int:
    """The camera's annotation context and a segmentation image per covered frame, cleared on
    the frame after each run of covered frames so no mask stays on screen past its track."""
    tracks = view.camera_tracks(camera)
    if not tracks:
        return 0
    base = entity(rr, view.episode, camera)
    infos = [rr.AnnotationInfo(id=t.label, label=t.name, color=t.color) for t in tracks]
    rec.log(base, rr.AnnotationContext([rr.AnnotationInfo(id=0, label="background"), *infos]), static=True)
    covered = sorted({frame for track in tracks for frame in track.row_of})
    for frame in covered:
        _set_time(rec, frame, view.fps)
        rec.log(f"{base}/masks", rr.SegmentationImage(view.label_image(camera, frame)))
    for frame in sorted({frame + 1 for frame in covered} - set(covered)):
        _set_time(rec, frame, view.fps)
        rec.log(f"{base}/masks", rr.Clear(recursive=False))
    return len(covered)


def _log_prompts(rec, rr, view: EpisodeView, camera: str) -> int:
    """The events' prompt points on their frames (cleared on the next frame)."""
    prompts = _prompts(view, camera)
    path = entity(rr, view.episode, camera, "prompt")
    for frame, points in prompts.items():
        positions, names = zip(*points)
        _set_time(rec, frame, view.fps)
        rec.log(path, rr.Points2D(positions, labels=names, radii=6, colors=(255, 255, 255)))
    for frame in sorted({frame + 1 for frame in prompts} - set(prompts)):
        _set_time(rec, frame, view.fps)
        rec.log(path, rr.Clear(recursive=False))
    return sum(len(points) for points in prompts.values())


def _prompts(view: EpisodeView, camera: str) -> dict[int, list[tuple[tuple[float, float], str]]]:
    """frame -> [((x, y), event name)] of the events prompting on this camera."""
    found: dict[int, list] = {}
    for row in view.events.iter_rows(named=True):
        if row["camera"] not in (None, camera) or not row["prompt_visible"] or row["prompt_row"] is None:
            continue
        found.setdefault(int(row["frame"]), []).append(((row["prompt_col"], row["prompt_row"]), row["name"]))
    return found


def event_text(row: dict) -> str:
    """One line per event: what happened, on which object, and the segment text where there is one."""
    what = " ".join(str(part) for part in (row["kind"], row["name"]) if part)
    details = [f"object {row['object']}" if row.get("object") else None, row.get("interaction")]
    if row.get("end_frame") is not None and row["end_frame"] > row["frame"] + 1:
        details.append(f"until frame {row['end_frame']}")
    text = f"{what} ({', '.join(d for d in details if d)})"
    return f"{text}: {row['text']}" if row.get("text") else text


def _log_events(rec, rr, view: EpisodeView) -> int:
    path = entity(rr, view.episode, "events")
    for row in view.events.iter_rows(named=True):
        _set_time(rec, int(row["frame"]), view.fps)
        rec.log(path, rr.TextLog(event_text(row), level=rr.TextLogLevel.INFO))
    return view.events.height


def _log_series(rec, rr, ds, view: EpisodeView) -> int:
    """Actions and states, one entity per array with a named series per column; returns the rows."""
    frames = np.arange(view.n_frames)
    rows = 0
    for series in episode_series(ds, view.episode):
        path = entity(rr, view.episode, *series.path.split("/"))
        rec.log(path, rr.SeriesLines(names=series.names), static=True)
        rec.send_columns(
            path,
            indexes=_time_columns(rr, frames, view.fps),
            columns=rr.Scalars.columns(scalars=series.values),
        )
        rows += len(series.values)
    for track in view.tracks:
        path = entity(rr, view.episode, "mask_scores", rr.escape_entity_path_part(track.track_id))
        rec.log(path, rr.SeriesLines(names=[track.name], colors=[track.color]), static=True)
        indexes = _time_columns(rr, track.frame_index, view.fps)
        rec.send_columns(
            path, indexes=indexes, columns=rr.Scalars.columns(scalars=track.score.astype(np.float64))
        )
    return rows


def _log_poses(rec, rr, ds, view: EpisodeView) -> list[str]:
    """AgiBot camera poses as transforms with their pinholes, and the flange positions; returns
    the cameras that have a pose."""
    names = set(ds.array_names(view.episode))
    frames = np.arange(view.n_frames)
    cameras_source = ds.meta(view.episode).source.get("cameras") or {}
    posed = []
    for camera in view.cameras:
        rotation, translation = f"cameras/{camera}/rotation", f"cameras/{camera}/translation"
        if rotation not in names or translation not in names:
            continue
        path = entity(rr, view.episode, camera)
        columns = rr.Transform3D.columns(
            translation=ds.array(view.episode, translation).reshape(-1, 3),
            mat3x3=ds.array(view.episode, rotation).reshape(-1, 3, 3),
        )
        rec.send_columns(path, indexes=_time_columns(rr, frames, view.fps), columns=columns)
        intrinsic = (cameras_source.get(camera) or {}).get("intrinsic") or {}
        if {"fx", "fy", "ppx", "ppy"} <= set(intrinsic):
            pinhole = rr.Pinhole(
                focal_length=[intrinsic["fx"], intrinsic["fy"]],
                principal_point=[intrinsic["ppx"], intrinsic["ppy"]],
                width=view.width,
                height=view.height,
                camera_xyz=rr.ViewCoordinates.RDF,  # the stored poses' camera axes: right, down, forward
                image_plane_distance=0.1,
            )
            rec.log(path, pinhole, static=True)
        posed.append(camera)
    if posed:
        rec.log(entity(rr, view.episode), rr.ViewCoordinates.FLU, static=True)  # robot base: x forward, z up
    if "states/end/position" in names:
        flange = ds.array(view.episode, "states/end/position").reshape(view.n_frames, -1, 3)
        path = entity(rr, view.episode, "flange")
        columns = rr.Points3D.columns(positions=flange.reshape(-1, 3)).partition(
            [flange.shape[1]] * view.n_frames
        )
        rec.send_columns(path, indexes=_time_columns(rr, frames, view.fps), columns=columns)
    return posed


def _blueprint(rr, views: list[EpisodeView], posed: dict[str, list[str]]):
    import rerun.blueprint as rrb

    tabs = []
    for view in views:
        images = [
            rrb.Spatial2DView(origin=entity(rr, view.episode, camera), name=camera) for camera in view.cameras
        ]
        side = [
            rrb.TimeSeriesView(origin=entity(rr, view.episode, "actions"), name="actions"),
            rrb.TimeSeriesView(origin=entity(rr, view.episode, "states"), name="states"),
            rrb.TextLogView(origin=entity(rr, view.episode, "events"), name="events"),
        ]
        if view.tracks:
            side.append(
                rrb.TimeSeriesView(origin=entity(rr, view.episode, "mask_scores"), name="mask scores")
            )
        if posed.get(view.episode):
            images.append(rrb.Spatial3DView(origin=entity(rr, view.episode), name="robot base"))
        tabs.append(
            rrb.Horizontal(rrb.Grid(*images), rrb.Vertical(*side), name=view.episode, column_shares=[3, 2])
        )
    return rrb.Blueprint(rrb.Tabs(*tabs) if len(tabs) > 1 else tabs[0], collapse_panels=False)


def write_recording(
    ds,
    views: list[EpisodeView],
    out: str | Path,
    progress: Callable[[int], Callable[[int], None]] | None = None,
    jpeg_quality: int | None = JPEG_QUALITY,
) -> dict:
    """Write ``views`` to the Rerun recording ``out``; ``progress(total frames)`` returns the
    callback advanced by frames logged; ``jpeg_quality=None`` logs raw RGB frames (lossless,
    several times larger). Returns what was written."""
    rr = import_rerun()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    started = time.perf_counter()
    advance = progress(sum(v.n_frames * len(v.cameras) for v in views)) if progress else lambda n: None
    rec = rr.RecordingStream("goalframe", send_properties=False)
    summary: dict = {"out": str(out), "episodes": [], "cameras": {}, "frames": 0, "mask_frames": 0}
    summary.update(events=0, tracks=0, prompts=0, scalar_rows=0, posed_cameras={})
    try:
        posed: dict[str, list[str]] = {}
        rec.save(partial)
        for view in views:
            rec.log(entity(rr, view.episode), rr.TextDocument(_episode_note(ds, view)), static=True)
            for camera in view.cameras:
                summary["frames"] += _log_images(rec, rr, ds, view, camera, advance, jpeg_quality)
                summary["mask_frames"] += _log_masks(rec, rr, view, camera)
                summary["prompts"] += _log_prompts(rec, rr, view, camera)
            summary["events"] += _log_events(rec, rr, view)
            summary["scalar_rows"] += _log_series(rec, rr, ds, view)
            posed[view.episode] = _log_poses(rec, rr, ds, view)
            summary["episodes"].append(view.episode)
            summary["cameras"][view.episode] = view.cameras
            summary["tracks"] += len(view.tracks)
        summary["posed_cameras"] = posed
        rec.send_blueprint(_blueprint(rr, views, posed), make_active=True, make_default=True)
        rec.flush()
        rec.disconnect()
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    summary["bytes"] = out.stat().st_size
    summary["seconds"] = round(time.perf_counter() - started, 3)
    return summary


def _episode_note(ds, view: EpisodeView) -> str:
    meta = ds.meta(view.episode)
    tracks = "\n".join(f"- class {t.label} on {t.camera}: {t.name}" for t in view.tracks) or "- none"
    return (
        f"{ds.path}: episode {view.episode} ({meta.source_format}, {view.n_frames} frames at"
        f" {view.fps:g} fps, cameras {', '.join(view.cameras)}; {view.events.height} events)"
        f"\n\nmask tracks:\n{tracks}\n"
    )


def viewer_executable() -> str | None:
    """The ``rerun`` viewer command rerun-sdk installs (on PATH or beside this Python)."""
    beside = Path(sys.executable).with_name("rerun")
    return shutil.which("rerun") or (str(beside) if beside.exists() else None)


def open_viewer(path: str | Path) -> tuple[bool, str]:
    """Start the Rerun viewer on ``path`` in the background; (opened, a line saying what happened)."""
    executable = viewer_executable()
    if executable is None:
        return False, (
            f"no Rerun viewer here (the `rerun` command of rerun-sdk=={RERUN_VERSION}): install it with"
            f" pip install 'goalframe[view]' and run `rerun {path}`"
        )
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False, (
            f"no display to open the viewer on (DISPLAY is not set): run `rerun {path}` where there is"
            f" one, or `rerun {path} --web-viewer` to watch it in a browser"
        )
    process = subprocess.Popen(
        [executable, str(path)], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return True, f"opened {path} in the Rerun viewer (pid {process.pid})"
