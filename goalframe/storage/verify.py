"""``goalframe verify``: decode every chunk, check checksums and table/array consistency.

What is checked, per complete episode (one task each, on the same Dask schedulers as the
builds):
- every array's metadata opens and every array the episode lists is there;
- every chunk (every shard, and every frame inside it) decodes; each chunk ends with a
  CRC32C, so a flipped byte or a cut file is a decode error, not silent garbage;
- no chunk file is missing (the writer stores every chunk, ``all_chunks_stored``), no shard
  is empty and no shard index has holes (zarr would read those as zeros);
- ``n_frames`` agrees with every frame array and every time-major array;
- the episode's checksum: the sha256 of its raw files, when they are still where they were
  ingested from (else "raw files absent").

Across the dataset: the manifest has one row per complete episode with the same lengths
and checksums; tables that name episodes and frames (events, tracks, pairs, msth) refer
to complete episodes and frames inside them; mask arrays decode. Episodes without
``complete`` are listed as notes (invisible to readers; the next ingest replaces them).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from itertools import product
from math import ceil
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import zarr

from goalframe.schemas.episode import EpisodeMeta
from goalframe.storage.layout import EPISODES, FRAMES, MASKS, episode_path, is_orphan_write
from goalframe.storage.parallel import run_tasks
from goalframe.storage.review_images import REVIEW_IMAGES, image_problems, unrecorded_images
from goalframe.storage.shards import MISSING, ShardIndexError, index_bytes, parse_shard_index
from goalframe.storage.store import has_checksum, is_url, open_root, store_path
from goalframe.storage.verify_report import (
    CHECKSUM_MISMATCH,
    CHECKSUM_OK,
    NOT_CHECKED,
    NOT_RECORDED,
    RAW_ABSENT,
    Damage,
    EpisodeCheck,
    VerifyReport,
    one_line,
)
from goalframe.storage.verify_tables import check_tables
from goalframe.storage.writer import file_checksum

# ---- files under the dataset --------------------------------------------------------------


def _fs(dataset: str, storage_options: dict[str, Any] | None) -> tuple[fsspec.AbstractFileSystem, str]:
    fs, root = fsspec.core.url_to_fs(store_path(dataset), **(storage_options or {}))
    return fs, root.rstrip("/")


def _files(fs: fsspec.AbstractFileSystem, root: str, prefix: str) -> dict[str, int]:
    """``{key relative to the dataset root: size}`` of every file under ``prefix``."""
    base = f"{root}/{prefix}"
    try:
        found = fs.find(base, detail=True)
    except FileNotFoundError:
        return {}
    cut = len(root) + 1
    return {
        path[cut:]: int(info.get("size") or 0)
        for path, info in found.items()
        if info.get("type", "file") == "file"
    }


# ---- one array ----------------------------------------------------------------------------


def _units(array: zarr.Array) -> tuple[tuple[int, ...], list[tuple[int, ...]]]:
    """The storage unit (shard or chunk) shape and the coordinates of every unit."""
    unit = array.shards or array.chunks
    if array.ndim == 0:
        return (), [()]
    if any(n == 0 for n in array.shape):
        return tuple(unit), []
    grid = [ceil(n / u) for n, u in zip(array.shape, unit)]
    return tuple(unit), list(product(*(range(g) for g in grid)))


def _region(coords: tuple[int, ...], unit: tuple[int, ...], shape: tuple[int, ...]) -> tuple[slice, ...]:
    return tuple(slice(c * u, min((c + 1) * u, n)) for c, u, n in zip(coords, unit, shape))


def _span(region: tuple[slice, ...]) -> str:
    if not region:
        return "the scalar"
    first = region[0]
    return f"rows {first.start}-{first.stop - 1}"


def _shard_index_holes(fs, path: str, size: int, array: zarr.Array, region: tuple[slice, ...]) -> str | None:
    """Read a shard's index (end of the file) and say what is wrong with it, if anything."""
    codec = array.metadata.codecs[0]
    if (
        getattr(codec, "index_location", None) is None
        or str(getattr(codec.index_location, "value", codec.index_location)) != "end"
    ):
        return None
    inner = [ceil(s / c) for s, c in zip(array.shards, array.chunks)]
    n_chunks = int(np.prod(inner))
    has_crc = any(type(c).__name__ == "Crc32cCodec" for c in codec.index_codecs)
    length = index_bytes(n_chunks, has_crc)
    if size < length:
        return f"shard file is cut ({size} bytes, its index alone is {length})"
    try:
        entries = parse_shard_index(fs.cat_file(path, start=size - length, end=size), n_chunks, has_crc)
    except ShardIndexError:
        return "shard index checksum does not match (the file is damaged)"
    entries = entries.reshape(*inner, 2)
    # Only the chunks inside the array: the last shard of an episode is partly beyond its end.
    inside = entries[
        tuple(slice(0, ceil((r.stop - r.start) / c)) for r, c in zip(region, array.chunks))
    ].reshape(-1, 2)
    missing = int(np.sum(inside[:, 0] == MISSING))
    if missing:
        return f"{missing} of {len(inside)} chunks missing from the shard"
    stored = inside[inside[:, 0] != MISSING]
    if len(stored) and int((stored[:, 0] + stored[:, 1]).max()) > size - length:
        return "shard index points past the end of the data (the file is cut)"
    return None


