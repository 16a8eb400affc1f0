"""Mask annotators: quality against the generators' truth masks, and speed.

    python benchmarks/masks.py                          # VPT and AgiBot, classical + tiny SAM
    python benchmarks/masks.py --vpt-episodes 8 --agibot-episodes 4 --window 128

Quality, per source and object type, on the frames where the true object is visible:
mean IoU (a frame the track calls not visible counts 0), mean centroid error in pixels
(frames where both are visible), and visibility F1 over every frame of every window.
Groups: per source, object type and event kind (``vpt/kind:pickup``). Only events whose
prompt point lies on their true object are scored (a VPT pickup's or drop's object is the
floating item entity; eating has none). Every track goes through the masks step's
plausibility check (``annotators/plausibility.py``); its effect is measured on the VPT
events in the same run (``plausibility``): the same windows annotated without the check and
with it, the scored quality per kind, and per kind how many tracks are confident and wrong
(a frame whose mask covers more than ``MAX_AREA`` of the frame at a score over 0.5; for
an event whose prompt misses its true object, visible on the event frame; for a pickup or
drop, any frame visible at a score over 0.5 whose mask misses the true item). Speed: annotated
frames per second of the whole `annotate_masks` step (read, annotate, write) on this machine, and of the
annotators alone; the tiny randomly initialised SAM (the tests' model) with keyframes
every K = 1, 5, 10 frames, its speed-up and how far its masks move from K = 1 (IoU).
Where CUDA is present, real ViT-B throughput (random weights: speed does not depend on
them) is measured too. The classical annotator's settings were tuned on the seed-0 worlds,
so its VPT quality is also measured on held-out worlds (seeds 1-3 by default), annotator
alone. Mined blocks are placed on earlier frames by the recorded camera poses; the same
events tracked by optical flow instead (``--no-poses``) are the baseline, measured in the
same run. Results go to benchmarks/results/masks.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from goalframe import pipeline
from goalframe.annotators.plausibility import MAX_AREA, check_track
from goalframe.annotators.vpt_items import track_for_event
from goalframe.annotators.vpt_targets import static_target
from goalframe.media.images import iou
from goalframe.sources.registry import get_format
from goalframe.storage import open_dataset


def built(fmt: str, work: Path, episodes: int, seed: int, **options) -> tuple[Path, str]:
    """``build``, or what an earlier run built in ``work`` (its events table is written last)."""
    if (work / f"{fmt}.zarr" / "tables" / "events.parquet").exists():
        return work / f"raw-{fmt}", str(work / f"{fmt}.zarr")
    return build(fmt, work, episodes, seed, **options)


def build(fmt: str, work: Path, episodes: int, seed: int, workers: int = 1, **options) -> tuple[Path, str]:
    """Generate raw recordings with truth, ingest them and extract events."""
    source = get_format(fmt)
    raw = work / f"raw-{fmt}"
    source.synthesize(raw, episodes=episodes, seed=seed, **options)
    dataset = str(work / f"{fmt}.zarr")
    ingested = pipeline.build(raw, dataset, fmt, ["ingest", "events"], workers=workers)["ingest"]
    assert not ingested["failed"], ingested["errors"]
    return raw, dataset


# ---- truth -------------------------------------------------------------------------

#: Event kinds whose object is an item entity (VPT worlds built with ``item_entities``): they are
#: scored apart (source ``vpt_items``), so that the other kinds' figures stay comparable.
ITEM_KINDS = ("pickup", "drop")


def group_source(source: str, kind: str) -> str:
    return f"{source}_items" if kind in ITEM_KINDS else source


class Truth:
    """The generators' truth: which object each event row targets, and its true masks."""

    def __init__(self, raw: Path, fmt: str):
        self.raw, self.fmt = Path(raw), fmt
        self._json: dict[str, dict] = {}
        self._npz: dict[str, Any] = {}

    def record(self, episode: str) -> dict:
        if episode not in self._json:
            self._json[episode] = json.loads((self.raw / "truth" / f"{episode}.json").read_text())
        return self._json[episode]

    def ids(self, episode: str, camera: str) -> np.ndarray:
        key = f"{episode}/{camera}"
        if key not in self._npz:
            self._npz = {}  # one episode's ids at a time (they are large)
            data = np.load(self.raw / "truth" / f"{episode}.npz")
            self._npz[key] = data["object_ids" if self.fmt == "vpt" else f"masks_{camera}"]
        return self._npz[key]

    def target(self, row: dict) -> tuple[int, str] | None:
        """(object id, object type) that an events row targets, or None when the truth has none."""
        record = self.record(row["episode_id"])
        if self.fmt == "vpt":
            for event in record["events"]:
                if event["frame"] == row["frame"] and event["stat"] == row["name"] and event["object_id"]:
                    info = next((o for o in record["objects"] if o["id"] == event["object_id"]), {})
                    kind = info.get("kind", "gui")
                    return int(event["object_id"]), (
                        f"{kind}:{info.get('type', event['object'])}" if kind != "gui" else "gui"
                    )
            return None
        events = [e for e in record["events"] if e["arm"] == row["arm"]]
        if row["kind"] in ("grasp", "release"):
            same = [e for e in events if e["kind"] == row["kind"]]
            if not same:
                return None
            event = min(same, key=lambda e: abs(e["frame"] - row["frame"]))
            return int(event["object_id"]), event["object_type"].split()[-1]
        grasps = [e for e in events if e["kind"] == "grasp" and row["frame"] <= e["frame"] < row["end_frame"]]
        if not grasps:  # held through the segment's start
            grasps = [e for e in events if e["kind"] == "grasp" and e["frame"] < row["frame"]][-1:]
        return (int(grasps[0]["object_id"]), grasps[0]["object_type"].split()[-1]) if grasps else None

    def masks(self, episode: str, camera: str, start: int, stop: int, object_id: int) -> np.ndarray:
        return self.ids(episode, camera)[start:stop] == object_id


