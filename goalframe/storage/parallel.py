"""Run one task per item on Dask: in-process, a local process pool, or a distributed cluster.

Tasks must not raise for expected failures (they return a result that says so), so one
bad episode never stops the others; ``on_result`` is called in the driver as each ends.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

import dask
from dask.callbacks import Callback

R = TypeVar("R")


class _ResultCallback(Callback):
    """Forward each finished task's result to the driver (local schedulers run callbacks there)."""

    def __init__(self, keys: set, on_result: Callable[[Any], None]):
        super().__init__()
        self._keys = keys
        self._on_result = on_result

    def _posttask(self, key, result, dsk, state, worker_id):  # noqa: ANN001 - dask's signature
        if key in self._keys:
            self._on_result(result)


def run_tasks(
    task: Callable[..., R],
    items: Sequence[Any],
    workers: int = 1,
    scheduler: str | None = None,
    on_result: Callable[[R], None] | None = None,
    **kwargs: Any,
) -> list[R]:
    """``[task(item, **kwargs) for item in items]`` on the chosen Dask scheduler, in item order."""
    if not items:
        return []
    on_result = on_result or (lambda _result: None)
    if scheduler:
        return _run_distributed(task, items, scheduler, on_result, kwargs)
    delayed = [dask.delayed(task, pure=False)(item, **kwargs) for item in items]
    keys = {d.key for d in delayed}
    local = "synchronous" if workers <= 1 else "processes"
    options = {} if workers <= 1 else {"initializer": partial(die_with_parent, os.getpid())}
    with _ResultCallback(keys, on_result):
        return list(dask.compute(*delayed, scheduler=local, num_workers=max(workers, 1), **options))


def die_with_parent(parent_pid: int) -> None:
    """Pool-worker initializer: get SIGKILL when the driver dies (Linux), else exit now.

    Without it, a build killed with SIGKILL leaves its pool workers running: they finish
    their episode and take the next ones from the queue, racing with the re-run.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the driver died before prctl took effect
        os._exit(1)


def _run_distributed(task, items, address: str, on_result, kwargs) -> list:
    from distributed import Client, as_completed

    with Client(address, set_as_default=False) as client:
        futures = [client.submit(task, item, pure=False, **kwargs) for item in items]
        order = {future.key: index for index, future in enumerate(futures)}
        results: list = [None] * len(futures)
        for future in as_completed(
            futures, loop=client.loop
        ):  # this client's loop: it is not the default one
            result = future.result()
            results[order[future.key]] = result
            on_result(result)
        return results
