"""Datasets on object storage: a full build, read and verify on a real local S3 server (moto).

The server listens on 127.0.0.1 (a free port) in this process; the CLI runs as
subprocesses that reach it over HTTP with `--storage-option` endpoint and credentials.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from dataset_compare import assert_same_dataset, check, goalframe

from goalframe.sim.vpt.synth import synthesize_vpt
from goalframe.storage import open_dataset

pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

# No credential lookups beyond what we pass (and never the instance metadata address).
NO_LOOKUPS = {
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """(endpoint, storage options, CLI options) of a fresh S3 server with a bucket."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    saved = {k: os.environ.get(k) for k in NO_LOOKUPS}
    os.environ.update(NO_LOOKUPS)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    options = {"endpoint_url": endpoint, "key": "testing", "secret": "testing"}
    import s3fs

    s3fs.S3FileSystem(**options).mkdir("bucket")
    cli = [
        f"--storage-option=endpoint_url={endpoint}",
        "--storage-option=key=testing",
        "--storage-option=secret=testing",
    ]
    try:
        yield endpoint, options, cli
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("s3raw") / "raw"
    synthesize_vpt(out, episodes=2, seed=21, frames=70)
    return out


@pytest.fixture(scope="module")
def built(raw, s3, tmp_path_factory):
    """A local build and the same build on S3, each with events."""
    _endpoint, _options, cli = s3
    local = str(tmp_path_factory.mktemp("s3local") / "local.zarr")
    check(goalframe("ingest", "vpt", str(raw), "--out", local, "--workers", "1"))
    check(goalframe("events", local, "--workers", "1"))
    url = "s3://bucket/ds.zarr"
    ingest = check(goalframe("ingest", "vpt", str(raw), "--out", url, "--workers", "2", *cli, env=NO_LOOKUPS))
    assert "2 written" in ingest.stdout, ingest.stdout
    check(goalframe("events", url, *cli, env=NO_LOOKUPS))
    return local, url


@pytest.mark.timeout(400)
def test_build_on_s3_equals_local_build(built, s3):
    local, url = built
    _endpoint, options, _cli = s3
    ds = open_dataset(url, storage_options=options)
    assert ds.path == url and len(ds.episodes) == 2
    assert set(ds.tables) == {"events", "manifest"}
    assert_same_dataset(local, url, None, options)


def test_info_and_verify_read_s3(built, s3):
    _local, url = built
    _endpoint, _options, cli = s3
    info = json.loads(check(goalframe("info", url, "--json", *cli, env=NO_LOOKUPS)).stdout)
    assert info["episodes"] == 2 and info["tables"]["manifest"] == 2
    assert [s["step"] for s in info["steps"]] == ["ingest-vpt", "events"]
    report = json.loads(check(goalframe("verify", url, "--json", *cli, env=NO_LOOKUPS)).stdout)
    assert report["ok"] and report["episodes"] == 2 and report["checksums"] == {"ok": 2}
    assert report["frames"] == sum(open_dataset(url, storage_options=_options).lengths.values())


