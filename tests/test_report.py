"""``goalframe report`` on a small dataset built by the real pipeline: the HTML read back with
html.parser, its pictures decoded, its flagged tracks checked against the stored masks."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from PIL import Image

from goalframe import pipeline
from goalframe.annotators.masks import MaskOptions
from goalframe.sim.vpt.synth import synthesize_vpt
from goalframe.storage import open_dataset

PANEL_WIDTH, HEADER, GAP = 320, 22, 4  # report_images: a panel is half a 640 x 360 VPT frame


def goalframe(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "goalframe.toolkit.cli", *args], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> str:
    base = tmp_path_factory.mktemp("report")
    synthesize_vpt(base / "raw", episodes=2, seed=0, frames=120)
    path = str(base / "vpt.zarr")
    summary = pipeline.build(
        base / "raw",
        path,
        "vpt",
        ["ingest", "events", "masks", "pairs"],
        masks=pipeline.Masks(MaskOptions(window=16)),
        pairs=pipeline.Pairs(seed=0),
        workers=1,
    )
    assert summary["masks"]["tracks"] > 0, summary
    return path


@pytest.fixture(scope="module")
def report(dataset, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report-out") / "vpt-report"
    result = goalframe("report", dataset, "--out", str(out), "--per-type", "2")
    assert result.returncode == 0, result.stderr
    assert "report:" in result.stdout and str(out / "report.html") in result.stdout
    return out


class ReportParser(HTMLParser):
    """Gallery sections (interaction -> figures' attrs and images) and flag lists (criterion -> cards)."""

    def __init__(self):
        super().__init__()
        self.sections: dict[str, list[dict]] = {}
        self.figures: dict[str, list[dict]] = {}
        self.flags: dict[str, dict] = {}
        self.images: list[dict] = []
        self._section: str | None = None
        self._table: str | None = None
        self._row: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and "data-interaction" in attrs:
            self._section = attrs["data-interaction"]
            self.sections[self._section] = []
            self.figures[self._section] = []
        elif tag == "figure" and self._section:
            self.figures[self._section].append(attrs)
        elif tag == "div" and "data-criterion" in attrs:
            self._table = attrs["data-criterion"]
            self.flags[self._table] = {"order": attrs["data-order"], "rows": []}
        elif tag == "figure" and self._table and "data-track" in attrs:
            self._row = dict(attrs)
            self.flags[self._table]["rows"].append(self._row)
        elif tag == "img":
            self.images.append(attrs)
            if self._section:
                self.sections[self._section].append(attrs)
            if self._row is not None:
                self._row["img"] = attrs

    def handle_endtag(self, tag):
        if tag == "section":
            self._section = self._table = None
        elif tag == "figure":
            self._row = None


def parsed(report: Path) -> ReportParser:
    parser = ReportParser()
    parser.feed((report / "report.html").read_text(encoding="utf-8"))
    return parser


def decoded(img: dict) -> Image.Image:
    prefix = "data:image/png;base64,"
    assert img["src"].startswith(prefix)
    image = Image.open(io.BytesIO(base64.b64decode(img["src"][len(prefix) :])))
    assert image.format == "PNG"
    return image


def test_one_gallery_section_per_interaction_type_with_pngs_of_their_stated_size(dataset, report):
    html = parsed(report)
    events = open_dataset(dataset).table("events")
    assert set(html.sections) == set(events["interaction"].drop_nulls().unique().to_list())
    assert html.images, "no pictures"
    for img in html.images:
        image = decoded(img)
        assert image.size == (int(img["width"]), int(img["height"])), img["alt"]
    tracks = open_dataset(dataset).table("tracks")
    for interaction, figures in html.figures.items():
        assert 1 <= len(figures) <= 2
        for figure, img in zip(figures, html.sections[interaction]):
            row = events.filter(pl.col("event_id") == figure["data-event-id"]).row(0, named=True)
            assert row["interaction"] == interaction
            has_track = row["event_id"] in tracks["event_id"].to_list()
            # event frame, mask, enlargement and goal view; or the frame and a note saying why no mask
            panels = 4 if has_track else 2
            assert decoded(img).size == (panels * PANEL_WIDTH + (panels - 1) * GAP, HEADER + 180)


def _border_frames(mask: np.ndarray) -> int:
    border = mask[:, 0, :].any(1) | mask[:, -1, :].any(1) | mask[:, :, 0].any(1) | mask[:, :, -1].any(1)
    return int(border.sum())


def test_flagged_tracks_are_sorted_by_their_criterion_and_match_the_stored_tracks(dataset, report):
    ds = open_dataset(dataset)
    tracks = ds.table("tracks")
    stored = {}
    for row in tracks.iter_rows(named=True):
        mask = ds.read_track(row["episode_id"], row["track_id"]).mask
        stored[(row["episode_id"], row["track_id"])] = {
            "lowest-score": row["mean_score"],
            "largest-mask": float(mask.mean(axis=(1, 2)).max()),
            "edge": _border_frames(mask),
        }
    flags = parsed(report).flags
    assert set(flags) == {"lowest-score", "largest-mask", "edge"}
    for criterion, table in flags.items():
        rows = table["rows"]
        values = [float(r["data-value"]) for r in rows]
        for row, value in zip(rows, values):
            assert value == pytest.approx(
                stored[(row["data-episode"], row["data-track"])][criterion], abs=1e-5
            )
            decoded(row["img"])
        descending = table["order"] == "descending"
        assert values == sorted(values, reverse=descending), criterion
        candidates = [
            v[criterion] for v in stored.values() if criterion == "lowest-score" or v[criterion] > 0
        ]
        ranked = sorted(candidates, reverse=descending)[: len(rows)]
        assert values == pytest.approx(ranked, abs=1e-5), criterion  # the first ones of all tracks
    assert flags["lowest-score"]["rows"] and flags["largest-mask"]["rows"]


def test_the_markdown_references_pngs_that_exist_beside_it(dataset, report):
    text = (report / "report.md").read_text(encoding="utf-8")
    names = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(names) == len(parsed(report).images)
    for name in names:
        assert (report / name).is_file(), name
        assert Image.open(report / name).format == "PNG"
    for interaction in parsed(report).sections:
        assert f"\n## {interaction}\n" in text


def test_bad_input_is_one_line(dataset, tmp_path):
    def refused(*args: str) -> str:
        result = goalframe("report", *args)
        assert result.returncode == 2, result.stdout
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        return lines[0]

    photos = tmp_path / "photos"
    photos.mkdir()
    assert str(photos) in refused(str(photos))
    no_events = tmp_path / "no-events.zarr"
    shutil.copytree(dataset, no_events)
    for name in ("events.parquet", "events.parquet.sha256"):
        (no_events / "tables" / name).unlink()
    assert "no events table" in refused(str(no_events), "--out", str(tmp_path / "r"))
    assert "--per-type 0" in refused(dataset, "--out", str(tmp_path / "r"), "--per-type", "0")
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    assert f"{a_file}: exists and is not a folder" in refused(dataset, "--out", str(a_file))


def test_help_has_an_example():
    result = goalframe("report", "--help")
    assert result.returncode == 0 and "Examples:" in result.stdout and "$ goalframe report" in result.stdout


def test_a_dataset_with_events_only_gets_frames_and_the_reason_for_no_mask(dataset, tmp_path):
    events_only = tmp_path / "events-only.zarr"
    shutil.copytree(dataset, events_only)
    for table in ("tracks", "pairs"):
        for name in (f"{table}.parquet", f"{table}.parquet.sha256"):
            (events_only / "tables" / name).unlink()
    out = tmp_path / "out"
    result = goalframe("report", str(events_only), "--out", str(out), "--per-type", "1")
    assert result.returncode == 0, result.stderr
    html = parsed(out)
    assert all(not table["rows"] for table in html.flags.values())
    for images in html.sections.values():
        assert [decoded(img).size for img in images] == [(2 * PANEL_WIDTH + GAP, HEADER + 180)]
    assert "no mask track" in (out / "report.md").read_text()