def _bad_rows(array: zarr.Array, region: tuple[slice, ...]) -> list[int]:
    """Rows of ``region`` whose chunk (one frame, or k frames of a video chunk) fails to decode."""
    bad = []
    rest = region[1:]
    step = array.chunks[0]
    for row in range(region[0].start, region[0].stop, step):
        stop = min(row + step, region[0].stop)
        try:
            array[(slice(row, stop), *rest)]
        except Exception:  # noqa: BLE001 - any decode failure is the finding
            bad.extend(range(row, stop))
    return bad


def _ranges(rows: list[int]) -> str:
    out, start, prev = [], None, None
    for row in rows:
        if start is None:
            start = prev = row
        elif row == prev + 1:
            prev = row
        else:
            out.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = row
    if start is not None:
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ", ".join(out)


def check_array(
    array: zarr.Array,
    key_prefix: str,
    files: dict[str, int],
    fs,
    root: str,
    all_stored: bool,
    damage: Callable[..., None],
) -> int:
    """Decode every storage unit of ``array``; returns the number of units checked."""
    unit, units = _units(array)
    is_frames = array.shards is not None  # only frame arrays are sharded
    label = "frames" if is_frames else "rows"
    checked = 0
    for coords in units:
        region = _region(coords, unit, array.shape)
        where = f"{label} {region[0].start}-{region[0].stop - 1}" if region else "the scalar"
        key = f"{key_prefix}/{array.metadata.encode_chunk_key(coords)}"
        checked += 1
        if key not in files:
            if all_stored or is_frames:
                damage(
                    "missing-chunk", f"chunk file {array.metadata.encode_chunk_key(coords)} is missing", where
                )
            continue
        if files[key] == 0:
            damage("chunk", f"chunk file {array.metadata.encode_chunk_key(coords)} is empty (0 bytes)", where)
            continue
        if array.shards is not None:
            problem = _shard_index_holes(fs, f"{root}/{key}", files[key], array, region)
            if problem:
                damage("chunk", f"{problem} ({array.metadata.encode_chunk_key(coords)})", where)
                continue
        try:
            array[region]
        except Exception as exc:  # noqa: BLE001 - a decode failure is what we look for
            message = one_line(exc)
            if is_frames:
                bad = _bad_rows(array, region)
                if bad:
                    where = f"frames {_ranges(bad)}"
                    message = (
                        f"{len(bad)} of {region[0].stop - region[0].start} frames in shard"
                        f" {array.metadata.encode_chunk_key(coords)} do not decode ({message})"
                    )
            damage("chunk", message, where)
    return checked


# ---- one episode (one task) ---------------------------------------------------------------


