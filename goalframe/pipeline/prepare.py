"""The small generated datasets the demo, the ablation and the tests train on.

``python -m goalframe.pipeline.prepare OUT`` builds OUT/vpt.zarr and OUT/agibot.zarr:
synth, then :func:`goalframe.pipeline.build` with ingest and events, and for VPT the
generators' truth mask tracks (:class:`TruthTracks`, annotator ``truth``, so the policies do
not depend on a mask annotator's quality) and cross-view pairs; for AgiBot the MSTH table.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from goalframe.pipeline.chain import build
from goalframe.pipeline.steps import MSTH, Pairs, Step, StepContext
from goalframe.sampling.msth import MSTHSpec
from goalframe.training.data import write_truth_tracks


@dataclass
class TruthTracks(Step):
    """Mask tracks from the generator's truth object-id images (``raw/truth``). Summary: tracks written."""

    name: ClassVar[str] = "truth_tracks"
    window: int = 128

    def run(self, dataset: str, context: StepContext) -> int:
        return write_truth_tracks(dataset, context.raw, self.window)


@dataclass
class PreparedData:
    dataset: str
    raw: str
    seconds: dict[str, float]
    summary: dict


def _done(dataset: Path, marker: str) -> dict | None:
    path = dataset.parent / f"{dataset.name}.{marker}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _prepare(
    fmt: str,
    out: Path,
    params: dict,
    synth: dict,
    workers: int,
    steps: Sequence[str | Step],
    summarize: Callable[[str, dict], dict],
) -> PreparedData:
    """Generated recordings -> dataset built with ``steps``; ``summarize(dataset, built)``
    turns the steps' summaries into the prepared summary. Skipped when ``out/<fmt>.zarr`` was
    already prepared with the same ``params`` (a ``<fmt>.zarr.prepared.json`` marker written last)."""
    from goalframe.sources.registry import get_format

    out = Path(out)
    dataset, raw = out / f"{fmt}.zarr", out / f"raw-{fmt}"
    done = _done(dataset, "prepared")
    if done is not None and done.get("params") == params:
        return PreparedData(str(dataset), str(raw), done["seconds"], done["summary"])
    shutil.rmtree(dataset, ignore_errors=True)
    shutil.rmtree(raw, ignore_errors=True)
    started = time.perf_counter()
    get_format(fmt).synthesize(raw, **synth)
    seconds = {"synth": time.perf_counter() - started}
    started = time.perf_counter()
    built = build(raw, str(dataset), fmt, steps, workers=workers)
    if built["ingest"]["failed"]:  # generated recordings never fail to read
        raise RuntimeError(built["ingest"])
    seconds["build"] = time.perf_counter() - started
    summary = summarize(str(dataset), built)
    marker = {"params": params, "seconds": seconds, "summary": summary}
    (out / f"{fmt}.zarr.prepared.json").write_text(json.dumps(marker, indent=1))
    return PreparedData(str(dataset), str(raw), seconds, summary)


def prepare_vpt(
    out: Path, episodes: int = 16, frames: int = 600, seed: int = 0, window: int = 128, workers: int = 1
) -> PreparedData:
    """Generated VPT recordings -> dataset with events, truth mask tracks and cross-view pairs.

    Skips the work when ``out/vpt.zarr`` was already prepared with the same arguments.
    """
    from goalframe.storage import open_dataset

    def summarize(dataset: str, built: dict) -> dict:
        table = open_dataset(dataset).table("pairs")
        pairs = int(table["pair_id"].n_unique()) if table.height else 0
        return {"frames": episodes * frames, "tracks": built["truth_tracks"], "pairs": pairs}

    params = {"episodes": episodes, "frames": frames, "seed": seed, "window": window}
    synth = {"episodes": episodes, "seed": seed, "frames": frames, "quirk_rate": 0.0}
    steps = ["ingest", "events", TruthTracks(window), Pairs(seed=seed)]
    return _prepare("vpt", out, params, synth, workers, steps, summarize)


#: The MSTH spec the demo builds (frames at 30 fps; an object takes ~60 frames to move).
DEMO_MSTH = {"horizon": 96, "near": 12, "stride": 3, "distal": 4}


def prepare_agibot(
    out: Path,
    episodes: int = 60,
    frames_per_object: int = 60,
    seed: int = 0,
    msth: dict | None = None,
    workers: int = 1,
    scenario: str = "default",
    strokes: tuple[int, int] = (1, 8),
    frames_per_stroke: int | None = None,
    stroke_set: str = "free",
) -> PreparedData:
    """Generated AgiBot recordings (1 to 5 objects each) -> dataset with events and the MSTH table
    (clipped at episode ends, so distal anchors reach into the next objects).

    ``scenario="whiteboard"``: the whiteboard episodes instead (K strokes, K uniform in
    ``strokes``, ``frames_per_stroke`` frames each, strokes from ``stroke_set``), as
    ``goalframe synth agibot --scenario whiteboard``."""
    msth = dict(msth or DEMO_MSTH)
    params = {"episodes": episodes, "frames_per_object": frames_per_object, "seed": seed, "msth": msth}
    # the bundled policies act with parallel grippers: no dexterous-hand episode
    synth = {"episodes": episodes, "seed": seed, "frames_per_object": frames_per_object, "dexhand": False}
    if scenario != "default":  # the default's params stay as they were: prepared markers keep matching
        board = {
            "scenario": scenario,
            "strokes": list(strokes),
            "frames_per_stroke": frames_per_stroke,
            "stroke_set": stroke_set,
        }
        params.update(board)
        synth.update(board, strokes=tuple(strokes))
    steps = ["ingest", "events", MSTH(MSTHSpec(**msth), clip="episode")]
    return _prepare(
        "agibot",
        out,
        params,
        synth,
        workers,
        steps,
        lambda _ds, built: {"frames": built["msth"], "episodes": episodes},
    )


def main(argv: list[str] | None = None) -> None:
    """``python -m goalframe.pipeline.prepare OUT``: both demo datasets (OUT/vpt.zarr, OUT/agibot.zarr)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m goalframe.pipeline.prepare",
        description="Generate the demo training datasets (synth, ingest, events, truth tracks, pairs, msth).",
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--vpt-episodes", type=int, default=16)
    parser.add_argument("--vpt-frames", type=int, default=600)
    parser.add_argument("--agibot-episodes", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    vpt = prepare_vpt(args.out, args.vpt_episodes, args.vpt_frames, args.seed)
    print(f"{vpt.dataset}: {vpt.summary} ({', '.join(f'{k} {v:.0f} s' for k, v in vpt.seconds.items())})")
    agibot = prepare_agibot(args.out, args.agibot_episodes, seed=args.seed)
    print(
        f"{agibot.dataset}: {agibot.summary}"
        f" ({', '.join(f'{k} {v:.0f} s' for k, v in agibot.seconds.items())})"
    )


if __name__ == "__main__":
    main()
