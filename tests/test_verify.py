"""`goalframe verify`: every kind of damage to chunk files, metadata and tables is found and named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import vpt_fixtures as fx
from dataset_compare import check, goalframe

from goalframe.storage.store import write_table
from goalframe.storage.verify import RAW_ABSENT, verify_dataset

STEMS = ("alpha-0000-20220101-000000", "beta-0000-20220101-000000")
N_LINES = 140  # three frame shards: 0-63, 64-127, 128-139


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("verify")
    raw = base / "raw"
    for stem in STEMS:
        fx.write_episode(raw, n_lines=N_LINES, stem=stem)
    out = base / "ds.zarr"
    # JPEG: one frame per chunk, so each damage below lands in a known frame (video chunks:
    # tests/test_video_reader.py, test_faults.py)
    check(goalframe("ingest", "vpt", str(raw), "--out", str(out), "--workers", "1", "--codec", "jpeg"))
    return raw, out


@pytest.fixture
def copy(built, tmp_path) -> Path:
    _raw, out = built
    target = tmp_path / "ds.zarr"
    shutil.copytree(out, target)
    return target


def episode_dir(ds: Path, stem: str = STEMS[0]) -> Path:
    return ds / "episodes" / stem


def shard(ds: Path, index: int = 1) -> Path:
    return episode_dir(ds) / "frames" / "pov" / "c" / str(index) / "0" / "0" / "0"


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xA5
    path.write_bytes(bytes(data))


def chunk_offset(path: Path, chunk: int, n_chunks: int = 64) -> int:
    """Middle of inner chunk ``chunk`` of a shard (index at the end: offset, nbytes per chunk, crc)."""
    data = path.read_bytes()
    index = np.frombuffer(data[-(16 * n_chunks + 4) : -4], dtype="<u8").reshape(-1, 2)
    offset, nbytes = index[chunk]
    return int(offset + nbytes // 2)


def only_damage(ds: Path):
    report = verify_dataset(str(ds))
    assert not report.ok
    return report.damage


def test_an_intact_dataset_verifies_clean(built):
    _raw, out = built
    result = check(goalframe("verify", str(out)))
    assert (
        ": OK;" in result.stdout and "2 episodes" in result.stdout and "280 frames decoded" in result.stdout
    )
    assert "raw checksums: 2 ok" in result.stdout
    report = json.loads(check(goalframe("verify", str(out), "--json", "--workers", "2")).stdout)
    assert report["ok"] and report["damage"] == 0 and report["checksums"] == {"ok": 2}
    assert report["chunks"] > 2 * 3 and report["frames"] == 2 * N_LINES


# (how to damage the copy, kind, array, where) -- each must be found and named.
def truncate_shard(ds: Path) -> None:
    path = shard(ds)
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def flip_byte_in_frame_70(ds: Path) -> None:
    flip(shard(ds), chunk_offset(shard(ds), 70 - 64))


def delete_shard(ds: Path) -> None:
    shard(ds, 2).unlink()


def empty_shard(ds: Path) -> None:
    shard(ds).write_bytes(b"")


def flip_shard_index(ds: Path) -> None:
    flip(shard(ds), shard(ds).stat().st_size - 20)


def flip_numeric_chunk(ds: Path) -> None:
    path = episode_dir(ds) / "states" / "yaw" / "c" / "0"
    flip(path, path.stat().st_size // 2)


def truncate_numeric_chunk(ds: Path) -> None:
    path = episode_dir(ds) / "actions" / "mouse" / "dx" / "c" / "0"
    path.write_bytes(path.read_bytes()[:10])


def delete_all_false_chunk(ds: Path) -> None:
    # Every fixture line has isGuiOpen false: a chunk zarr would skip, stored on purpose.
    (episode_dir(ds) / "states" / "gui" / "open" / "c" / "0").unlink()


def delete_array_metadata(ds: Path) -> None:
    (episode_dir(ds) / "states" / "pitch" / "zarr.json").unlink()


DAMAGE = {
    "truncate-shard": (truncate_shard, "chunk", "frames/pov", "frames 64-127"),
    "flip-byte-in-frame": (flip_byte_in_frame_70, "chunk", "frames/pov", "frames 70"),
    "delete-shard": (delete_shard, "missing-chunk", "frames/pov", "frames 128-139"),
    "empty-shard": (empty_shard, "chunk", "frames/pov", "frames 64-127"),
    "flip-shard-index": (flip_shard_index, "chunk", "frames/pov", "frames 64-127"),
    "flip-numeric-chunk": (flip_numeric_chunk, "chunk", "states/yaw", "rows 0-139"),
    "truncate-numeric-chunk": (truncate_numeric_chunk, "chunk", "actions/mouse/dx", "rows 0-139"),
    "delete-all-false-chunk": (delete_all_false_chunk, "missing-chunk", "states/gui/open", "rows 0-139"),
    "delete-array-metadata": (delete_array_metadata, "missing-array", "states/pitch", None),
}


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_each_damage_is_found_with_its_episode_and_array(copy, name):
    damage_fn, kind, array, where = DAMAGE[name]
    damage_fn(copy)
    found = only_damage(copy)
    assert len(found) == 1, [d.line() for d in found]
    (damage,) = found
    assert (damage.kind, damage.episode, damage.array) == (kind, STEMS[0], array), damage.line()
    if where:
        assert damage.where == where, damage.line()


def test_the_command_names_each_damage_on_one_line_and_exits_1(copy):
    truncate_shard(copy)
    flip_numeric_chunk(copy)
    result = goalframe("verify", str(copy))
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("damage ")]
    assert len(lines) == 2, result.stderr
    assert any(f"{STEMS[0]} frames/pov frames 64-127" in line for line in lines)
    assert any(f"{STEMS[0]} states/yaw rows 0-139" in line for line in lines)
    assert "2 damaged" in result.stdout
    report = json.loads(goalframe("verify", str(copy), "--json").stdout)
    assert not report["ok"] and {d["array"] for d in report["damage_found"]} == {"frames/pov", "states/yaw"}


def test_tables_must_agree_with_the_episodes(copy):
    manifest = pl.read_parquet(copy / "tables" / "manifest.parquet")
    write_table(
        str(copy),
        "manifest",
        manifest.filter(pl.col("episode_id") == STEMS[0]).with_columns(n_frames=pl.lit(5, pl.Int64)),
    )
    events = pl.DataFrame(
        {
            "event_id": ["x:0", "y:0"],
            "episode_id": [STEMS[1], "ghost"],
            "frame": [N_LINES + 3, 1],
            "end_frame": [N_LINES + 4, 2],
        }
    )
    write_table(str(copy), "events", events)
    lines = [d.line() for d in only_damage(copy)]
    assert any(STEMS[1] in line and "missing from the manifest" in line for line in lines), lines
    assert any(STEMS[0] in line and "n_frames 5" in line for line in lines), lines
    assert any(STEMS[1] in line and f"frame {N_LINES + 3} outside" in line for line in lines), lines
    assert any(STEMS[1] in line and f"end_frame {N_LINES + 4} outside" in line for line in lines), lines
    assert any("'ghost'" in line and "not a complete episode" in line for line in lines), lines


def test_raw_checksums_mismatch_is_damage_and_absent_raw_is_said(built, copy, tmp_path):
    raw, _out = built
    moved = tmp_path / "raw-moved"
    shutil.copytree(raw, moved)
    try:
        jsonl = next(raw.rglob(f"{STEMS[1]}.jsonl"))
        jsonl.write_bytes(jsonl.read_bytes() + b"\n")
        damage = only_damage(copy)
        assert [(d.kind, d.episode) for d in damage] == [("checksum", STEMS[1])]
        for path in raw.rglob("*"):
            if path.is_file():
                path.unlink()
        report = verify_dataset(str(copy))
        assert report.ok and report.checksum_counts() == {RAW_ABSENT: 2}
        result = check(goalframe("verify", str(copy)))
        assert "raw checksums: 2 raw files absent" in result.stdout
    finally:
        shutil.rmtree(raw)
        shutil.copytree(moved, raw)


def test_incomplete_episodes_are_notes_not_damage(copy):
    meta_path = episode_dir(copy) / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["attributes"]["complete"] = False
    meta_path.write_text(json.dumps(meta))
    report = verify_dataset(str(copy))
    # The manifest still lists it: that is damage (re-running ingest rebuilds it); the
    # partial episode itself is a note.
    assert [d.kind for d in report.damage] == ["table"]
    assert any(STEMS[0] in note and "incomplete" in note for note in report.notes)


def test_not_a_dataset_is_a_one_line_error(tmp_path):
    result = goalframe("verify", str(tmp_path / "nothing.zarr"))
    assert result.returncode == 2 and "no goalframe dataset" in result.stderr
