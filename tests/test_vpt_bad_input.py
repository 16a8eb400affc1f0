"""Every kind of damaged VPT recording, ingested into a dataset that already holds good data.

Each damaged episode is reported with its file and reason; good episodes land; what was
already in the dataset stays byte-identical.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import vpt_fixtures as fx

DAMAGE = {
    "missing-mp4": ({"missing_mp4": True}, ".mp4) is missing"),
    "missing-jsonl": ({"missing_jsonl": True}, ".jsonl"),
    "malformed-middle": ({"malformed_line": 3}, ".jsonl:3:"),
    "frames-off-by-two": ({"n_frames": 8}, "8"),
    "fps-30": ({"fps": 30}, "30"),
    "unreadable-mp4": ({"garbage_mp4": True}, ".mp4"),
}
RECOVERABLE = {
    "truncated-last": ({"truncate_last": True}, "truncated"),
    "non-utf8": ({"bad_utf8_line": 2}, "UTF-8"),
    "bad-window": ({"options": {"windowWidth": "wide"}}, "-options.json: no usable windowWidth/windowHeight"),
}


def goalframe(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "goalframe.toolkit.cli", *args], capture_output=True, text=True
    )


def tree_digest(path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    base = tmp_path_factory.mktemp("bad")
    good, damaged, out = base / "good", base / "damaged", base / "ds.zarr"
    fx.write_episode(good, n_lines=6, stem="good-0000-20220101-000000")
    first = goalframe("ingest", "vpt", str(good), "--out", str(out))
    assert first.returncode == 0, first.stderr
    before = tree_digest(out / "episodes")
    for name, (options, _) in {**DAMAGE, **RECOVERABLE}.items():
        fx.write_episode(damaged, n_lines=6, stem=f"{name}-0000-20220101-000000", **options)
    fx.write_episode(damaged, n_lines=6, stem="fine-0000-20220101-000000")
    second = goalframe("ingest", "vpt", str(damaged), "--out", str(out), "--workers", "2")
    return out, before, second


def test_the_run_fails_as_a_whole_but_good_and_recoverable_episodes_land(results):
    out, _before, second = results
    assert second.returncode == 1
    from goalframe.storage import open_dataset

    ds = open_dataset(out)
    expected = {"good-0000-20220101-000000", "fine-0000-20220101-000000"} | {
        f"{n}-0000-20220101-000000" for n in RECOVERABLE
    }
    assert set(ds.episodes) == expected
    assert ds.length("truncated-last-0000-20220101-000000") == 5, "the truncated last line is dropped"
    for name, (_options, needle) in RECOVERABLE.items():
        assert needle in " ".join(ds.meta(f"{name}-0000-20220101-000000").warnings)


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_each_damaged_episode_is_one_line_naming_its_file(results, name):
    _out, _before, second = results
    lines = [
        line for line in second.stderr.splitlines() if line.startswith("failed ") and f"{name}-0000" in line
    ]
    assert len(lines) == 1, second.stderr
    assert DAMAGE[name][1] in lines[0]


def test_nothing_already_in_the_dataset_changed(results):
    out, before, _second = results

    def good(digest):
        return {k: v for k, v in digest.items() if k.startswith("good-")}

    after = tree_digest(out / "episodes")
    assert good(before) and good(after) == good(before)
