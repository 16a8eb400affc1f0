"""`--scheduler tcp://...`: ingest, events and masks on a dask.distributed cluster equal a serial build."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from dataset_compare import assert_same_dataset, check, goalframe

from goalframe.sim.vpt.synth import synthesize_vpt
from goalframe.storage import open_dataset


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist") / "raw"
    synthesize_vpt(out, episodes=3, seed=11, frames=90)
    return out


@pytest.fixture(scope="module")
def worker_cwd(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("worker-cwd")


@pytest.fixture(scope="module")
def cluster(worker_cwd):
    distributed = pytest.importorskip("distributed")
    # The workers start in a folder of their own, as on another machine: a relative path
    # that reached them unresolved would land there.
    here = os.getcwd()
    os.chdir(worker_cwd)
    try:
        local = distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=40
        )
    finally:
        os.chdir(here)
    with local:
        yield local


@pytest.mark.timeout(300)
def test_cluster_build_equals_serial_build(raw, cluster, tmp_path):
    serial, remote = str(tmp_path / "serial.zarr"), str(tmp_path / "cluster.zarr")
    check(goalframe("ingest", "vpt", str(raw), "--out", serial, "--workers", "1"))
    check(goalframe("events", serial, "--workers", "1"))
    check(goalframe("masks", serial, "--window", "16", "--workers", "1"))

    address = cluster.scheduler_address
    assert address.startswith("tcp://")
    ingest = check(goalframe("ingest", "vpt", str(raw), "--out", remote, "--scheduler", address))
    assert "3 written" in ingest.stdout
    check(goalframe("events", remote, "--scheduler", address))
    masks = check(goalframe("masks", remote, "--window", "16", "--scheduler", address))
    assert "0 events without a track" in masks.stdout, masks.stdout

    # The tasks really ran on the cluster's worker processes.
    prefixes = set(cluster.scheduler.task_prefixes)
    assert {"ingest_episode", "episode_events", "annotate_event"} <= prefixes, prefixes
    steps = open_dataset(remote).info.steps
    assert steps[0].params["scheduler"] == address

    assert_same_dataset(serial, remote)
    assert open_dataset(remote).table("events").height > 0
    assert open_dataset(remote).table("tracks").height == open_dataset(remote).table("events").height

    # A second run on the cluster skips every complete episode.
    again = check(goalframe("ingest", "vpt", str(raw), "--out", remote, "--scheduler", address))
    assert "0 written, 3 skipped" in again.stdout


def test_relative_paths_are_resolved_before_tasks_leave_for_the_cluster(
    raw, cluster, worker_cwd, tmp_path, monkeypatch
):
    shutil.copytree(raw, tmp_path / "raw")
    monkeypatch.chdir(tmp_path)
    address = cluster.scheduler_address
    check(goalframe("ingest", "vpt", "raw", "--out", "rel.zarr", "--scheduler", address))
    check(goalframe("events", "rel.zarr", "--scheduler", address))
    ds = open_dataset(tmp_path / "rel.zarr")
    assert len(ds.episodes) == 3 and ds.table("events").height > 0
    assert not any(worker_cwd.iterdir()), "nothing was written relative to the workers' folder"