def score_track(masks: np.ndarray, visible: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    """Per-window tallies: IoU on true-visible frames, centroid errors, visibility counts."""
    true_visible = truth.reshape(len(truth), -1).any(1)
    ious, errors = [], []
    for m, v, t, tv in zip(masks, visible, truth, true_visible):
        if tv:
            if v:
                union = np.count_nonzero(m | t)
                ious.append(np.count_nonzero(m & t) / union)
                pr, pc = np.nonzero(m)
                tr, tc = np.nonzero(t)
                errors.append(float(np.hypot(pr.mean() - tr.mean(), pc.mean() - tc.mean())))
            else:
                ious.append(0.0)
    return {
        "ious": ious,
        "centroid_errors": errors,
        "tp": int(np.sum(visible & true_visible)),
        "fp": int(np.sum(visible & ~true_visible)),
        "fn": int(np.sum(~visible & true_visible)),
        "frames": len(masks),
        "event_iou": ious[-1] if true_visible[-1] else None,
    }


def summarize(tallies: list[dict]) -> dict[str, Any]:
    ious = [i for t in tallies for i in t["ious"]]
    errors = [e for t in tallies for e in t["centroid_errors"]]
    tp, fp, fn = (sum(t[k] for t in tallies) for k in ("tp", "fp", "fn"))
    event_ious = [t["event_iou"] for t in tallies if t["event_iou"] is not None]
    return {
        "tracks": len(tallies),
        "frames": sum(t["frames"] for t in tallies),
        "visible_frames": len(ious),
        "mean_iou": round(float(np.mean(ious)), 4) if ious else None,
        "event_frame_iou": round(float(np.mean(event_ious)), 4) if event_ious else None,
        "centroid_error_px": round(float(np.mean(errors)), 2) if errors else None,
        "visibility_f1": round(2 * tp / (2 * tp + fp + fn), 4) if tp + fp + fn else None,
    }


def prompted_events(dataset: str, truth: Truth) -> list[tuple[dict, int | None, str | None, bool]]:
    """(events row, true object id, object type, prompt on it) for every row with a visible prompt
    (id and type None where the truth names no object: eating). A pickup's or drop's item is
    never under the crosshair: "on it" is then whether the item shows on the event frame."""
    ds = open_dataset(dataset)
    rows = []
    for row in ds.table("events").filter(pl.col("prompt_visible")).iter_rows(named=True):
        object_id, kind = truth.target(row) or (None, None)
        r, c = int(round(row["prompt_row"])), int(round(row["prompt_col"]))
        event_ids = truth.ids(row["episode_id"], row["camera"])[row["frame"]]
        if row["kind"] in ITEM_KINDS:
            on_object = object_id is not None and bool((event_ids == object_id).any())
        else:
            on_object = object_id is not None and event_ids[r, c] == object_id
        rows.append((row, object_id, kind, bool(on_object)))
    return rows


def scorable_events(dataset: str, truth: Truth) -> list[tuple[dict, int, str]]:
    """(events row, true object id, object type) for rows with a visible prompt on a true object
    (a prompt that misses its object is an events issue, not scored here)."""
    return [(row, oid, kind) for row, oid, kind, on in prompted_events(dataset, truth) if on]


def evaluate_direct(
    dataset: str,
    truth: Truth,
    annotator,
    window: int,
    limit: int | None = None,
    source: str = "",
    poses: bool = True,
) -> tuple[dict, list[dict], float, int]:
    """Run ``annotator`` on each scorable event's window (no store writes); tallies and timing.
    ``poses``: place static targets (mined blocks) by the recorded camera poses, as the masks step does."""
    ds = open_dataset(dataset)
    tallies, seconds, frames = [], 0.0, 0
    for row, object_id, kind in scorable_events(dataset, truth)[:limit]:
        start = max(0, row["frame"] + 1 - window)
        clip = ds.read_frames(row["episode_id"], start, row["frame"] + 1, row["camera"])
        began = time.perf_counter()
        track = track_for_event(annotator, ds, row, start, clip, poses)
        track = check_track(track, event_kind=row["kind"])  # as the masks step does
        seconds += time.perf_counter() - began
        frames += len(clip)
        tally = score_track(
            track.mask,
            track.visible,
            truth.masks(row["episode_id"], row["camera"], start, row["frame"] + 1, object_id),
        )
        tally.update(
            source=group_source(source, row["kind"]),
            type=kind,
            camera=row["camera"],
            event_id=row["event_id"],
            kind=row["kind"],
        )
        tallies.append(tally)
    return grouped(tallies), tallies, seconds, frames


def grouped(tallies: list[dict]) -> dict[str, Any]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for t in tallies:
        groups["all"].append(t)
        groups[f"{t['source']}"].append(t)
        groups[f"{t['source']}/{t['type']}"].append(t)
        groups[f"{t['source']}/kind:{t['kind']}"].append(t)
        if t["source"] == "agibot":
            groups[f"agibot/camera:{t['camera']}"].append(t)
    return {name: summarize(items) for name, items in sorted(groups.items())}


def print_quality(title: str, quality: dict[str, Any]) -> None:
    print(f"{title}")
    print(
        f"  {'group':28s} {'tracks':>6s} {'vis.fr':>7s} {'mIoU':>6s} {'evIoU':>6s} {'cent.px':>7s}"
        f" {'visF1':>6s}"
    )
    for name, q in quality.items():
        fmt = lambda v, spec: format(v, spec) if v is not None else "-"  # noqa: E731
        print(
            f"  {name:28s} {q['tracks']:6d} {q['visible_frames']:7d} {fmt(q['mean_iou'], '6.3f')}"
            f" {fmt(q['event_frame_iou'], '6.3f')} {fmt(q['centroid_error_px'], '7.1f')}"
            f" {fmt(q['visibility_f1'], '6.3f')}"
        )


def stored_tallies(dataset: str, truth: Truth, source: str, annotator: str = "classical") -> list[dict]:
    """Score the tracks the masks step wrote against the truth."""
    from goalframe.storage.masks import track_id_for

    ds = open_dataset(dataset)
    tallies = []
    for row, object_id, kind in scorable_events(dataset, truth):
        track = ds.read_track(row["episode_id"], track_id_for(row["event_id"], row["camera"], annotator))
        start, stop = int(track.frame_index[0]), int(track.frame_index[-1]) + 1
        tally = score_track(
            track.mask, track.visible, truth.masks(row["episode_id"], row["camera"], start, stop, object_id)
        )
        tally.update(
            source=group_source(source, row["kind"]),
            type=kind,
            camera=row["camera"],
            event_id=row["event_id"],
            kind=row["kind"],
        )
        tallies.append(tally)
    return tallies


def confident_wrong(track, on_object: bool, truth_items: np.ndarray | None = None) -> bool:
    """A mask that cannot be right given as confident: a frame over ``MAX_AREA`` of the frame at a
    score over 0.5 (unless the recording placed the object), or, for a prompt that misses its true
    object, a track visible on the event frame (it follows something else). With
    ``truth_items`` (a pickup's or drop's true item on every frame of the window, (N, H, W)):
    also any frame visible at a score over 0.5 whose mask misses the item (IoU under 0.1, an
    item not in view counting as missed)."""
    area = track.mask.reshape(len(track), -1).mean(1)
    large = "target" not in track.attrs and bool(np.any((area > MAX_AREA) & (track.score > 0.5)))
    missed = truth_items is not None and any(
        iou(track.mask[i], truth_items[i], empty=0.0) < 0.1
        for i in np.flatnonzero(track.visible & (track.score > 0.5))
    )
    return large or missed or (not on_object and bool(track.visible[-1]))


def plausibility_effect(dataset: str, truth: Truth, annotator, window: int, source: str) -> dict[str, Any]:
    """Every prompted event's window annotated once; its track scored and counted as the annotator
    returned it (``without_check``) and after the plausibility check (``with_check``)."""
    ds = open_dataset(dataset)
    tallies: dict[str, list[dict]] = {"without_check": [], "with_check": []}
    counts = {name: defaultdict(lambda: defaultdict(int)) for name in tallies}
    for row, object_id, kind, on_object in prompted_events(dataset, truth):
        start = max(0, row["frame"] + 1 - window)
        clip = ds.read_frames(row["episode_id"], start, row["frame"] + 1, row["camera"])
        raw = track_for_event(annotator, ds, row, start, clip)
        truth_items = (
            truth.masks(row["episode_id"], row["camera"], start, row["frame"] + 1, object_id)
            if row["kind"] in ITEM_KINDS and object_id is not None
            else None
        )
        checked = check_track(raw, event_kind=row["kind"])  # as the masks step does
        for name, track in (("without_check", raw), ("with_check", checked)):
            for key in ("all", row["kind"]):
                tally = counts[name][key]
                tally["tracks"] += 1
                tally["on_object"] += int(on_object)
                tally["placed"] += int("target" in track.attrs)
                tally["confident_wrong"] += int(confident_wrong(track, on_object, truth_items))
                tally["implausible"] += int("implausible" in track.attrs)
                tally["visible_event_frame"] += int(track.visible[-1])
            if on_object:
                truth_masks = truth.masks(
                    row["episode_id"], row["camera"], start, row["frame"] + 1, object_id
                )
                tally = score_track(track.mask, track.visible, truth_masks)
                tally.update(
                    source=group_source(source, row["kind"]),
                    type=kind,
                    camera=row["camera"],
                    event_id=row["event_id"],
                    kind=row["kind"],
                )
                tallies[name].append(tally)
    return {
        name: {
            "quality": grouped(tallies[name]),
            "tracks": {key: dict(value) for key, value in sorted(counts[name].items())},
        }
        for name in tallies
    } | {"max_area": MAX_AREA}


def keyframe_runs(make, data: dict, window: int, limit: int, ks=(1, 5, 10)) -> dict[str, Any]:
    """Annotate the same events with keyframes every K frames: speed, IoU vs truth, agreement with K = 1.

    The runs are interleaved event by event (K = 1, 5, 10 on one window, then the next), so
    that a busy machine slows every K alike and the speed-ups stay fair."""
    events = []
    for fmt, (raw, dataset) in data.items():
        truth = Truth(raw, fmt)
        events += [
            (fmt, dataset, truth, row, object_id)
            for row, object_id, _kind in scorable_events(dataset, truth)
            if row["kind"] not in ITEM_KINDS
        ][:limit]
    annotators = {k: make(k) for k in ks}
    _fmt, dataset, _truth, row, _object_id = events[0]  # warm-up (lazy library set-up is not annotation time)
    warm = open_dataset(dataset).read_frames(
        row["episode_id"], max(0, row["frame"] - 1), row["frame"] + 1, row["camera"]
    )
    for annotator in annotators.values():
        annotator.annotate(warm, (row["prompt_row"], row["prompt_col"]))
        if hasattr(annotator, "calls"):
            annotator.calls = 0
    tally = {k: {"seconds": 0.0, "frames": 0, "ious": [], "agreement": []} for k in ks}
    for _fmt, dataset, truth, row, object_id in events:
        start = max(0, row["frame"] + 1 - window)
        ds = open_dataset(dataset)
        clip = ds.read_frames(row["episode_id"], start, row["frame"] + 1, row["camera"])
        truth_masks = truth.masks(row["episode_id"], row["camera"], start, row["frame"] + 1, object_id)
        reference = None
        for k in ks:
            target = static_target(ds, row, start)  # a fresh fit per run: fitting is part of the work
            began = time.perf_counter()
            track = annotators[k].annotate(
                clip, (row["prompt_row"], row["prompt_col"]), first_frame=start, target=target
            )
            tally[k]["seconds"] += time.perf_counter() - began
            tally[k]["frames"] += len(clip)
            tally[k]["ious"] += score_track(track.mask, track.visible, truth_masks)["ious"]
            if reference is None:
                reference = track.mask
            else:
                tally[k]["agreement"] += [iou(a, b, empty=1.0) for a, b in zip(track.mask, reference)]
    runs = {}
    for k in ks:
        t = tally[k]
        runs[f"every_{k}"] = {
            "events": len(events),
            "frames": t["frames"],
            "seconds": round(t["seconds"], 2),
            "frames_per_s": round(t["frames"] / t["seconds"], 2),
            "mean_iou_vs_truth": round(float(np.mean(t["ious"])), 4) if t["ious"] else None,
            "iou_vs_every_1": (
                round(float(np.mean(t["agreement"])), 4) if t["agreement"] else (1.0 if k == ks[0] else None)
            ),
            "segmentations": getattr(annotators[k], "calls", None),
        }
    base = runs[f"every_{ks[0]}"]
    for k in ks[1:]:
        run = runs[f"every_{k}"]
        run["speedup"] = round(run["frames_per_s"] / base["frames_per_s"], 2)
        if run["mean_iou_vs_truth"] is not None and base["mean_iou_vs_truth"] is not None:
            run["iou_change_vs_truth"] = round(run["mean_iou_vs_truth"] - base["mean_iou_vs_truth"], 4)
    return runs


def vit_b_throughput(data: dict, frames: int = 32) -> dict[str, Any] | None:
    """Real ViT-B (random weights: speed does not depend on them) on CUDA: SAM frames/s."""
    import torch

    if not torch.cuda.is_available():
        return None
    from segment_anything import sam_model_registry

    from goalframe.annotators.sam import SamAnnotator

    annotator = SamAnnotator(sam_model_registry["vit_b"](), device="cuda", min_score=0.0, patience=10**6)
    fmt, (raw, dataset) = next(iter(data.items()))
    row, _object_id, _kind = scorable_events(dataset, Truth(raw, fmt))[0]
    ds = open_dataset(dataset)
    start = max(0, row["frame"] + 1 - frames)
    clip = ds.read_frames(row["episode_id"], start, row["frame"] + 1, row["camera"])
    annotator.annotate(clip[-4:], (row["prompt_row"], row["prompt_col"]))  # warm-up
    torch.cuda.synchronize()
    began = time.perf_counter()
    annotator.annotate(clip, (row["prompt_row"], row["prompt_col"]))
    torch.cuda.synchronize()
    seconds = time.perf_counter() - began
    return {
        "device": torch.cuda.get_device_name(),
        "frames": len(clip),
        "seconds": round(seconds, 3),
        "frames_per_s": round(len(clip) / seconds, 2),
    }


def heldout_quality(
    work: Path, seeds: list[int], episodes: int, frames: int, window: int, item_entities: bool = True
) -> dict[str, Any]:
    """The classical annotator (defaults) on VPT worlds of other seeds, pooled and per seed;
    ``vpt_flow`` is the same annotator with mined blocks tracked by optical flow instead of
    placed by the recorded poses (the baseline)."""
    from goalframe.annotators.classical import ClassicalAnnotator

    pooled, flow, per_seed = [], [], {}
    for seed in seeds:
        raw, dataset = built(
            "vpt", work / f"heldout-seed{seed}", episodes, seed, frames=frames, item_entities=item_entities
        )
        _quality, tallies, _seconds, _frames = evaluate_direct(
            dataset, Truth(raw, "vpt"), ClassicalAnnotator(), window, None, "vpt"
        )
        _quality, baseline, _seconds, _frames = evaluate_direct(
            dataset, Truth(raw, "vpt"), ClassicalAnnotator(), window, None, "vpt", poses=False
        )
        per_seed[f"seed{seed}"] = summarize(tallies)
        per_seed[f"seed{seed}_flow"] = summarize(baseline)
        pooled += tallies
        flow += baseline
    return {"vpt": summarize(pooled), "vpt_flow": summarize(flow), **per_seed} if pooled else {}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--vpt-episodes", type=int, default=6)
    parser.add_argument("--vpt-frames", type=int, default=400)
    parser.add_argument("--agibot-episodes", type=int, default=3)
    parser.add_argument("--window", type=int, default=128)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--keyframe-events", type=int, default=8, help="events per source for the keyframe and tiny SAM runs"
    )
    parser.add_argument("--sam-window", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--heldout-seeds",
        type=int,
        nargs="*",
        default=[1, 2, 3],
        help="VPT worlds the classical settings were not tuned on",
    )
    parser.add_argument("--heldout-episodes", type=int, default=4)
    parser.add_argument(
        "--work", type=Path, default=None, help="keep generated data here (reused when present)"
    )
    parser.add_argument(
        "--direct",
        action="store_true",
        help="quality of the classical annotator only, no store writes (development)",
    )
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument(
        "--no-item-entities",
        action="store_true",
        help="VPT worlds without item entities (drops not drawn: pickups and drops have no true object)",
    )
    parser.add_argument(
        "--quality-only",
        action="store_true",
        help="the step, its quality, the plausibility check's effect and the flow baseline only (no held-out"
        " worlds, keyframe or SAM speed runs)",
    )
    parser.add_argument(
        "--options", default="{}", help="classical annotator options (a Python dict), with --direct"
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "masks.json")
    args = parser.parse_args()
    from goalframe.annotators.classical import ClassicalAnnotator
    from goalframe.annotators.masks import MaskOptions, annotate_masks
    from goalframe.annotators.registry import build_annotator

    items = not args.no_item_entities
    work = args.work or Path(tempfile.mkdtemp(prefix="goalframe-bench-masks-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        data = {
            fmt: built(fmt, work, episodes, args.seed, **options)
            for fmt, episodes, options in (
                ("vpt", args.vpt_episodes, {"frames": args.vpt_frames, "item_entities": items}),
                ("agibot", args.agibot_episodes, {"frames_per_object": 90}),
            )
        }
        if args.direct:
            tallies, seconds, frames = [], 0.0, 0
            for fmt, (raw, dataset) in data.items():
                _q, t, s, f = evaluate_direct(
                    dataset,
                    Truth(raw, fmt),
                    ClassicalAnnotator(**eval(args.options)),
                    args.window,
                    args.limit,
                    fmt,
                )
                tallies += t
                seconds += s
                frames += f
            print_quality(
                f"classical (direct): {frames} frames in {seconds:.1f} s = {frames / seconds:.1f} frames/s",
                grouped(tallies),
            )
            (work / "direct.json").write_text(json.dumps(tallies))
            return

        results: dict[str, Any] = {
            "machine": {
                "cpus": __import__("os").cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
            },
            "window": args.window,
            "workers": args.workers,
            "item_entities": items,
        }
        tallies, step = [], {}
        for fmt, (raw, dataset) in data.items():
            began = time.perf_counter()
            report = annotate_masks(
                dataset, MaskOptions(window=args.window, overwrite=True), workers=args.workers
            )
            wall = time.perf_counter() - began
            summary = report.summary()
            step[fmt] = {
                **summary,
                "wall_seconds": round(wall, 2),
                "step_frames_per_s": round(summary["frames"] / wall, 1),
            }
            tallies += stored_tallies(dataset, Truth(raw, fmt), fmt)
        results["classical"] = {"step": step, "quality": grouped(tallies)}
        raw, dataset = data["vpt"]
        results["plausibility"] = {
            "vpt": plausibility_effect(dataset, Truth(raw, "vpt"), ClassicalAnnotator(), args.window, "vpt")
        }
        _q, flow, _s, _f = evaluate_direct(
            dataset, Truth(raw, "vpt"), ClassicalAnnotator(), args.window, None, "vpt", poses=False
        )
        results["classical_flow_baseline"] = {
            "note": "VPT with mined blocks tracked by optical flow (--no-poses), the same events",
            "quality": grouped(flow),
        }
        if args.quality_only:
            return finish(args, results)
        results["classical_heldout"] = heldout_quality(
            work, args.heldout_seeds, args.heldout_episodes, args.vpt_frames, args.window, items
        )
        results["classical_keyframes"] = keyframe_runs(
            lambda k: ClassicalAnnotator(every=k), data, args.window, args.keyframe_events
        )

        def tiny(k: int):
            return build_annotator(
                "sam", model_type="tiny", device="cpu", every=k, min_score=0.0, patience=10**6
            )

        results["tiny_sam_cpu"] = keyframe_runs(tiny, data, args.sam_window, args.keyframe_events)
        results["tiny_sam_cpu"]["note"] = (
            "random weights: masks are meaningless; speed, keyframe speed-up and agreement with every-frame"
            " SAM are what count"
        )
        results["vit_b_cuda"] = vit_b_throughput(data) or "no CUDA device on this machine"
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    finish(args, results)


def finish(args: argparse.Namespace, results: dict[str, Any]) -> None:
    """Print the figures and write them to ``args.out``."""
    for fmt, s in results["classical"]["step"].items():
        print(
            f"classical step on {fmt}: {s['written']} tracks, {s['frames']} frames in {s['wall_seconds']} s ="
            f" {s['step_frames_per_s']} frames/s (annotator alone {s['frames_per_s']} frames/s per worker)"
        )
    print_quality("classical annotator vs truth (window %d)" % args.window, results["classical"]["quality"])
    effect = results["plausibility"]["vpt"]
    for name in ("without_check", "with_check"):
        print_quality(f"VPT, the same windows {name.replace('_', ' ')}", effect[name]["quality"])
        print(
            f"  confident and wrong ({name.replace('_', ' ')}; a mask over {MAX_AREA:.0%} of the frame at"
            " score > 0.5, visible on the event frame with the prompt off its object, or a pickup/drop frame"
            " confident off its item): "
            + ", ".join(
                f"{kind} {c['confident_wrong']}/{c['tracks']}" for kind, c in effect[name]["tracks"].items()
            )
        )
    print_quality(
        "baseline: VPT without the recorded poses (mined blocks tracked by optical flow)",
        results["classical_flow_baseline"]["quality"],
    )
    if "classical_heldout" in results:
        print_quality(
            f"classical on held-out VPT worlds (seeds {args.heldout_seeds}; _flow: without the poses)",
            results["classical_heldout"],
        )
    for name in ("classical_keyframes", "tiny_sam_cpu"):
        if name not in results:
            continue
        print(f"{name}:")
        for k, run in results[name].items():
            if isinstance(run, dict):
                print(
                    f"  {k:9s} {run['frames_per_s']:8.1f} frames/s  speed-up {run.get('speedup', 1.0):5.2f} "
                    f" IoU vs truth {run['mean_iou_vs_truth']}  IoU vs every-frame {run['iou_vs_every_1']}"
                )
    if "vit_b_cuda" in results:
        print(f"vit_b_cuda: {results['vit_b_cuda']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"  -> {args.out}")


if __name__ == "__main__":
    main()
