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
from dataclasses import asdict, dataclass, field
from itertools import product
from math import ceil
from pathlib import Path
from typing import Any

import fsspec
import google_crc32c
import numpy as np
import polars as pl
import zarr

from goalframe.schemas.episode import EpisodeMeta
from goalframe.storage.layout import EPISODES, FRAMES, MASKS, episode_path
from goalframe.storage.parallel import run_tasks
from goalframe.storage.review_images import REVIEW_IMAGES, image_problems, unrecorded_images
from goalframe.storage.store import TableError, has_checksum, is_url, list_tables, open_root, read_table, store_path
from goalframe.storage.writer import file_checksum

CHECKSUM_OK = "ok"
CHECKSUM_MISMATCH = "mismatch"
RAW_ABSENT = "raw files absent"
NOT_RECORDED = "raw file list not recorded"
NOT_CHECKED = "not checked"
_EMPTY = 2**64 - 1  # shard index entry of a chunk that is not stored

# Table columns that point into episodes: (frame column, episode column, exclusive end?)
FRAME_COLUMNS = (
    ("frame", "episode_id", False),
    ("event_frame", "episode_id", False),
    ("start_frame", "episode_id", False),
    ("window_start", "episode_id", False),
    ("end_frame", "episode_id", True),
    ("stop_frame", "episode_id", True),
    ("window_stop", "episode_id", True),
    ("clip_end", "episode_id", True),
    ("goal_frame", "goal_episode_id", False),
)


@dataclass
class Damage:
    kind: str  # metadata | missing-array | missing-chunk | chunk | shape | checksum | table | mask | review-image
    message: str
    episode: str | None = None
    array: str | None = None
    where: str | None = None  # "frames 64-127", "chunk c/0", a table row...

    def line(self) -> str:
        parts = [p for p in (self.episode, self.array, self.where) if p]
        return f"{self.kind}: {' '.join(parts)}: {self.message}" if parts else f"{self.kind}: {self.message}"


@dataclass
class EpisodeCheck:
    episode_id: str
    arrays: int = 0
    chunks: int = 0
    frames: int = 0
    checksum: str = NOT_CHECKED
    damage: list[Damage] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class VerifyReport:
    dataset: str
    episodes: list[EpisodeCheck]
    damage: list[Damage]  # all of it: the episodes' and the dataset-level ones
    notes: list[str]
    tables: dict[str, int]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.damage

    def checksum_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for check in self.episodes:
            counts[check.checksum] = counts.get(check.checksum, 0) + 1
        return counts

    def summary(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "ok": self.ok,
            "episodes": len(self.episodes),
            "arrays": sum(c.arrays for c in self.episodes),
            "chunks": sum(c.chunks for c in self.episodes),
            "frames": sum(c.frames for c in self.episodes),
            "checksums": self.checksum_counts(),
            "tables": self.tables,
            "damage": len(self.damage),
            "seconds": round(self.seconds, 2),
        }

    def to_dict(self) -> dict[str, Any]:
        return self.summary() | {
            "damage_found": [asdict(d) | {"line": d.line()} for d in self.damage],
            "notes": self.notes,
            "per_episode": [{k: v for k, v in asdict(c).items() if k != "damage"} for c in self.episodes],
        }


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
    return {path[cut:]: int(info.get("size") or 0) for path, info in found.items() if info.get("type", "file") == "file"}


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


def _one_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    if "computed checksum do not match" in text:
        return "CRC32C checksum mismatch: the stored bytes changed"
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__


