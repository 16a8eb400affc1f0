"""An overlay video (h264 mp4, PyAV) of one episode, for people without a Rerun viewer.

Every frame of the episode, the cameras side by side, with the visible masks of its tracks
(filled and outlined in a colour that contrasts with the object and its surroundings) and the
prompt point of each event around its frame; a band above the frames gives the camera names,
the frame number and time and the events of the last BANNER_SECONDS, one below the task
segments under way (AgiBot). The frames themselves sit unscaled at rows TOP_BAND and below.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from goalframe.media.video import write_mp4
from goalframe.schemas.layout import DatasetError
from goalframe.viewing.overlay_draw import (
    LINE_HEIGHT,
    contrasting_color,
    draw_lines,
    draw_mask,
    draw_prompt,
    draw_text,
    surroundings,
    text_width,
)
from goalframe.viewing.selection import EpisodeView, TrackView

READ_BLOCK = 64
BANNER_SECONDS = 1.5  # how long a point event's banner stays up
PROMPT_SECONDS = 0.25  # the prompt point is drawn this long on each side of its event frame
EVENT_LINES = 3  # event lines in the top band (the newest; "+N more" beyond)
TOP_BAND, BOTTOM_BAND = (1 + EVENT_LINES) * LINE_HEIGHT + 4, LINE_HEIGHT + 4  # pixel rows
PRESET = "superfast"  # x264: a preview, so speed over size (veryfast is 1.5x slower, 3x smaller)
EVENT_COLOR, SEGMENT_COLOR, CLOCK_COLOR = (255, 230, 0), (160, 255, 160), (255, 255, 255)


def _is_segment(row: dict) -> bool:
    return row["end_frame"] is not None and row["end_frame"] > row["frame"] + 1


def _event_line(row: dict) -> str:
    what = f"{row['kind']} {row['object']}" if row["object"] else row["kind"]
    return f"frame {row['frame']}: {what}" + (f" ({row['name']})" if row["name"] else "")


def _has_prompt(row: dict, camera: str) -> bool:
    return row["camera"] in (None, camera) and bool(row["prompt_visible"]) and row["prompt_row"] is not None


class Overlay:
    """Draws one episode's overlays frame by frame (each track's colour picked on its first
    visible frame, against that frame's pixels)."""

    def __init__(self, view: EpisodeView):
        self.view = view
        self.events = list(view.events.iter_rows(named=True))
        self.colors: dict[str, tuple[int, int, int]] = {}
        self.banner_frames = max(1, int(round(BANNER_SECONDS * view.fps)))
        self.prompt_frames = int(round(PROMPT_SECONDS * view.fps))
        self.masked_frames = 0

    def _color(self, track: TrackView, image: np.ndarray, mask: np.ndarray) -> tuple[int, int, int]:
        if track.track_id not in self.colors:
            self.colors[track.track_id] = contrasting_color(image[mask], image[surroundings(mask)])
        return self.colors[track.track_id]

    def draw_camera(self, image: np.ndarray, camera: str, frame: int) -> bool:
        """Masks and prompt points of ``camera`` on ``image`` (in place); True if a mask was drawn."""
        drawn = False
        for track in self.view.camera_tracks(camera):
            row = track.row_of.get(frame)
            if row is None or not track.visible[row]:
                continue
            mask = track.mask(row)
            if mask.any():
                draw_mask(image, mask, self._color(track, image, mask))
                drawn = True
        for row in self.events:
            if abs(frame - row["frame"]) <= self.prompt_frames and _has_prompt(row, camera):
                draw_prompt(image, row["prompt_col"], row["prompt_row"])
        return drawn

    def top_lines(self, frame: int) -> list[tuple[str, tuple[int, int, int]]]:
        """The events of the last BANNER_SECONDS, newest last, each text once (an AgiBot event
        has a row per camera)."""
        recent = [
            r for r in self.events if not _is_segment(r) and 0 <= frame - r["frame"] < self.banner_frames
        ]
        texts = list(dict.fromkeys(_event_line(r) for r in recent))
        if len(texts) > EVENT_LINES:
            texts = [f"+{len(texts) - EVENT_LINES + 1} earlier events", *texts[-(EVENT_LINES - 1) :]]
        return [(text, EVENT_COLOR) for text in texts]

    def bottom_lines(self, frame: int) -> list[tuple[str, tuple[int, int, int]]]:
        segments = [r for r in self.events if _is_segment(r) and r["frame"] <= frame < r["end_frame"]]
        texts = dict.fromkeys(f"{r['name']}: {r['text'] or r['kind']}" for r in segments)
        return [("  |  ".join(texts), SEGMENT_COLOR)] if texts else []

    def compose(self, tiles: list[np.ndarray], frame: int) -> np.ndarray:
        """The cameras side by side between the top band (camera names, clock, events) and the
        bottom one (the task segments under way)."""
        height, width = tiles[0].shape[:2]
        canvas = np.zeros((TOP_BAND + height + BOTTOM_BAND, width * len(tiles), 3), np.uint8)
        canvas[TOP_BAND : TOP_BAND + height] = np.concatenate(tiles, axis=1)
        top = canvas[:TOP_BAND]
        for index, camera in enumerate(self.view.cameras):
            draw_text(top, camera, index * width + 8, LINE_HEIGHT - 4)
        clock = f"frame {frame}/{self.view.n_frames - 1}  {frame / self.view.fps:.2f} s"
        draw_text(top, clock, canvas.shape[1] - 8 - text_width(clock), LINE_HEIGHT - 4, CLOCK_COLOR)
        draw_lines(top[LINE_HEIGHT:], self.top_lines(frame))
        draw_lines(canvas[TOP_BAND + height :], self.bottom_lines(frame))
        return canvas


