"""Opening and creating dataset roots on local disk or any fsspec URL, and the root record."""

from __future__ import annotations

import errno
import io
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fsspec
import polars as pl
import zarr

from goalframe import __version__
from goalframe.schemas.features import Feature, merge_features
from goalframe.schemas.layout import LAYOUT_VERSION, DatasetError, DatasetInfo, StepRecord, latest_per_step
from goalframe.storage import step_log
from goalframe.storage.layout import EPISODES, TABLES, is_orphan_write
from goalframe.storage.table_checksum import checksum_problem, checksum_record, parse_record

# Non-zarr folders (tables/) inside the store make zarr warn when it lists the root.
warnings.filterwarnings("ignore", message="Object at .* is not recognized as a component of a Zarr hierarchy")

LEASE_NAME = ".goalframe-lease"  # the writer lease (storage/lease.py), at the dataset root
_NOT_WRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM}


def is_url(path: str | Path) -> bool:
    return "://" in str(path)


def remove_orphan_writes(dataset: str | Path) -> None:
    """Delete the metadata temporary files a killed writer left in the dataset's root and
    episodes folders (``layout.is_orphan_write``; local stores only: fsspec's write in place).
    Call it holding the writer lease, so that no live write's file is taken."""
    if is_url(dataset):
        return
    for folder in (Path(dataset), Path(dataset) / EPISODES):
        if folder.is_dir():
            for entry in folder.iterdir():
                if is_orphan_write(entry.name) and entry.is_file():
                    entry.unlink(missing_ok=True)


def store_path(path: str | Path) -> str:
    return str(path) if is_url(path) else os.path.abspath(path)


def _root_kwargs(path: str | Path, storage_options: dict[str, Any] | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"store": store_path(path), "zarr_format": 3}
    if is_url(path) and storage_options:
        kwargs["storage_options"] = storage_options
    return kwargs


@contextmanager
def _reaching(path: str | Path) -> Iterator[None]:
    """An object store that cannot be reached (endpoint, credentials, bucket) is one line."""
    try:
        yield
    except (
        DatasetError,
        FileNotFoundError,
        zarr.errors.GroupNotFoundError,
        zarr.errors.NodeTypeValidationError,
    ):
        raise
    except Exception as exc:
        if not is_url(path):
            raise
        text = str(exc).splitlines()[0] if str(exc) else ""
        raise DatasetError(f"{path}: cannot reach the store ({exc.__class__.__name__}: {text})") from None


@contextmanager
def writable(path: str | Path) -> Iterator[None]:
    """A read-only dataset, folder or disk is one line naming the path, not a traceback."""
    try:
        yield
    except PermissionError as exc:
        raise DatasetError(f"{path}: cannot write here ({_why_not_writable(exc)})") from None
    except OSError as exc:
        if exc.errno not in _NOT_WRITABLE:
            raise
        raise DatasetError(f"{path}: cannot write here ({_why_not_writable(exc)})") from None


def _why_not_writable(exc: OSError) -> str:
    where = f": {exc.filename}" if exc.filename else ""
    if exc.errno == errno.EROFS:
        return f"read-only file system{where}"
    return f"permission denied{where}"


def open_root(path: str | Path, mode: str = "r", storage_options: dict[str, Any] | None = None) -> zarr.Group:
    """Open an existing goalframe dataset; a one-line DatasetError when it is not one."""
    try:
        with _reaching(path):
            root = zarr.open_group(mode=mode, **_root_kwargs(path, storage_options))
            if is_url(path) and hasattr(root.store, "fs"):
                # the filesystem instance (and its listing cache) is shared within a process,
                # while episodes and tracks are written by other processes: list afresh
                root.store.fs.invalidate_cache()
    except (FileNotFoundError, zarr.errors.GroupNotFoundError, zarr.errors.NodeTypeValidationError):
        raise DatasetError(f"{path}: no goalframe dataset here (no zarr.json)") from None
    if "goalframe_layout" not in root.attrs:
        raise DatasetError(
            f"{path}: a zarr group but not a goalframe dataset (no goalframe_layout attribute)"
        )
    info = DatasetInfo.model_validate(dict(root.attrs))
    if info.major() != int(LAYOUT_VERSION.split(".")[0]):
        raise DatasetError(
            f"{path}: layout {info.goalframe_layout} is not readable by this goalframe ({LAYOUT_VERSION})"
        )
    return root