def _raw_checksum(attrs: dict[str, Any], meta: EpisodeMeta | None) -> tuple[str, str | None]:
    files = attrs.get("raw_files")
    if meta is None:
        return NOT_CHECKED, None
    if not files:
        return NOT_RECORDED, None
    paths = [Path(p) for p in files]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        return RAW_ABSENT, None
    digest = file_checksum(paths)
    if digest != meta.checksum:
        return (
            CHECKSUM_MISMATCH,
            f"raw files at {meta.raw_path} hash to {digest[:12]}…, ingested as {meta.checksum[:12]}…",
        )
    return CHECKSUM_OK, None


def verify_episode(
    episode: str, dataset: str, storage_options: dict[str, Any] | None = None, checksums: bool = True
) -> EpisodeCheck:
    started = time.perf_counter()
    check = EpisodeCheck(episode)

    def damage(kind: str, message: str, where: str | None = None, array: str | None = None) -> None:
        check.damage.append(Damage(kind, message, episode, array, where))

    root = open_root(dataset, mode="r", storage_options=storage_options)
    fs, base = _fs(dataset, storage_options)
    prefix = episode_path(episode)
    files = _files(fs, base, prefix)
    try:
        group = root[prefix]
        attrs = dict(group.attrs)
        meta = EpisodeMeta.model_validate(attrs)
    except Exception as exc:  # noqa: BLE001
        damage("metadata", f"episode metadata unreadable ({one_line(exc)})")
        check.seconds = time.perf_counter() - started
        return check

    expected = set(attrs.get("arrays") or []) | {f"{FRAMES}/{c}" for c in meta.cameras} | {"timestamps"}
    own = f"{prefix}/zarr.json"
    metadata_keys = sorted(
        k[len(prefix) + 1 : -len("/zarr.json")] for k in files if k.endswith("/zarr.json") and k != own
    )
    names = sorted(set(metadata_keys) | expected)
    all_stored = attrs.get("all_chunks_stored") is True
    for name in names:
        if f"{prefix}/{name}/zarr.json" not in files:
            if name in expected:
                damage("missing-array", "array metadata (zarr.json) is missing", array=name)
            continue
        try:
            node = zarr.open(store=root.store, path=f"{prefix}/{name}".lstrip("/"), mode="r", zarr_format=3)
        except Exception as exc:  # noqa: BLE001
            damage("metadata", f"metadata unreadable ({one_line(exc)})", array=name)
            continue
        if not isinstance(node, zarr.Array):
            continue
        check.arrays += 1
        node_attrs = dict(node.attrs)
        if name.startswith(FRAMES + "/"):
            want = (meta.n_frames, meta.height, meta.width, 3)
            if tuple(node.shape) != want:
                damage("shape", f"shape {tuple(node.shape)}, the episode says {want}", array=name)
            check.frames += node.shape[0] if node.ndim else 0
        elif (
            node.ndim
            and not node_attrs.get("sparse")
            and node_attrs.get("time_major", True)
            and node.shape[0] != meta.n_frames
        ):
            damage("shape", f"{node.shape[0]} rows, the episode has n_frames = {meta.n_frames}", array=name)

        def array_damage(kind: str, message: str, where: str | None = None, _name: str = name) -> None:
            damage(kind, message, where, _name)

        check.chunks += check_array(node, f"{prefix}/{name}", files, fs, base, all_stored, array_damage)
    for camera in meta.cameras:
        if f"{FRAMES}/{camera}" not in names:
            damage("missing-array", "frame array missing", array=f"{FRAMES}/{camera}")
    if checksums:
        check.checksum, problem = _raw_checksum(attrs, meta)
        if problem:
            damage("checksum", problem)
    check.seconds = time.perf_counter() - started
    return check


# ---- the whole dataset --------------------------------------------------------------------


