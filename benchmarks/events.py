"""Event extraction: quality against the generators' truth, and speed.

    python benchmarks/events.py --episodes 100 --frames 120      # VPT and AgiBot

VPT: precision and recall per event type (an event matches a true one with the same
frame and stat name). AgiBot: grasp/release frame error against the true frames, and how
often the head-camera prompt point lies on the grasped object's true mask. Speed:
events/s and episodes/s of `extract_events` on the ingested datasets (the ingest itself
is not timed here; see benchmarks/ingest.py).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import polars as pl

from goalframe import pipeline
from goalframe.annotators import extract_events
from goalframe.sources.registry import get_format


def build(fmt: str, work: Path, episodes: int, seed: int, workers: int, **options) -> tuple[Path, str]:
    source = get_format(fmt)
    raw = work / f"raw-{fmt}"
    source.synthesize(raw, episodes=episodes, seed=seed, **options)
    dataset = str(work / f"{fmt}.zarr")
    ingested = pipeline.build(raw, dataset, fmt, ["ingest"], workers=workers)["ingest"]
    assert not ingested["failed"], ingested["errors"]
    return raw, dataset


def timed_extract(dataset: str, workers: int) -> tuple[pl.DataFrame, float]:
    started = time.perf_counter()
    table, _warnings = extract_events(dataset, workers=workers)
    return table, time.perf_counter() - started


def vpt_quality(raw: Path, table: pl.DataFrame) -> dict:
    found = defaultdict(set)
    for row in table.iter_rows(named=True):
        found[row["kind"]].add((row["episode_id"], row["frame"], row["name"]))
    truth = defaultdict(set)
    for path in sorted((raw / "truth").glob("*.json")):
        record = json.loads(path.read_text())
        for event in record["events"]:
            truth[event["type"]].add((record["stem"], event["frame"], event["stat"]))
    per_type = {}
    for kind in sorted(set(found) | set(truth)):
        hits = len(found[kind] & truth[kind])
        per_type[kind] = {
            "true": len(truth[kind]),
            "found": len(found[kind]),
            "precision": round(hits / len(found[kind]), 4) if found[kind] else None,
            "recall": round(hits / len(truth[kind]), 4) if truth[kind] else None,
        }
    return per_type


def agibot_quality(raw: Path, table: pl.DataFrame) -> dict:
    errors, on_object, grasps = [], 0, 0
    for path in sorted((raw / "truth").glob("*.json")):
        record = json.loads(path.read_text())
        episode = path.stem
        masks = np.load(path.with_suffix(".npz"))["masks_head_color"]
        rows = table.filter(
            (pl.col("episode_id") == episode)
            & pl.col("kind").is_in(["grasp", "release"])
            & (pl.col("camera") == "head_color")
        )
        for event in record["events"]:
            same = rows.filter((pl.col("kind") == event["kind"]) & (pl.col("arm") == event["arm"]))
            if same.is_empty():
                errors.append(None)
                continue
            nearest = same.row(int(np.argmin(np.abs(same["frame"].to_numpy() - event["frame"]))), named=True)
            errors.append(nearest["frame"] - event["frame"])
            if event["kind"] == "grasp":
                grasps += 1
                if nearest["prompt_visible"]:
                    r, c = int(round(nearest["prompt_row"])), int(round(nearest["prompt_col"]))
                    on_object += int(masks[nearest["frame"], r, c] == event["object_id"])
    matched = [e for e in errors if e is not None]
    return {
        "true_events": len(errors),
        "missed": errors.count(None),
        "within_2_frames": round(sum(abs(e) <= 2 for e in matched) / max(len(errors), 1), 4),
        "frame_error_histogram": {str(k): matched.count(k) for k in sorted(set(matched))},
        "prompt_on_object_rate": round(on_object / max(grasps, 1), 4),
        "found_grasp_release_rows_head": int(
            table.filter(
                pl.col("kind").is_in(["grasp", "release"]) & (pl.col("camera") == "head_color")
            ).height
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--frames", type=int, default=120, help="VPT ticks per episode")
    parser.add_argument("--agibot-episodes", type=int, default=None, help="default: --episodes // 4")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "events.json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="goalframe-bench-events-"))
    results = {}
    try:
        raw, dataset = build("vpt", work, args.episodes, args.seed, args.workers, frames=args.frames)
        table, seconds = timed_extract(dataset, args.workers)
        results["vpt"] = {
            "episodes": args.episodes,
            "events": table.height,
            "seconds": round(seconds, 3),
            "events_per_s": round(table.height / seconds, 1),
            "episodes_per_s": round(args.episodes / seconds, 1),
            "per_type": vpt_quality(raw, table),
        }
        n_agibot = args.agibot_episodes or max(1, args.episodes // 4)
        raw, dataset = build("agibot", work, n_agibot, args.seed, args.workers)
        table, seconds = timed_extract(dataset, args.workers)
        results["agibot"] = {
            "episodes": n_agibot,
            "events": table.height,
            "seconds": round(seconds, 3),
            "events_per_s": round(table.height / seconds, 1),
            "episodes_per_s": round(n_agibot / seconds, 1),
            **agibot_quality(raw, table),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for fmt, r in results.items():
        print(
            f"{fmt}: {r['episodes']} episodes, {r['events']} events in {r['seconds']} s "
            f"({r['events_per_s']} events/s, {r['episodes_per_s']} episodes/s)"
        )
    for kind, q in results["vpt"]["per_type"].items():
        print(
            f"  vpt {kind:12s} true {q['true']:4d} found {q['found']:4d} precision {q['precision']} recall"
            f" {q['recall']}"
        )
    a = results["agibot"]
    print(
        f"  agibot grasp/release within 2 frames: {a['within_2_frames']:.2%} (missed {a['missed']}), "
        f"errors {a['frame_error_histogram']}; head prompt on object: {a['prompt_on_object_rate']:.2%}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"  -> {args.out}")


if __name__ == "__main__":
    main()
