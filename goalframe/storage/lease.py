"""One writing command per dataset at a time: a lease on the dataset, held by the driver.

Two writers of one dataset interleave their deletes and rewrites of an episode group and
their read-modify-write of the root record: measured, an episode ended ``complete``
without its arrays and a step record was lost. So every writing command (ingest, events,
masks, pairs, msth, review) holds the dataset's lease for its whole run; its Dask tasks
write under the lease of their driver and take none themselves.

- Local disk (and NFS, where Linux maps ``flock`` onto its lock manager): an exclusive
  ``flock`` on ``NAME.zarr/.goalframe-lease``. The kernel drops it when the holder dies,
  even by ``kill -9``, so a crashed run never leaves a stale lease. The file keeps the
  holder's pid, host, command and start time for the "in use by ..." message.
- Object stores (s3 through fsspec): the lease is an object created with a conditional
  write (``If-None-Match: *``), removed when the command ends. One left by a killed run is
  recovered when its pid is dead on this host; from another host, the message says which
  object to delete. Stores without conditional writes get a best-effort check: keep to one
  writer per dataset there.

The lease is re-entrant within a process, so ``build`` (ingest, events, masks, ... in turn)
and a library call inside a command do not lock themselves out.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import inspect
import json
import os
import socket
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import fsspec

from goalframe.schemas.layout import DatasetError, utc_now
from goalframe.storage.store import (
    LEASE_NAME,
    _reaching,
    is_url,
    open_root,
    refuse_foreign_folder,
    store_path,
    writable,
)

_held: dict[str, int] = {}  # dataset -> nesting depth of the leases this process holds
_held_guard = threading.Lock()


class DatasetInUse(DatasetError):
    """Another command holds the dataset's lease."""


def _holder_record(command: str, token: str) -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command,
        "argv": " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:200],
        "started": utc_now(),
        "token": token,
    }


def _in_use(dataset: str, holder: dict[str, Any] | None, hint: str = "") -> DatasetInUse:
    if not holder:
        return DatasetInUse(
            f"{dataset} is in use by another goalframe command; one command writes a dataset at a time{hint}"
        )
    return DatasetInUse(
        f"{dataset} is in use by pid {holder.get('pid')} on {holder.get('host')} ({holder.get('command')}) "
        f"since {holder.get('started')}; one command writes a dataset at a time, wait for it to finish{hint}"
    )


def _parse_holder(data: bytes) -> dict[str, Any] | None:
    try:
        holder = json.loads(data.decode())
    except (UnicodeDecodeError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


# ---- local disk: flock -------------------------------------------------------------------


def _acquire_local(dataset: str, command: str, create: bool) -> Callable[[], None]:
    folder = Path(store_path(dataset))
    refuse_foreign_folder(dataset)  # never drop a lease file into a folder of the user's
    with writable(dataset):
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LEASE_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        holder = _parse_holder(os.pread(fd, 4096, 0))
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise _in_use(dataset, holder) from None
        raise DatasetError(f"{dataset}: cannot lock the dataset ({exc.strerror})") from None
    record = json.dumps(_holder_record(command, uuid.uuid4().hex)).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, record, 0)

    def release() -> None:
        try:
            os.ftruncate(fd, 0)  # an empty lease file: nobody holds it
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    return release


# ---- object stores: a conditionally created object ---------------------------------------


def _is_stale(holder: dict[str, Any] | None) -> bool:
    """A lease of a process that is gone from this host (a run killed before it removed it)."""
    if not holder or holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _create_exclusive(fs: fsspec.AbstractFileSystem, path: str, data: bytes) -> None:
    """Create ``path`` only if absent (FileExistsError otherwise)."""
    try:
        fs.pipe_file(path, data, mode="create")
    except (TypeError, NotImplementedError):  # no conditional writes here: best effort
        if fs.exists(path):
            raise FileExistsError(path) from None
        fs.pipe_file(path, data)


def _acquire_object_store(
    dataset: str, command: str, storage_options: dict[str, Any] | None, create: bool
) -> Callable[[], None]:
    if create:
        refuse_foreign_folder(dataset, storage_options)  # never drop a lease into a prefix of the user's
    fs, root = fsspec.core.url_to_fs(store_path(dataset), **(storage_options or {}))
    path = f"{root.rstrip('/')}/{LEASE_NAME}"
    record = _holder_record(command, uuid.uuid4().hex)
    for _attempt in range(2):
        try:
            _create_exclusive(fs, path, json.dumps(record).encode())
            break
        except FileNotFoundError as exc:  # no such bucket
            text = str(exc).splitlines()[0] if str(exc) else "not found"
            raise DatasetError(f"{dataset}: cannot create the dataset ({text})") from None
        except FileExistsError:
            fs.invalidate_cache(path)
            try:
                holder = _parse_holder(fs.cat_file(path))
            except FileNotFoundError:  # released meanwhile: try again
                continue
            if not _is_stale(holder):
                raise _in_use(
                    dataset, holder, f" (if that run is gone, delete {dataset.rstrip('/')}/{LEASE_NAME})"
                ) from None
            fs.rm_file(path)
    else:
        raise _in_use(dataset, None)

    def release() -> None:
        fs.invalidate_cache(path)
        try:
            holder = _parse_holder(fs.cat_file(path))
        except FileNotFoundError:
            return
        if holder and holder.get("token") == record["token"]:
            fs.rm_file(path)

    return release


# ---- the one entry point ------------------------------------------------------------------


@contextmanager
def dataset_lease(
    dataset: str, command: str, storage_options: dict[str, Any] | None = None, create: bool = False
) -> Iterator[None]:
    """Hold ``dataset``'s writer lease for the block; DatasetInUse (one line) if another holds it.

    ``create`` (ingest): the dataset may not exist yet, and its folder is made. Otherwise
    the path must already be a goalframe dataset, so a typo never gets a folder made.
    """
    key = store_path(dataset)
    with _held_guard:
        if _held.get(key):
            _held[key] += 1
            release = None
        else:
            if not create:
                open_root(
                    dataset, mode="r", storage_options=storage_options
                )  # one line when it is not a dataset
            if is_url(dataset):
                with _reaching(dataset):  # an unreachable store is one line too
                    release = _acquire_object_store(dataset, command, storage_options, create)
            else:
                release = _acquire_local(dataset, command, create)
            _held[key] = 1
    try:
        yield
    finally:
        with _held_guard:
            _held[key] -= 1
            if not _held[key]:
                del _held[key]
        if release is not None:
            release()


F = TypeVar("F", bound=Callable[..., Any])


def writes_dataset(command: str) -> Callable[[F], F]:
    """Decorate a library function ``f(dataset, ..., storage_options=...)`` that writes the
    dataset: it runs under the dataset's lease (its Dask tasks under the driver's)."""

    def decorate(function: F) -> F:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind_partial(*args, **kwargs)
            dataset = bound.arguments["dataset"]
            with dataset_lease(str(dataset), command, bound.arguments.get("storage_options")):
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