def _shard_index_holes(fs, path: str, size: int, array: zarr.Array, region: tuple[slice, ...]) -> str | None:
    """Read a shard's index (end of the file) and say what is wrong with it, if anything."""
    codec = array.metadata.codecs[0]
    if getattr(codec, "index_location", None) is None or str(getattr(codec.index_location, "value", codec.index_location)) != "end":
        return None
    inner = [ceil(s / c) for s, c in zip(array.shards, array.chunks)]
    n_chunks = int(np.prod(inner))
    has_crc = any(type(c).__name__ == "Crc32cCodec" for c in codec.index_codecs)
    index_bytes = 16 * n_chunks + (4 if has_crc else 0)
    if size < index_bytes:
        return f"shard file is cut ({size} bytes, its index alone is {index_bytes})"
    data = fs.cat_file(path, start=size - index_bytes, end=size)
    table = data[: 16 * n_chunks]
    if has_crc and google_crc32c.value(table) != int.from_bytes(data[16 * n_chunks :], "little"):
        return "shard index checksum does not match (the file is damaged)"
    entries = np.frombuffer(table, dtype="<u8").reshape(*inner, 2)
    # Only the chunks inside the array: the last shard of an episode is partly beyond its end.
    inside = entries[tuple(slice(0, ceil((r.stop - r.start) / c)) for r, c in zip(region, array.chunks))].reshape(-1, 2)
    missing = int(np.sum(inside[:, 0] == _EMPTY))
    if missing:
        return f"{missing} of {len(inside)} chunks missing from the shard"
    stored = inside[inside[:, 0] != _EMPTY]
    if len(stored) and int((stored[:, 0] + stored[:, 1]).max()) > size - index_bytes:
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
                damage("missing-chunk", f"chunk file {array.metadata.encode_chunk_key(coords)} is missing", where)
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
            message = _one_line(exc)
            if is_frames:
                bad = _bad_rows(array, region)
                if bad:
                    where = f"frames {_ranges(bad)}"
                    message = f"{len(bad)} of {region[0].stop - region[0].start} frames in shard {array.metadata.encode_chunk_key(coords)} do not decode ({message})"
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
        return CHECKSUM_MISMATCH, f"raw files at {meta.raw_path} hash to {digest[:12]}…, ingested as {meta.checksum[:12]}…"
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
        damage("metadata", f"episode metadata unreadable ({_one_line(exc)})")
        check.seconds = time.perf_counter() - started
        return check

    expected = set(attrs.get("arrays") or []) | {f"{FRAMES}/{c}" for c in meta.cameras} | {"timestamps"}
    own = f"{prefix}/zarr.json"
    metadata_keys = sorted(k[len(prefix) + 1 : -len("/zarr.json")] for k in files if k.endswith("/zarr.json") and k != own)
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
            damage("metadata", f"metadata unreadable ({_one_line(exc)})", array=name)
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
        elif node.ndim and not node_attrs.get("sparse") and node_attrs.get("time_major", True) and node.shape[0] != meta.n_frames:
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
        if name == "zarr.json":
            continue
        try:
            group = root[f"{EPISODES}/{name}"]
            attrs = dict(group.attrs)
        except KeyError:
            incomplete.append(name)  # a folder without zarr.json: a writer killed while it deleted or began it
            continue
        except Exception as exc:  # noqa: BLE001
            damage.append(Damage("metadata", f"episode metadata unreadable ({_one_line(exc)})", name))
            continue
        (complete.__setitem__(name, attrs) if attrs.get("complete") is True else incomplete.append(name))
    return complete, incomplete, damage


def _check_tables(dataset: str, storage_options, episodes: dict[str, dict], root: zarr.Group) -> tuple[dict[str, int], list[Damage]]:
    damage: list[Damage] = []
    heights: dict[str, int] = {}
    lengths = {e: int(a.get("n_frames", 0)) for e, a in episodes.items()}
    for name in list_tables(dataset, storage_options):
        where = f"tables/{name}.parquet"
        try:
            table = read_table(dataset, name, storage_options)
        except TableError as exc:  # checksum mismatch or unparsable parquet
            damage.append(Damage("table", exc.problem, where=where))
            continue
        except Exception as exc:  # noqa: BLE001
            damage.append(Damage("table", f"unreadable ({_one_line(exc)})", where=where))
            continue
        if table is None:
            continue
        heights[name] = table.height
        if name == "manifest":
            damage += _check_manifest(table, episodes, where)
            continue
        damage += _check_references(table, lengths, where)
        if name == "tracks" and {"episode_id", "track_id"} <= set(table.columns):
            for row in table.select("episode_id", "track_id").unique().iter_rows():
                if row[0] in lengths and f"{MASKS}/{row[0]}/{row[1]}" not in root:
                    damage.append(Damage("table", f"track {row[1]!r} has no masks group", row[0], where=where))
    if "manifest" not in heights and episodes:
        damage.append(Damage("table", f"no manifest table for {len(episodes)} complete episodes (re-run ingest)", where="tables/manifest.parquet"))
    return heights, damage


