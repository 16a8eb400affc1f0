"""``goalframe demo``: the whole chain on generated recordings, end to end."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from goalframe.annotators.events import extract_events
from goalframe.sources.registry import FORMATS
from goalframe.storage import open_dataset
from goalframe.storage.summary import dataset_summary
from goalframe.toolkit.common import example, one_line_errors, out_console, progress_bar
from goalframe.toolkit.ingest import run_ingest

EPILOG = example("goalframe demo", "goalframe demo --out /tmp/goalframe-demo --episodes 2")

# Small enough for 2 cores in a few minutes, big enough to show every part.
DEMO_SYNTH_OPTIONS = {"vpt": {"frames": 300}, "agibot": {"frames_per_object": 60}}


def demo(
    out: Path = typer.Option(Path("demo-out"), help="Folder for raw recordings, datasets and the report."),
    episodes: int = typer.Option(3, help="Episodes per format."),
    seed: int = typer.Option(0, help="Random seed."),
) -> None:
    """Generate VPT and AgiBot recordings, ingest them, extract events, and write a report (demo-out/report.md)."""
    with one_line_errors():
        lines = ["# goalframe demo", ""]
        for fmt, source in FORMATS.items():
            raw, dataset = out / "raw" / fmt, out / f"{fmt}.zarr"
            started = time.perf_counter()
            with progress_bar(f"synth {fmt}", episodes) as progress:
                task = progress.add_task(f"synth {fmt}", total=episodes)
                source.synthesize(raw, episodes=episodes, seed=seed, progress=lambda _frames=0: progress.advance(task, 1), **DEMO_SYNTH_OPTIONS[fmt])
            synth_seconds = time.perf_counter() - started
            report = run_ingest(fmt, raw, str(dataset))
            events, _warnings = extract_events(str(dataset))
            by_kind = dict(sorted(events.group_by("kind").len().iter_rows()))
            summary = dataset_summary(open_dataset(str(dataset)))
            out_console.print(
                f"{fmt}: {summary['episodes']} episodes, {summary['frames']} frames, cameras {summary['cameras']} "
                f"-> {dataset} (synth {synth_seconds:.1f} s, ingest {report.seconds:.1f} s); events {by_kind}"
            )
            lines += [
                f"## {fmt}",
                f"- raw recordings: `{raw}` (synth {synth_seconds:.1f} s)",
                f"- dataset: `{dataset}`: {summary['episodes']} episodes, {summary['frames']} frames, cameras {', '.join(summary['cameras'])}",
                f"- ingest: {report.count('written')} written, {report.count('failed')} failed in {report.seconds:.1f} s",
                f"- events (`tables/events.parquet`): {events.height} {by_kind}",
                f"- arrays of `{summary.get('arrays_of')}`:",
                *[f"  - `{name}` {tuple(a['shape'])} {a['dtype']}" for name, a in summary.get("arrays", {}).items()],
                "",
            ]
            (out / f"{fmt}-info.json").write_text(json.dumps(summary, indent=2, default=str))
        (out / "report.md").write_text("\n".join(lines))
        out_console.print(f"report: {out / 'report.md'}")
