"""Fault injection kept running (issue 15): concurrent writers, flipped table bytes, hostile
episode ids, read-only disks, empty datasets, a flipped chunk byte.

Everything is real: datasets on disk, `goalframe` subprocesses, SIGKILL, flipped bytes, a
read-only bind mount (or read-only modes when not root). Episodes are tiny.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import simple_source
from dataset_compare import check, goalframe

from goalframe.annotators.masks import annotate_masks
from goalframe.schemas.episode import episode_key, is_episode_key
from goalframe.schemas.layout import DatasetError
from goalframe.schemas.tables import EVENTS_SCHEMA, conform
from goalframe.sim.vpt.synth import synthesize_vpt
from goalframe.sources.vpt import safe_episode_id
from goalframe.storage import ingest, open_dataset
from goalframe.storage.lease import DatasetInUse, dataset_lease
from goalframe.storage.store import LEASE_NAME, TableError, create_or_open, read_table, write_table
from goalframe.storage.verify import verify_dataset
from goalframe.storage.writer import ArraysVanished, episode_state, write_episode

FRAMES = 40  # per episode: one shard, a fraction of a second to ingest


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("faults") / "raw"
    synthesize_vpt(out, episodes=2, seed=15, frames=FRAMES, quirk_rate=0.0)
    return out


@pytest.fixture(scope="module")
def built(raw, tmp_path_factory) -> str:
    """An ingested dataset with an events table (tests copy it before damaging it)."""
    out = str(tmp_path_factory.mktemp("faults-built") / "ds.zarr")
    check(goalframe("ingest", "vpt", str(raw), "--out", out, "--workers", "1"))
    check(goalframe("events", out))
    return out


def copy_of(dataset: str, tmp_path: Path) -> str:
    target = tmp_path / "copy.zarr"
    shutil.copytree(dataset, target)
    return str(target)


PROGRESS_LINE = re.compile(r"^\S+.* \d+/\d+ \d+:\d\d:\d\d")  # a progress bar's last state


def one_line_error(result: subprocess.CompletedProcess, code: int = 2) -> str:
    """The command failed with ``code`` and said why in one line (beside its progress bar,
    if one was showing), without a traceback."""
    assert result.returncode == code, (
        f"exit {result.returncode}\nstdout:\n{result.stdout[-2000:]}\nstderr:\n{result.stderr[-2000:]}"
    )
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip() and not PROGRESS_LINE.match(line)]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# ---- 1. one writer per dataset --------------------------------------------------------------


def _start_ingest(raw: Path, out: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "goalframe.toolkit.cli",
            "ingest",
            "vpt",
            str(raw),
            "--out",
            out,
            "--workers",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _assert_sound(out: str, n_episodes: int, successes: int) -> None:
    ds = open_dataset(out)
    assert len(ds.episodes) == n_episodes
    for episode in ds.episodes:
        assert episode_state(ds.root, episode) == "complete", episode
    report = verify_dataset(out, checksums=False)
    assert report.ok, [d.line() for d in report.damage]
    steps = [s for s in ds.info.steps if s.step == "ingest-vpt"]
    assert len(steps) == successes, "a successful run's step record is missing (or a refused run left one)"


@pytest.mark.parametrize("writers,rounds", [(2, 3), (4, 2)])
def test_concurrent_ingests_never_corrupt_the_dataset(raw, tmp_path, writers, rounds):
    """Writers started together (staggered by up to 0.3 s): each one either ingests or is
    refused in one line naming the holder; the dataset ends whole, every step recorded."""
    deadline = time.monotonic() + 150
    rng = random.Random(writers)
    for round_number in range(rounds):
        out = str(tmp_path / f"round{round_number}.zarr")
        runs = []
        for _ in range(writers):
            runs.append(_start_ingest(raw, out))
            time.sleep(rng.uniform(0, 0.3))
        outputs = [run.communicate(timeout=max(deadline - time.monotonic(), 1)) for run in runs]
        successes = 0
        for run, (stdout, stderr) in zip(runs, outputs):
            assert "Traceback" not in stderr, stderr[-2000:]
            if run.returncode == 0:
                successes += 1
                continue
            assert run.returncode == 2, f"exit {run.returncode}: {stderr[-2000:]}"
            assert "is in use by pid" in stderr and "(ingest vpt)" in stderr, stderr
        assert successes >= 1
        _assert_sound(out, 2, successes)
    assert time.monotonic() < deadline


def _hold_lease(dataset: str) -> subprocess.Popen:
    """Another process holding the dataset's lease until killed."""
    code = (
        "import sys, time\nfrom goalframe.storage.lease import dataset_lease\nwith"
        f" dataset_lease({dataset!r}, 'holder test'):\n    print('held', flush=True)\n    time.sleep(120)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_held_lease_refuses_every_writer_and_a_killed_holder_frees_it(built, raw, tmp_path):
    out = copy_of(built, tmp_path)
    holder = _hold_lease(out)
    try:
        for args in (
            ("ingest", "vpt", str(raw), "--out", out),
            ("events", out),
            ("pairs", out),
            ("msth", out, "--horizon", "8", "--near", "4", "--stride", "2", "--distal", "2"),
        ):
            line = one_line_error(goalframe(*args))
            assert f"is in use by pid {holder.pid}" in line and "(holder test)" in line, line
        with pytest.raises(DatasetInUse):  # the Python API too
            ingest(out, [], simple_source.read, "simple")
        with pytest.raises(DatasetInUse):  # (these tiny episodes have no events for the masks command)
            annotate_masks(out, events=conform([], EVENTS_SCHEMA))
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert holder.returncode == -signal.SIGKILL
    result = check(goalframe("ingest", "vpt", str(raw), "--out", out, "--json"))
    assert json.loads(result.stdout)["skipped"] == 2
    check(goalframe("events", out))


def test_an_ingest_killed_mid_run_leaves_no_lease_behind(raw, tmp_path):
    out = str(tmp_path / "killed.zarr")
    run = _start_ingest(raw, out)
    lease = Path(out) / LEASE_NAME
    deadline = time.monotonic() + 60
    while (
        not (lease.exists() and lease.stat().st_size) and run.poll() is None and time.monotonic() < deadline
    ):
        time.sleep(0.005)
    run.send_signal(signal.SIGKILL)
    run.communicate()
    result = check(goalframe("ingest", "vpt", str(raw), "--out", out, "--json"))
    assert json.loads(result.stdout)["failed"] == 0
    _assert_sound(out, 2, 1 + (run.returncode == 0))


def test_a_complete_episode_that_lost_arrays_is_rewritten(built, raw, tmp_path):
    out = copy_of(built, tmp_path)
    episode = open_dataset(out).episodes[0]
    for name in ("frames/pov", "timestamps", "actions/mouse/dx"):  # what a second writer once deleted
        shutil.rmtree(Path(out) / "episodes" / episode / name)
    assert episode_state(open_dataset(out).root, episode) == "partial"
    result = check(goalframe("ingest", "vpt", str(raw), "--out", out, "--json"))
    by_id = {r["episode_id"]: r["status"] for r in json.loads(result.stdout)["episodes"]}
    assert by_id[episode] == "written" and list(by_id.values()).count("skipped") == 1
    report = verify_dataset(out, checksums=False)
    assert report.ok, [d.line() for d in report.damage]


def test_a_metadata_write_killed_before_its_rename_is_no_episode_and_ingest_removes_it(built, raw, tmp_path):
    # zarr's local store writes zarr.json to a temporary name and renames it: a kill -9 in
    # between left episodes/zarr.<hex>.partial, which verify took for an incomplete episode
    out = copy_of(built, tmp_path)
    orphans = [Path(out) / "zarr.0123456789abcdef0123456789abcdef.partial"]
    orphans.append(Path(out) / "episodes" / "zarr.fedcba9876543210fedcba9876543210.partial")
    for orphan in orphans:
        orphan.write_text('{"zarr_format": 3, "node_type": "gr')  # cut off mid-write
    report = verify_dataset(out, checksums=False)
    assert report.ok and not report.notes, (report.notes, [d.line() for d in report.damage])
    assert len(open_dataset(out).episodes) == 2
    check(goalframe("ingest", "vpt", str(raw), "--out", out))
    assert not any(orphan.exists() for orphan in orphans)
    assert (Path(out) / "episodes" / "zarr.json").exists()


def test_complete_is_never_set_when_listed_arrays_vanished(tmp_path):
    ref = simple_source.write_simple_episode(tmp_path / "raw", "ep0", 0, 12)
    root = create_or_open(str(tmp_path / "ds.zarr"))

    def second_writer_deletes(_frames: int) -> None:
        shutil.rmtree(tmp_path / "ds.zarr" / "episodes" / "ep0" / "frames" / "main")

    with pytest.raises(ArraysVanished):
        write_episode(root, simple_source.read(ref), on_frames=second_writer_deletes)
    assert episode_state(root, "ep0") == "absent"


# ---- 2. tables carry a checksum -------------------------------------------------------------


def _flip(path: Path, position: int) -> bytes:
    data = path.read_bytes()
    damaged = bytearray(data)
    damaged[position] ^= 0xFF
    path.write_bytes(bytes(damaged))
    return data


def test_every_flipped_table_byte_is_caught_before_parsing(built, tmp_path):
    out = copy_of(built, tmp_path)
    path = Path(out) / "tables" / "events.parquet"
    size = path.stat().st_size
    positions = sorted(
        {0, 3, size // 4, size // 2, 3 * size // 4, size - 9, size - 8, size - 7, size - 5, size - 1}
    )
    for position in positions:
        original = _flip(path, position)
        with pytest.raises(TableError, match=r"events\.parquet: checksum mismatch"):
            read_table(out, "events")
        path.write_bytes(original)
    assert read_table(out, "events") is not None


def test_commands_name_a_damaged_table_in_one_line(built, tmp_path):
    out = copy_of(built, tmp_path)
    path = Path(out) / "tables" / "events.parquet"
    _flip(path, path.stat().st_size - 8)  # the footer length: readers once asked for exabytes
    result = goalframe("verify", out)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert (
        "tables/events.parquet" in result.stdout + result.stderr
        and "checksum mismatch" in result.stdout + result.stderr
    )
    for args in (("info", out), ("masks", out)):
        line = one_line_error(goalframe(*args))
        assert "events.parquet: checksum mismatch" in line, line


def test_a_table_without_a_checksum_record_still_fails_in_one_line(built, tmp_path):
    out = copy_of(built, tmp_path)
    path = Path(out) / "tables" / "events.parquet"
    Path(f"{path}.sha256").unlink()  # as written before checksums were kept
    _flip(path, path.stat().st_size - 2)  # the closing magic bytes
    with pytest.raises(TableError, match=r"events\.parquet: unreadable parquet"):
        read_table(out, "events")
    report = verify_dataset(out, checksums=False)
    assert [d.where for d in report.damage] == ["tables/events.parquet"]
    assert not any("events.parquet" in note for note in report.notes)  # unreadable: damage, not a note
    Path(f"{Path(out) / 'tables' / 'manifest.parquet'}.sha256").unlink()
    assert any(
        "manifest.parquet: no checksum recorded" in note
        for note in verify_dataset(out, checksums=False).notes
    )


def test_rewriting_a_table_keeps_it_verified(built, tmp_path):
    out = copy_of(built, tmp_path)
    check(goalframe("events", out, "--min-gap", "3"))
    assert verify_dataset(out, checksums=False).ok


# ---- 4. one episode-id rule for every format ------------------------------------------------

HOSTILE_IDS = [
    "a b",
    "a;b",
    "a~b",
    "ünï",
    "a,b",
    "a:b",
    "a/b",
    "..",
    "../up",
    "__zarr",
    "zarr.json",
    "x" * 300,
]


def test_hostile_episode_ids_become_distinct_safe_keys(tmp_path):
    refs = []
    for index, raw_id in enumerate(HOSTILE_IDS):
        ref = simple_source.write_simple_episode(tmp_path / "raw", f"ep{index}", index, 6)
        refs.append(simple_source.SimpleRef(raw_id, ref.mp4, ref.actions))
    out = str(tmp_path / "ds.zarr")
    report = ingest(out, refs, simple_source.read, "simple")
    assert report.count("written") == len(HOSTILE_IDS), report.summary()["errors"]
    ds = open_dataset(out)
    assert len(ds.episodes) == len(HOSTILE_IDS)
    assert all(is_episode_key(key) for key in ds.episodes)
    assert {ds.meta(key).raw_episode_id for key in ds.episodes} == set(HOSTILE_IDS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds.zarr", "raw"]  # nothing escaped the dataset
    assert verify_dataset(out, checksums=False).ok
    assert ingest(out, refs, simple_source.read, "simple").count("skipped") == len(HOSTILE_IDS)


def test_a_key_taken_by_another_raw_id_is_refused_not_overwritten(tmp_path):
    ref = simple_source.write_simple_episode(tmp_path / "raw", "ep0", 0, 6)
    other = simple_source.write_simple_episode(tmp_path / "raw", "ep1", 1, 6)
    out = str(tmp_path / "ds.zarr")
    ingest(out, [simple_source.SimpleRef("x y", ref.mp4, ref.actions)], simple_source.read, "simple")
    taken = episode_key("x y")
    impostor = simple_source.SimpleRef(taken, other.mp4, other.actions)  # a clean id equal to that key
    twice = simple_source.SimpleRef("z", other.mp4, other.actions)
    report = ingest(out, [impostor, twice, twice], simple_source.read, "simple")
    errors = " | ".join(report.summary()["errors"])
    assert report.count("failed") == 2 and "holds episode 'x y'" in errors and "same id" in errors, errors
    assert open_dataset(out).meta(taken).raw_episode_id == "x y"


def test_vpt_keys_are_unchanged_by_the_rule():
    # ("..." is left out: VPT makes it "___", a name zarr reserves, which the rule re-keys)
    for stem in ["cheeky-cornflower-setter-02e496ce4abb-20220421-092639", "a b", "__x", "ü", "a..b", "x;y~z"]:
        vpt_id = safe_episode_id(stem)
        assert episode_key(vpt_id) == vpt_id, stem


# ---- 5. read-only datasets and folders ------------------------------------------------------


def _read_only(path: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the CLI with ``path`` read-only: a private read-only bind mount (root), modes otherwise."""
    command = [sys.executable, "-m", "goalframe.toolkit.cli", *args]
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [path, *path.rglob("*")]}
        for p in modes:
            p.chmod(modes[p] & ~0o222)
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=120)
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
    script = 'mount --bind -o ro "$0" "$0" && exec "$@"'
    probe = (
        subprocess.run(
            ["unshare", "-m", "sh", "-c", script, str(path), "touch", str(path / "probe")],
            capture_output=True,
            text=True,
        )
        if shutil.which("unshare")
        else None
    )
    if probe is None or "Read-only file system" not in probe.stderr:
        pytest.skip(
            "root, and no private read-only bind mount here:"
            f" {probe.stderr.strip() if probe else 'no unshare'}"
        )
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script, str(path), *command],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_read_only_dataset_and_parent_give_one_line(built, raw, tmp_path):
    out = copy_of(built, tmp_path)
    for args in (
        ("ingest", "vpt", str(raw), "--out", out),
        ("events", out),
        ("msth", out, "--horizon", "8", "--near", "4", "--stride", "2", "--distal", "2"),
    ):
        line = one_line_error(_read_only(Path(out), *args))
        assert "cannot write here" in line and "copy.zarr" in line, line
    parent = tmp_path / "parent"
    parent.mkdir()
    line = one_line_error(_read_only(parent, "ingest", "vpt", str(raw), "--out", str(parent / "new.zarr")))
    assert "cannot write here" in line and "new.zarr" in line, line


# ---- 11. empty datasets ---------------------------------------------------------------------


def test_steps_on_an_empty_dataset_say_so_and_fail(tmp_path):
    out = str(tmp_path / "empty.zarr")
    create_or_open(out)
    for args in (
        ("events", out),
        ("msth", out, "--horizon", "8", "--near", "4", "--stride", "2", "--distal", "2"),
    ):
        line = one_line_error(goalframe(*args))
        assert "no complete episodes" in line, line
    write_table(out, "events", conform([], EVENTS_SCHEMA))
    line = one_line_error(goalframe("masks", out))
    assert "no events" in line, line


# ---- 12. a flipped chunk byte names its episode and array -----------------------------------


def test_a_flipped_chunk_byte_names_episode_and_array(built, tmp_path):
    out = copy_of(built, tmp_path)
    episode = open_dataset(out).episodes[0]
    chunk = Path(out) / "episodes" / episode / "states" / "stats" / "value" / "c" / "0"
    _flip(chunk, chunk.stat().st_size // 2)
    with pytest.raises(
        DatasetError,
        match=rf"episode '{episode}' array 'states/stats/value' all rows: CRC32C checksum mismatch",
    ):
        open_dataset(out).array(episode, "states/stats/value")
    line = one_line_error(goalframe("events", out))
    assert episode in line and "states/stats/value" in line and "CRC32C" in line, line


def test_lease_is_reentrant_within_a_process(tmp_path):
    out = str(tmp_path / "ds.zarr")
    create_or_open(out)
    with dataset_lease(out, "outer"), dataset_lease(out, "inner"):
        holder = json.loads((Path(out) / LEASE_NAME).read_text())
        assert holder["pid"] == os.getpid() and holder["command"] == "outer"
    assert (Path(out) / LEASE_NAME).read_text() == ""  # released: nobody holds it


def test_a_flipped_mask_byte_names_episode_and_track(built, tmp_path):
    import numpy as np

    from goalframe.storage.masks import MaskTrack, write_track
    from goalframe.storage.store import open_root

    out = copy_of(built, tmp_path)
    episode = open_dataset(out).episodes[0]
    masks = np.zeros((4, 16, 16), bool)
    masks[:, 4:9, 3:12] = True
    write_track(
        open_root(out, "r+"),
        episode,
        "0.pov.test",
        MaskTrack.from_masks(range(4), masks),
        {"event_id": f"{episode}:0"},
    )
    assert open_dataset(out).read_track(episode, "0.pov.test").mask.sum() == masks.sum()
    chunk = Path(out) / "masks" / episode / "0.pov.test" / "mask" / "c" / "0" / "0" / "0"
    _flip(chunk, chunk.stat().st_size // 2)
    with pytest.raises(DatasetError, match=rf"episode '{episode}' mask track '0.pov.test': "):
        open_dataset(out).read_track(episode, "0.pov.test")