def _check_manifest(table: pl.DataFrame, episodes: dict[str, dict], where: str) -> list[Damage]:
    damage = []
    if "episode_id" not in table.columns:
        return [Damage("table", "no episode_id column", where=where)]
    rows = {r["episode_id"]: r for r in table.iter_rows(named=True)}
    for episode in sorted(set(episodes) - set(rows)):
        damage.append(Damage("table", "complete episode missing from the manifest", episode, where=where))
    for episode in sorted(set(rows) - set(episodes)):
        damage.append(Damage("table", "manifest row for an episode that is not complete", episode, where=where))
    if table.height != len(rows):
        damage.append(Damage("table", f"{table.height - len(rows)} duplicate episode rows", where=where))
    for episode in sorted(set(rows) & set(episodes)):
        for column in ("n_frames", "checksum"):
            if column in rows[episode] and rows[episode][column] != episodes[episode].get(column):
                damage.append(Damage("table", f"{column} {rows[episode][column]!r}, the episode says {episodes[episode].get(column)!r}", episode, where=where))
    return damage


def _check_references(table: pl.DataFrame, lengths: dict[str, int], where: str) -> list[Damage]:
    damage = []
    for episode_column in ("episode_id", "goal_episode_id"):
        if episode_column not in table.columns:
            continue
        unknown = sorted(set(table[episode_column].drop_nulls().unique().to_list()) - set(lengths))
        for episode in unknown[:20]:
            count = table.filter(pl.col(episode_column) == episode).height
            damage.append(Damage("table", f"{count} row(s) name episode {episode!r} ({episode_column}), which is not a complete episode", episode, where=where))
    known = pl.DataFrame({"_episode": list(lengths), "_n": list(lengths.values())}, schema={"_episode": pl.String, "_n": pl.Int64})
    for column, episode_column, exclusive in FRAME_COLUMNS:
        if column not in table.columns or episode_column not in table.columns:
            continue
        joined = table.select(pl.col(episode_column).alias("_episode"), pl.col(column).cast(pl.Int64).alias("_frame")).drop_nulls()
        joined = joined.join(known, on="_episode", how="inner")
        limit = pl.col("_n") if exclusive else pl.col("_n") - 1
        bad = joined.filter((pl.col("_frame") < 0) | (pl.col("_frame") > limit))
        for row in bad.head(20).iter_rows(named=True):
            damage.append(Damage("table", f"{column} {row['_frame']} outside the episode's {row['_n']} frames", row["_episode"], where=where))
        if bad.height > 20:
            damage.append(Damage("table", f"{bad.height - 20} more rows with {column} outside their episode", where=where))
    return damage


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
            damage.append(Damage("mask", f"metadata unreadable ({_one_line(exc)})", episode, path))
            continue
        if not isinstance(node, zarr.Array):
            if len(parts) == 2 and episode not in episodes:
                damage.append(Damage("mask", "masks for an episode that is not complete", episode, path))
            continue
        sink: list[Damage] = damage

        def mask_damage(kind: str, message: str, where: str | None = None, _path: str = path, _episode: str | None = episode) -> None:
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
        verify_episode, sorted(episodes), workers=workers, scheduler=scheduler, on_result=on_result,
        dataset=dataset, storage_options=storage_options, checksums=checksums,
    )  # fmt: skip
    for check in checks:
        damage += check.damage
    heights, table_damage = _check_tables(dataset, storage_options, episodes, root)
    mask_chunks, mask_damage = _check_masks(root, fs, base, episodes)
    damage += table_damage + mask_damage
    notes = [f"{e}: incomplete episode (invisible to readers; the next ingest replaces it)" for e in incomplete]
    if not is_url(dataset):  # review images exist only beside a local dataset
        damage += [Damage("review-image", problem, where=where) for where, problem in image_problems(dataset)]
        if unrecorded := unrecorded_images(dataset):
            notes.append(f"{REVIEW_IMAGES}: {len(unrecorded)} images without a recorded checksum (older goalframe; `review push` records them)")
    if mask_chunks:
        notes.append(f"{mask_chunks} mask chunks decoded")
    for name in heights:
        if not has_checksum(dataset, name, storage_options):
            notes.append(f"tables/{name}.parquet: no checksum recorded (written by an older goalframe; re-run its step to add one)")
    return VerifyReport(
        dataset=dataset, episodes=checks, damage=damage, notes=notes, tables=heights, seconds=time.perf_counter() - started
    )