def test_an_unreachable_endpoint_is_a_one_line_error(built):
    _local, url = built
    result = goalframe(
        "info", url, "--storage-option", "endpoint_url=http://127.0.0.1:9", env=NO_LOOKUPS, timeout=120
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "cannot reach the store" in result.stderr


def test_a_missing_bucket_is_a_one_line_error(s3, raw):
    _endpoint, _options, cli = s3
    result = goalframe(
        "ingest", "vpt", str(raw), "--out", "s3://no-such-bucket/ds.zarr", *cli, env=NO_LOOKUPS
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "s3://no-such-bucket/ds.zarr: cannot create the dataset" in result.stderr


def test_a_partial_episode_on_s3_is_invisible_and_rewritten(built, s3, raw):
    _local, url = built
    _endpoint, options, cli = s3
    import s3fs

    fs = s3fs.S3FileSystem(**options)
    episode = open_dataset(url, storage_options=options).episodes[0]
    key = f"bucket/ds.zarr/episodes/{episode}/zarr.json"
    meta = json.loads(fs.cat_file(key))
    meta["attributes"]["complete"] = False  # as a writer killed before its commit leaves it
    fs.pipe_file(key, json.dumps(meta).encode())
    fs.rm(f"bucket/ds.zarr/episodes/{episode}/frames", recursive=True)
    assert episode not in open_dataset(url, storage_options=options).episodes
    again = check(goalframe("ingest", "vpt", str(raw), "--out", url, *cli, env=NO_LOOKUPS))
    assert "1 written, 1 skipped" in again.stdout, again.stdout
    ds = open_dataset(url, storage_options=options)
    assert episode in ds.episodes
    assert ds.read_frames(episode, 0, ds.length(episode)).shape[0] == ds.length(episode)


def test_a_prefix_holding_other_things_is_refused_untouched(s3, raw):
    _endpoint, options, cli = s3
    import s3fs

    fs = s3fs.S3FileSystem(**options)
    fs.pipe_file("bucket/mine/notes.txt", b"mine")
    result = goalframe("ingest", "vpt", str(raw), "--out", "s3://bucket/mine", *cli, env=NO_LOOKUPS)
    assert result.returncode == 2
    assert "not a goalframe dataset" in result.stderr
    assert fs.find("bucket/mine") == ["bucket/mine/notes.txt"]


def test_the_writer_lease_on_s3_refuses_a_second_writer_and_recovers_a_dead_one(built, s3, raw):
    """On S3 the lease is an object created only if absent (If-None-Match): a second writer
    gets one line; the lease of a process that died on this host is taken over."""
    import socket
    import subprocess
    import sys

    import s3fs

    from goalframe.storage.lease import dataset_lease
    from goalframe.storage.store import LEASE_NAME

    _local, url = built
    _endpoint, options, cli = s3
    fs = s3fs.S3FileSystem(**options)
    lease = f"bucket/ds.zarr/{LEASE_NAME}"
    with dataset_lease(url, "holder test", options):
        refused = goalframe("ingest", "vpt", str(raw), "--out", url, *cli, env=NO_LOOKUPS)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
        assert f"is in use by pid {os.getpid()}" in refused.stderr and "(holder test)" in refused.stderr
    assert not fs.exists(lease)  # released
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    record = {
        "pid": int(dead),
        "host": socket.gethostname(),
        "command": "ingest vpt",
        "started": "2026-01-01T00:00:00+00:00",
        "token": "x",
    }
    fs.pipe_file(lease, json.dumps(record).encode())  # as a run killed with SIGKILL leaves it
    again = check(goalframe("ingest", "vpt", str(raw), "--out", url, *cli, env=NO_LOOKUPS))
    assert "2 skipped" in again.stdout, again.stdout
    fs.invalidate_cache()
    assert not fs.exists(lease)


def test_storage_options_parse_nested_and_typed_values():
    from goalframe.toolkit.common import parse_storage_options

    parsed = parse_storage_options(
        [
            "key=0123",
            "anon=false",
            "client_kwargs.region_name=eu-west-1",
            'config_kwargs.retries={"max_attempts": 2}',
        ]
    )
    assert parsed == {
        "key": "0123",
        "anon": False,
        "client_kwargs": {"region_name": "eu-west-1"},
        "config_kwargs": {"retries": {"max_attempts": 2}},
    }
    assert parse_storage_options(None) is None
    result = goalframe("info", "s3://bucket/ds.zarr", "--storage-option", "no-equals-sign")
    assert result.returncode == 2 and "expected KEY=VALUE" in result.stderr


@pytest.mark.timeout(600)
def test_masks_and_a_review_round_trip_on_s3(built, s3, label_studio):
    """Masks written on S3 equal the local ones; a human correction pushed from and pulled
    back to the S3 dataset lands there as a reviewed frame (frames are uploaded: the server
    cannot read s3:// itself)."""
    import numpy as np
    from label_studio_sdk import LabelStudio

    from goalframe.annotators.review_results import mask_result, visibility_result

    local, url = built
    _endpoint, options, cli = s3
    check(goalframe("masks", local, "--window", "12", "--workers", "1"))
    masked = check(goalframe("masks", url, "--window", "12", "--workers", "2", *cli, env=NO_LOOKUPS))
    assert "tracks written" in masked.stdout, masked.stdout
    assert_same_dataset(local, url, None, options)
    tracks = open_dataset(url, storage_options=options).track_ids()
    assert tracks and tracks == open_dataset(local).track_ids()

    env = {**NO_LOOKUPS, "LABEL_STUDIO_API_KEY": label_studio.token}
    episode, track_id = tracks[0]
    review = ["--url", label_studio.url, "--project", "on s3", *cli]
    pushed = check(
        goalframe(
            "review",
            "push",
            url,
            *review,
            "--tracks",
            f"{episode}/{track_id}",
            "--frames-per-track",
            "2",
            env=env,
        )
    )
    assert "2 new tasks" in pushed.stdout and "upload" in pushed.stdout
    ls = LabelStudio(base_url=label_studio.url, api_key=label_studio.token)
    project = next(p.id for p in ls.projects.list(title="on s3") if p.title == "on s3")
    task = sorted(ls.tasks.list(project=project, fields="all"), key=lambda t: t.data["frame"])[-1]
    corrected = np.zeros((360, 640), bool)
    corrected[100:180, 300:420] = True
    ls.annotations.create(id=task.id, result=[mask_result(corrected), visibility_result("visible")])
    pulled = check(goalframe("review", "pull", url, *review, env=env))
    assert "pulled 1 reviewed frames" in pulled.stdout
    ds = open_dataset(url, storage_options=options)
    merged = ds.read_track(episode, track_id)
    frame = task.data["frame"]
    index = merged.row(frame)
    np.testing.assert_array_equal(merged.mask[index], corrected)
    assert merged.visible[index] and list(merged.attrs["reviewed_frames"]) == [frame]
    row = ds.table("tracks").filter(track_id=track_id).row(0, named=True)
    assert row["reviewed"] and row["n_reviewed_frames"] == 1
    assert label_studio.token not in pushed.stdout + pushed.stderr + pulled.stdout + pulled.stderr