def _episode_groups(root: zarr.Group, fs, base: str) -> tuple[dict[str, dict], list[str], list[Damage]]:
    """Complete episodes' attrs, incomplete episode ids, and unreadable episode folders."""
    complete: dict[str, dict] = {}
    incomplete: list[str] = []
    damage: list[Damage] = []
    try:
        names = sorted(os.path.basename(p.rstrip("/")) for p in fs.ls(f"{base}/{EPISODES}", detail=False))
    except FileNotFoundError:
        return complete, incomplete, damage
    for name in names:
        if name == "zarr.json" or is_orphan_write(name):
            continue  # the next ingest removes an orphan write (store.remove_orphan_writes)
        try:
            group = root[f"{EPISODES}/{name}"]
            attrs = dict(group.attrs)
        except KeyError:
            incomplete.append(
                name
            )  # a folder without zarr.json: a writer killed while it deleted or began it
            continue
        except Exception as exc:  # noqa: BLE001
            damage.append(Damage("metadata", f"episode metadata unreadable ({one_line(exc)})", name))
            continue
        (complete.__setitem__(name, attrs) if attrs.get("complete") is True else incomplete.append(name))
    return complete, incomplete, damage


def _check_masks(root: zarr.Group, fs, base: str, episodes: dict[str, dict]) -> tuple[int, list[Damage]]:
    damage: list[Damage] = []
    files = _files(fs, base, MASKS)
    arrays = sorted(k[: -len("/zarr.json")] for k in files if k.endswith("/zarr.json"))
    checked = 0
    for path in arrays:
        parts = path.split("/")
        episode = parts[1] if len(parts) > 1 else None
        try:
            node = zarr.open(store=root.store, path=path, mode="r", zarr_format=3)
        except Exception as exc:  # noqa: BLE001
            damage.append(Damage("mask", f"metadata unreadable ({one_line(exc)})", episode, path))
            continue
        if not isinstance(node, zarr.Array):
            if len(parts) == 2 and episode not in episodes:
                damage.append(Damage("mask", "masks for an episode that is not complete", episode, path))
            continue
        sink: list[Damage] = damage

        def mask_damage(
            kind: str,
            message: str,
            where: str | None = None,
            _path: str = path,
            _episode: str | None = episode,
        ) -> None:
            sink.append(Damage("mask", f"{kind}: {message}", _episode, _path, where))

        checked += check_array(node, path, files, fs, base, False, mask_damage)
    return checked, damage


def verify_dataset(
    dataset: str,
    storage_options: dict[str, Any] | None = None,
    checksums: bool = True,
    workers: int = 1,
    scheduler: str | None = None,
    on_result: Callable[[EpisodeCheck], None] | None = None,
) -> VerifyReport:
    """Check everything; raises DatasetError only when ``dataset`` is not a dataset at all."""
    started = time.perf_counter()
    root = open_root(dataset, mode="r", storage_options=storage_options)
    fs, base = _fs(dataset, storage_options)
    episodes, incomplete, damage = _episode_groups(root, fs, base)
    if scheduler and "://" not in dataset:
        dataset = store_path(dataset)  # the cluster's workers do not share our working directory
    checks = run_tasks(
        verify_episode,
        sorted(episodes),
        workers=workers,
        scheduler=scheduler,
        on_result=on_result,
        dataset=dataset,
        storage_options=storage_options,
        checksums=checksums,
    )
    for check in checks:
        damage += check.damage
    heights, table_damage = check_tables(dataset, storage_options, episodes, root)
    mask_chunks, mask_damage = _check_masks(root, fs, base, episodes)
    damage += table_damage + mask_damage
    notes = [
        f"{e}: incomplete episode (invisible to readers; the next ingest replaces it)" for e in incomplete
    ]
    if not is_url(dataset):  # review images exist only beside a local dataset
        damage += [Damage("review-image", problem, where=where) for where, problem in image_problems(dataset)]
        if unrecorded := unrecorded_images(dataset):
            notes.append(
                f"{REVIEW_IMAGES}: {len(unrecorded)} images without a recorded checksum (older goalframe;"
                " `review push` records them)"
            )
    if mask_chunks:
        notes.append(f"{mask_chunks} mask chunks decoded")
    for name in heights:
        if not has_checksum(dataset, name, storage_options):
            notes.append(
                f"tables/{name}.parquet: no checksum recorded (written by an older goalframe; re-run its step"
                " to add one)"
            )
    return VerifyReport(
        dataset=dataset,
        episodes=checks,
        damage=damage,
        notes=notes,
        tables=heights,
        seconds=time.perf_counter() - started,
    )