def _even(image: np.ndarray) -> np.ndarray:
    """Pad to even height and width (h264's 4:2:0 needs them)."""
    pad_rows, pad_cols = image.shape[0] % 2, image.shape[1] % 2
    return np.pad(image, ((0, pad_rows), (0, pad_cols), (0, 0))) if pad_rows or pad_cols else image


def overlay_frames(
    ds, view: EpisodeView, overlay: Overlay, advance: Callable[[int], None]
) -> Iterator[np.ndarray]:
    for start in range(0, view.n_frames, READ_BLOCK):
        stop = min(view.n_frames, start + READ_BLOCK)
        blocks = {camera: ds.read_frames(view.episode, start, stop, camera) for camera in view.cameras}
        for frame in range(start, stop):
            tiles, drawn = [], False
            for camera in view.cameras:
                tile = np.array(blocks[camera][frame - start])
                drawn |= overlay.draw_camera(tile, camera, frame)
                tiles.append(tile)
            if len({tile.shape for tile in tiles}) > 1:
                raise DatasetError(
                    f"{ds.path}: episode {view.episode!r} cameras differ in frame size: pass --camera"
                )
            overlay.masked_frames += drawn
            yield _even(overlay.compose(tiles, frame))
        advance(stop - start)


def write_overlay_video(
    ds, view: EpisodeView, out: str | Path, progress: Callable[[int], Callable[[int], None]] | None = None
) -> dict:
    """Write the overlay video of ``view`` to ``out`` (written beside it, renamed when complete)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial.mp4")
    started = time.perf_counter()
    advance = progress(view.n_frames) if progress else lambda n: None
    overlay = Overlay(view)
    try:
        frames = overlay_frames(ds, view, overlay, advance)
        written = write_mp4(partial, frames, fps=view.fps, crf=20, preset=PRESET)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return {
        "out": str(out),
        "episode": view.episode,
        "cameras": view.cameras,
        "frames": written,
        "masked_frames": overlay.masked_frames,
        "tracks": len(view.tracks),
        "events": view.events.height,
        "bytes": out.stat().st_size,
        "seconds": round(time.perf_counter() - started, 3),
    }