def refuse_foreign_folder(path: str | Path, storage_options: dict[str, Any] | None = None) -> bool:
    """Refuse a path that holds something other than a dataset; returns whether zarr.json is there.

    A typo must never write into (or later delete from) a folder or prefix of the user's.
    One holding only our lease is a dataset whose first writer was killed before it wrote
    zarr.json: that one is fine.
    """
    if not is_url(path):
        local = Path(path)
        if local.exists() and not local.is_dir():
            raise DatasetError(f"{path}: exists and is a file, not a dataset folder")
        has_root = (local / "zarr.json").exists()
        if local.is_dir() and not has_root and any(p.name != LEASE_NAME for p in local.iterdir()):
            raise DatasetError(
                f"{path}: exists and is not a goalframe dataset (a non-empty folder without zarr.json)"
            )
        return has_root
    with _reaching(path):
        fs, root_path = fsspec.core.url_to_fs(store_path(path), **(storage_options or {}))
        root_path = root_path.rstrip("/")
        has_root = fs.exists(f"{root_path}/zarr.json")
        if (
            not has_root
            and fs.isdir(root_path)
            and any(p.rstrip("/").rsplit("/", 1)[-1] != LEASE_NAME for p in fs.ls(root_path, detail=False))
        ):
            raise DatasetError(
                f"{path}: exists and is not a goalframe dataset (a non-empty prefix without zarr.json)"
            )
    return has_root


def create_or_open(path: str | Path, storage_options: dict[str, Any] | None = None) -> zarr.Group:
    """Open a dataset for writing, creating it when the path is absent or an empty folder
    (refusing one that holds something else, see refuse_foreign_folder)."""
    has_root = refuse_foreign_folder(path, storage_options)
    try:
        return open_root(path, mode="r+", storage_options=storage_options)
    except DatasetError:
        if has_root:
            raise
    # The root record goes in with the group's own zarr.json (one atomic write), so a build
    # killed right here leaves either nothing or a dataset that the next run opens. Mode
    # "a", not "w-": the folder may already hold the writer lease (storage/lease.py).
    try:
        with _reaching(path), writable(path):
            root = zarr.open_group(
                mode="a", attributes=DatasetInfo().model_dump(), **_root_kwargs(path, storage_options)
            )
    except FileNotFoundError as exc:  # object stores: no such bucket
        raise DatasetError(
            f"{path}: cannot create the dataset ({str(exc).splitlines()[0] if str(exc) else 'not found'})"
        ) from None
    except zarr.errors.ContainsGroupError:  # another process created it a moment ago
        return open_root(path, mode="r+", storage_options=storage_options)
    if "goalframe_layout" not in root.attrs:  # another process created a bare group meanwhile
        raise DatasetError(
            f"{path}: a zarr group but not a goalframe dataset (no goalframe_layout attribute)"
        )
    with writable(path):
        root.require_group(EPISODES)
    return root


def read_info(root: zarr.Group) -> DatasetInfo:
    """The root record with the full step log (from ``tables/steps.parquet`` where it exists)."""
    info = DatasetInfo.model_validate(dict(root.attrs))
    logged = step_log.read_steps(root)
    if logged is not None:
        info.steps = logged
    return info


def record_step(root: zarr.Group, record: StepRecord) -> None:
    """Append a step to the step log. Only the driver holding the lease calls this.

    The log is re-read from the store first: ``root`` may have been opened long before (at
    the start of an ingest), and its cached attrs would drop steps recorded since. A
    dataset written before the table existed has its log in the root attrs: it moves into
    the table with the first step recorded here. The root attrs keep the newest run of each
    step, so goalframe versions that read the log from there still find every step's
    parameters (layout 1.0 readers).
    """
    fresh = zarr.open_group(root.store, path=root.path, mode="r+", zarr_format=3)
    steps = read_info(fresh).steps + [record]
    step_log.write_steps(fresh, steps)
    fresh.attrs.update({"steps": [s.model_dump() for s in latest_per_step(steps)]})


def record_features(root: zarr.Group, features: dict[str, Feature]) -> None:
    """Merge episodes' features into the root record's feature schema (the lease holder only)."""
    fresh = zarr.open_group(root.store, path=root.path, mode="r+", zarr_format=3)
    merged = merge_features(DatasetInfo.model_validate(dict(fresh.attrs)).features, features)
    fresh.attrs.update({"features": {path: feature.model_dump() for path, feature in merged.items()}})


