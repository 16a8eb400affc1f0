"""``goalframe report`` speed on demo-sized datasets, against reading what it reads.

    python benchmarks/report.py --datasets demo-out/vpt.zarr demo-out/agibot.zarr   # after `make demo`
    python benchmarks/report.py                     # builds demo-sized datasets first (minutes)

Per dataset: seconds for the whole report (HTML + Markdown + PNGs), its size, and the
baseline measured in the same run: reading every mask track and the tables (what the
"look at these first" lists need) without drawing anything. Runs are interleaved (baseline,
report, baseline, report...) and the median kept. Figures in benchmarks/results/report.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from goalframe import pipeline
from goalframe.annotators.masks import MaskOptions
from goalframe.sources.registry import FORMATS
from goalframe.storage import open_dataset
from goalframe.toolkit.demo import DEMO_SYNTH_OPTIONS
from goalframe.viewing.report import write_report
from goalframe.viewing.report_data import track_stats

RESULTS = Path(__file__).parent / "results" / "report.json"


def demo_datasets(work: Path, episodes: int) -> list[str]:
    """Datasets built as `goalframe demo` builds them (no training)."""
    paths = []
    for fmt in FORMATS:
        raw, dataset = work / f"raw-{fmt}", str(work / f"{fmt}.zarr")
        FORMATS[fmt].synthesize(raw, episodes=episodes, seed=0, **DEMO_SYNTH_OPTIONS[fmt])
        pipeline.build(
            raw,
            dataset,
            fmt,
            masks=pipeline.Masks(MaskOptions(window=64)),
            pairs=pipeline.Pairs(seed=0),
            msth=pipeline.MSTH(clip="episode"),
        )
        paths.append(dataset)
    return paths


def read_only(dataset: str) -> float:
    started = time.perf_counter()
    ds = open_dataset(dataset)
    ds.table("events")
    for row in ds.table("tracks").iter_rows(named=True):
        track_stats(ds, row)
    return time.perf_counter() - started


def measure(dataset: str, out: Path, repeats: int) -> dict:
    baseline, report = [], []
    for _ in range(repeats):
        baseline.append(read_only(dataset))
        summary = write_report(dataset, out)
        report.append(summary["seconds"])
    ds = open_dataset(dataset)
    return {
        "dataset": dataset,
        "episodes": len(ds.episodes),
        "frames": sum(ds.lengths.values()),
        "tracks": ds.table("tracks").height,
        "pictures": len(summary["pictures"]),
        "html_bytes": Path(summary["html"]).stat().st_size,
        "report_seconds": round(statistics.median(report), 2),
        "read_only_seconds": round(statistics.median(baseline), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", help="Built datasets (default: build demo-sized ones).")
    parser.add_argument("--episodes", type=int, default=3, help="Episodes per format when building.")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        datasets = args.datasets or demo_datasets(work, args.episodes)
        results = [measure(d, work / f"report-{i}", args.repeats) for i, d in enumerate(datasets)]
    for r in results:
        print(
            f"{r['dataset']}: {r['episodes']} episodes, {r['frames']} frames, {r['tracks']} tracks:"
            f" report {r['report_seconds']} s ({r['pictures']} pictures,"
            f" HTML {r['html_bytes'] / 1e6:.1f} MB);"
            f" reading the tracks alone {r['read_only_seconds']} s"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"runs": results}, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
