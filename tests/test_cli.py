"""The command line: help with examples, one-line errors, exit codes, summaries."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import vpt_fixtures as fx
from typer.testing import CliRunner

from goalframe.toolkit.cli import app

runner = CliRunner()
COMMANDS = [
    ["synth", "vpt"],
    ["synth", "agibot"],
    ["ingest", "vpt"],
    ["ingest", "agibot"],
    ["events"],
    ["masks"],
    ["build"],
    ["review", "push"],
    ["review", "pull"],
    ["review", "status"],
    ["pairs"],
    ["msth"],
    ["train"],
    ["eval"],
    ["verify"],
    ["info"],
    ["demo"],
]


def goalframe(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "goalframe.toolkit.cli", *args], capture_output=True, text=True
    )


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Examples:" in result.output and "$ goalframe " + command[0] in result.output


def test_ingest_of_a_missing_folder_is_one_line_and_exit_2(tmp_path):
    result = goalframe("ingest", "vpt", str(tmp_path / "nope"), "--out", str(tmp_path / "ds.zarr"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'nope'}: no such file or folder"
    assert not (tmp_path / "ds.zarr").exists()


def test_ingest_into_a_foreign_folder_is_refused(tmp_path):
    fx.write_episode(tmp_path / "raw", n_lines=4)
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"meow")
    result = goalframe("ingest", "vpt", str(tmp_path / "raw"), "--out", str(foreign))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "not a goalframe dataset" in result.stderr
    assert [p.name for p in foreign.iterdir()] == ["cat.jpg"]


def test_a_bad_episode_fails_alone_with_exit_1_and_info_shows_the_rest(tmp_path):
    raw = tmp_path / "raw"
    fx.write_episode(raw, n_lines=5, stem="good-aaaa-20220101-000000")
    bad = fx.write_episode(raw, n_lines=5, stem="bad-bbbb-20220101-000000", malformed_line=3)
    out = tmp_path / "ds.zarr"
    result = goalframe("ingest", "vpt", str(raw), "--out", str(out), "--workers", "1")
    assert result.returncode == 1
    assert f"{bad.jsonl}:3:" in result.stderr
    assert "1 written, 0 skipped (already complete), 1 failed" in result.stdout
    info = goalframe("info", str(out), "--json")
    assert info.returncode == 0
    summary = json.loads(info.stdout)
    assert summary["episodes"] == 1 and summary["frames"] == 5 and summary["cameras"] == ["pov"]
    assert summary["arrays"]["actions/vpt/buttons"]["shape"] == [5, 20]
    assert summary["tables"] == {"manifest": 1}
    rerun = goalframe("ingest", "vpt", str(raw), "--out", str(out), "--json")
    report = json.loads(rerun.stdout)
    assert (report["written"], report["skipped"], report["failed"]) == (0, 1, 1)


def test_info_on_a_non_dataset_is_one_line(tmp_path):
    result = goalframe("info", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {tmp_path}: no goalframe dataset here (no zarr.json)"


def test_build_runs_the_whole_chain_and_verify_passes(tmp_path):
    from goalframe.sim.vpt.synth import synthesize_vpt
    from goalframe.storage import open_dataset

    synthesize_vpt(tmp_path / "raw", episodes=2, seed=5, frames=100, quirk_rate=0.0)
    out = tmp_path / "ds.zarr"
    # 100-frame episodes hold no MSTH horizon of 120 frames (the default): build says so; give one that fits
    result = goalframe(
        "build",
        str(tmp_path / "raw"),
        "--format",
        "vpt",
        "--out",
        str(out),
        "--window",
        "16",
        "--horizon",
        "60",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    ds = open_dataset(out)
    assert {"manifest", "events", "tracks", "pairs", "msth"} <= set(ds.tables)
    assert summary["events"] == ds.table("events").height > 0
    assert summary["masks"]["tracks"] == ds.table("tracks").height > 0
    assert summary["msth"] == ds.table("msth").height == sum(ds.lengths.values())
    assert [s.step for s in ds.info.steps][:2] == ["ingest-vpt", "events"]
    assert goalframe("verify", str(out)).returncode == 0
    bad = goalframe(
        "build",
        str(tmp_path / "raw"),
        "--format",
        "vpt",
        "--out",
        str(tmp_path / "other.zarr"),
        "--near",
        "7",
    )
    assert (
        bad.returncode == 2
        and "multiple of --stride" in bad.stderr
        and not (tmp_path / "other.zarr").exists()
    )