def new_step(
    step: str, params: dict[str, Any], started: str, finished: str, summary: dict[str, Any]
) -> StepRecord:
    return StepRecord(
        step=step,
        goalframe_version=__version__,
        params=params,
        started=started,
        finished=finished,
        summary=summary,
    )


# ---- tables (parquet files next to the arrays) -------------------------------------


def _fs_and_path(dataset: str | Path, name: str, storage_options: dict[str, Any] | None):
    base = store_path(dataset)
    fs, root = fsspec.core.url_to_fs(base, **(storage_options or {}))
    folder = f"{root.rstrip('/')}/{TABLES}"
    if is_url(dataset):  # fsspec caches listings per process; other processes write tables
        fs.invalidate_cache(folder)
    return fs, f"{folder}/{name}.parquet"


class TableError(DatasetError):
    """A damaged table: ``str()`` is one line naming the file; ``problem`` is what is wrong."""

    def __init__(self, where: str, problem: str):
        self.where, self.problem = where, problem
        super().__init__(f"{where}: {problem}")


def _checksum_path(path: str) -> str:
    return f"{path}.sha256"


def _read_checksums(fs, path: str) -> dict[str, Any] | None:
    """The table's recorded checksums, None for a table written before they were kept."""
    try:
        return parse_record(fs.cat_file(_checksum_path(path)))
    except FileNotFoundError:
        return None


def _put(fs, path: str, data: bytes, local: bool) -> None:
    """Replace one file atomically: readers see the old bytes or the new ones."""
    if not local:  # object stores replace a key in one PUT
        fs.pipe_file(path, data)
        return
    fs.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def write_table(
    dataset: str | Path, name: str, table: pl.DataFrame, storage_options: dict[str, Any] | None = None
) -> None:
    """Write ``tables/<name>.parquet`` atomically, with its sha256 in ``<name>.parquet.sha256``.

    The checksum record goes first and keeps the digest of the file it replaces, so a
    writer killed between the two writes leaves a table that still matches its record.
    """
    fs, path = _fs_and_path(dataset, name, storage_options)
    buffer = io.BytesIO()
    table.write_parquet(buffer)
    data = buffer.getvalue()
    local = not is_url(dataset)
    with writable(dataset):
        previous = fs.cat_file(path) if fs.exists(path) else None
        _put(fs, _checksum_path(path), checksum_record(data, previous), local)
        _put(fs, path, data, local)


def has_checksum(dataset: str | Path, name: str, storage_options: dict[str, Any] | None = None) -> bool:
    """Whether ``tables/<name>.parquet`` has a checksum record (older tables have none)."""
    fs, path = _fs_and_path(dataset, name, storage_options)
    return fs.exists(_checksum_path(path))


def table_problem(
    dataset: str | Path, name: str, data: bytes, storage_options: dict[str, Any] | None = None
) -> str | None:
    """What is wrong with a table's bytes against its recorded checksum, if anything."""
    fs, path = _fs_and_path(dataset, name, storage_options)
    return checksum_problem(_read_checksums(fs, path), data)


def parse_table(where: str, data: bytes) -> pl.DataFrame:
    """Parquet bytes to a table; any reader failure (polars panics included) is one line."""
    try:
        return pl.read_parquet(io.BytesIO(data))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - polars' PanicException is a BaseException
        text = str(exc).splitlines()[0] if str(exc) else ""
        raise TableError(where, f"unreadable parquet ({exc.__class__.__name__}: {text[:200]})") from None


def read_table(
    dataset: str | Path, name: str, storage_options: dict[str, Any] | None = None
) -> pl.DataFrame | None:
    """``tables/<name>.parquet``, None when absent; DatasetError naming the file when damaged.

    The checksum is checked before parsing: a flipped byte in a parquet footer can make the
    reader ask for exabytes and abort the whole process.
    """
    fs, path = _fs_and_path(dataset, name, storage_options)
    if not fs.exists(path):
        return None
    where = f"{dataset}/{TABLES}/{name}.parquet"
    data = fs.cat_file(path)
    problem = table_problem(dataset, name, data, storage_options)
    if problem:
        raise TableError(where, problem)
    return parse_table(where, data)


def list_tables(dataset: str | Path, storage_options: dict[str, Any] | None = None) -> list[str]:
    fs, path = _fs_and_path(dataset, "x", storage_options)
    folder = os.path.dirname(path)
    if not fs.exists(folder):
        return []
    return sorted(
        os.path.basename(p)[: -len(".parquet")] for p in fs.ls(folder, detail=False) if p.endswith(".parquet")
    )
