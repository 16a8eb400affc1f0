"""Reader for OpenAI VPT contractor recordings (Minecraft): ``.mp4`` + ``.jsonl`` (+ options).

Layout (openai/Video-Pre-Training README, "Data format"): one segment is
``<recorder-version>/<alias>-<session>-<YYYYMMDD>-<HHMMSS>`` plus ``.mp4`` (640x360, 20 fps),
``.jsonl`` (one JSON object per tick), ``-options.json`` and a world ``.zip`` (ignored).
Index files ``{"basedir": ..., "relpaths": [...]}`` list segments.

:func:`discover` finds segments cheaply; :func:`read` parses and validates one into a
:class:`~goalframe.schemas.RawEpisode` with typed arrays (see :func:`read` for names).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from goalframe.media.video import probe_video
from goalframe.schemas.episode import RawEpisode, RawFormatError, VideoRef
from goalframe.sources.vpt_arrays import (
    _build_arrays,
    _Recording,
)
from goalframe.sources.vpt_format import (
    CAMERA,
    FPS,
    OPTIONS_SUFFIX,
    SOURCE_FORMAT,
    EpisodeRef,
    _version_of,
    safe_episode_id,
)
from goalframe.sources.vpt_jsonl import (
    _has_surrogates,
    parse_jsonl,
    raw_name,
    shown_path,
)
from goalframe.sources.vpt_recorder import (
    Window,
    window_from_options,
)

# --------------------------------------------------------------------------- discovery


def _ref_for(base: Path) -> EpisodeRef:
    """``base`` is a segment path without suffix (``.../6.13/alias-session-date-time``)."""
    options = base.parent / (base.name + OPTIONS_SUFFIX)
    return EpisodeRef(
        episode_id=safe_episode_id(base.name),
        jsonl=base.parent / (base.name + ".jsonl"),
        mp4=base.parent / (base.name + ".mp4"),
        options=options if options.is_file() else None,
        version=_version_of(base.parent),
    )


def _finish(bases: Iterable[Path]) -> list[EpisodeRef]:
    refs = [_ref_for(b) for b in sorted(set(bases), key=lambda p: (p.name, str(p)))]
    counts = Counter(r.episode_id for r in refs)
    for ref in refs:  # the same stem in two folders: prefix the folder name
        if counts[ref.episode_id] > 1:
            ref.episode_id = safe_episode_id(f"{ref.jsonl.parent.name}_{ref.jsonl.stem}")
    seen: Counter[str] = Counter()
    for ref in refs:  # still equal (same folder name twice): number them
        seen[ref.episode_id] += 1
        if seen[ref.episode_id] > 1:
            ref.episode_id = f"{ref.episode_id}-{seen[ref.episode_id]}"
    return sorted(refs, key=lambda r: (r.episode_id, str(r.jsonl)))


def _strip_suffix(relpath: str) -> str:
    for suffix in (".mp4", ".jsonl", OPTIONS_SUFFIX, ".zip"):
        if relpath.endswith(suffix):
            return relpath[: -len(suffix)]
    return relpath


def _discover_index(index: Path) -> list[EpisodeRef]:
    try:
        spec = json.loads(index.read_bytes())
    except (OSError, ValueError) as exc:
        raise RawFormatError(
            shown_path(index), f"unreadable index file ({exc.__class__.__name__}: {exc})"
        ) from None
    if not isinstance(spec, dict) or not isinstance(spec.get("relpaths"), list):
        raise RawFormatError(shown_path(index), 'index file needs {"basedir": ..., "relpaths": [...]}')
    basedir = spec.get("basedir")
    root = Path(basedir) if isinstance(basedir, str) and basedir else None
    if root is not None and not root.is_absolute():
        root = index.parent / root
    if root is None or not root.is_dir():  # a URL, or data copied elsewhere: use the index's folder
        root = index.parent
    bases = []
    for rel in spec["relpaths"]:
        if not isinstance(rel, str) or not rel.strip():
            raise RawFormatError(shown_path(index), f"relpaths entry {rel!r} is not a path")
        bases.append(root / _strip_suffix(rel.strip().lstrip("/")))
    return _finish(bases)


def discover(raw: str | Path) -> list[EpisodeRef]:
    """Find VPT segments under ``raw``, sorted by episode id; cheap, decodes nothing.

    ``raw`` may be a directory (searched recursively; ``.jsonl`` and ``.mp4`` paired by
    stem, a stem with only one of them still listed so that :func:`read` names the missing
    file), an index json ``{"basedir", "relpaths"}`` (``basedir`` falls back to the index
    file's folder when it does not exist locally), or one ``.jsonl``/``.mp4`` file.
    """
    raw = Path(raw)
    if raw.is_dir():
        bases = [p.with_suffix("") for p in raw.rglob("*.jsonl") if p.is_file()]
        bases += [p.with_suffix("") for p in raw.rglob("*.mp4") if p.is_file()]
        return _finish(bases)
    if raw.is_file():
        if raw.suffix in (".jsonl", ".mp4"):
            return _finish([raw.with_suffix("")])
        if raw.suffix == ".json":
            return _discover_index(raw)
        raise RawFormatError(shown_path(raw), "not a VPT directory, index .json, .jsonl or .mp4")
    raise RawFormatError(shown_path(raw), "does not exist")


# --------------------------------------------------------------------------- read


def _read_options(ref: EpisodeRef, warnings: list[str]) -> tuple[dict | None, Path | None]:
    path = ref.options
    if path is None:
        candidate = ref.jsonl.parent / (ref.jsonl.stem + OPTIONS_SUFFIX)
        path = candidate if candidate.is_file() else None
    if path is None:
        warnings.append(
            f"{shown_path(ref.jsonl.parent / (ref.jsonl.stem + OPTIONS_SUFFIX))}: options file is missing"
            " (window taken as 1280x720)"
        )
        return None, None
    try:
        options = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        warnings.append(f"{shown_path(path)}: unreadable options file ignored ({exc.__class__.__name__})")
        return None, path
    if not isinstance(options, dict):
        warnings.append(f"{shown_path(path)}: options file is not a JSON object, ignored")
        return None, path
    return options, path


def _window(options: dict | None, options_path: Path | None, ref: EpisodeRef, warnings: list[str]) -> Window:
    """The recording window from the options, with a warning when it is not the usual 1280x720."""
    window, missing = window_from_options(options)
    shown = shown_path(options_path or ref.jsonl)
    if missing is not None:
        if options is not None:  # a missing or unreadable options file has its own warning already
            warnings.append(f"{shown}: {missing}; cursor positions read as in a 1280x720 window")
    elif not window.is_usual:
        warnings.append(
            f"{shown}: window is {window.width}x{window.height}, not 1280x720; cursor positions are scaled"
            " from it"
        )
    return window


def _name_attrs(ref: EpisodeRef, warnings: list[str]) -> dict[str, Any]:
    """Raw file names that are not UTF-8: shown with U+FFFD, the exact bytes kept as escapes."""
    name = ref.jsonl.with_suffix("").name
    if not _has_surrogates(name):
        return {}
    warnings.append(
        f"{shown_path(ref.jsonl)}: file name has bytes that are not UTF-8, shown as U+FFFD; "
        "the exact name is in the episode attrs (raw_name)"
    )
    return {"raw_name": raw_name(ref.jsonl.with_suffix(""))}


def read(ref: EpisodeRef, truncate_camera: bool = False) -> RawEpisode:
    """Parse and validate one VPT segment.

    Raises :class:`RawFormatError` (one line, naming the file) for a missing ``.jsonl`` or
    ``.mp4``, an unreadable video, fps other than 20, a malformed line before the last, or
    a frame count outside ``n_lines <= n_frames <= n_lines + 1`` (``n_lines`` counts a
    dropped truncated last line too). The episode keeps ``T`` = valid lines; extra frames
    are left out through ``VideoRef.n_frames``. ``truncate_camera`` truncates
    ``actions/vpt/camera`` toward zero as VPT's own integer array does (exact parity);
    floats are the default.

    Arrays (first axis T unless said): ``actions/mouse/{x,y,dx,dy,scaled_x,scaled_y,dwheel}``
    float32 (x, y in window pixels of the options' window size; dx, dy on GUI-open frames
    times VPT's recorder-version factor); ``actions/mouse/gui_scaled`` bool;
    ``actions/mouse/{buttons,new_buttons}`` (T, 8) bool; ``actions/keyboard/
    {keys,new_keys}`` (T, V) bool; ``actions/keyboard/chars`` object (str);
    ``states/gui/{open,inventory}`` bool; ``states/hotbar`` int8; ``states/{yaw,pitch,xpos,
    ypos,zpos}`` float64 (NaN if missing); ``states/{tick,milli,server_tick}`` int64 (-1 if
    missing); ``states/paused_before`` bool; ``states/server_tick_duration_ms`` float32 (NaN
    if missing); ``states/inventory/quantity`` (T, I) int32; the sparse ``states/stats/{frame
    (int32), key (int32), value (int64)}`` (one row per change, value 0 where a counter
    vanished); and ``actions/vpt/*`` from :func:`goalframe.sources.vpt_actions.convert_actions`.
    """
    if not ref.jsonl.is_file():
        raise RawFormatError(shown_path(ref.jsonl), "action file (.jsonl) is missing")
    if not ref.mp4.is_file():
        raise RawFormatError(shown_path(ref.mp4), "video file (.mp4) is missing")
    warnings: list[str] = []
    try:
        probe = probe_video(ref.mp4)
    except RawFormatError as exc:  # keep the one line printable when the name is not UTF-8
        raise RawFormatError(shown_path(ref.mp4), shown_path(exc.problem)) from None
    if abs(probe.fps - FPS) > 0.01:
        raise RawFormatError(
            shown_path(ref.mp4), f"video runs at {probe.fps:g} fps, VPT recordings are {FPS} fps"
        )

    try:
        cols, n_lines, info = parse_jsonl(ref.jsonl, warnings)
    except OSError as exc:
        raise RawFormatError(
            shown_path(ref.jsonl), f"unreadable action file ({exc.__class__.__name__}: {exc})"
        ) from None
    if not n_lines <= probe.n_frames <= n_lines + 1:
        raise RawFormatError(
            shown_path(ref.mp4),
            f"video has {probe.n_frames} frames but {shown_path(ref.jsonl.name)} has {n_lines} lines "
            f"(expected {n_lines} or {n_lines + 1} frames)",
        )
    n_frames = len(cols.lines)
    quirks = info["quirks"]
    quirks["extra_video_frames"] = probe.n_frames - n_frames
    if (probe.width, probe.height) != (640, 360):
        quirks["video_size"] = [probe.width, probe.height]

    options, options_path = _read_options(ref, warnings)
    recording = _Recording(_window(options, options_path, ref, warnings), ref.version, truncate_camera)
    arrays, array_attrs, timestamps = _build_arrays(cols, quirks, warnings, ref.jsonl, recording)
    raw_files = [ref.jsonl, ref.mp4] + ([options_path] if options_path is not None else [])
    return RawEpisode(
        episode_id=ref.episode_id,
        source_format=SOURCE_FORMAT,
        raw_path=shown_path(ref.jsonl.with_suffix("")),
        fps=float(FPS),
        n_frames=n_frames,
        videos={CAMERA: VideoRef(path=ref.mp4, n_frames=n_frames, height=probe.height, width=probe.width)},
        timestamps=timestamps,
        arrays=arrays,
        array_attrs=array_attrs,
        attrs={
            "recorder_version": ref.version,
            "options": options,
            "window": recording.window.to_attrs(),
            "truncate_camera": truncate_camera,
            "missing_fields": info["missing_fields"],
            "jsonl": shown_path(ref.jsonl),
            **_name_attrs(ref, warnings),
            "quirks": quirks,
        },
        raw_files=raw_files,
        warnings=warnings,
    )
