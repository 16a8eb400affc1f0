"""Mask review in a real browser: Debian's chromium, driven by Playwright, on a real Label Studio server.

A person's round trip: log in through the page, open a pushed task, see the frame and the
predicted region, paint a brush stroke with the mouse, pick the visibility (required), submit;
then `goalframe review pull` brings the stroke back into the dataset's reviewed masks.
Playwright never downloads a browser here: it drives /usr/bin/chromium (`apt-get install
chromium`; `.ci/run` installs it). Screenshots are left in the test's tmp dir.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from goalframe import pipeline
from goalframe.annotators.review_results import MASK_COLOUR
from goalframe.sim.vpt.synth import synthesize_vpt
from goalframe.storage import open_dataset
from goalframe.storage.masks import MaskTrack, track_id_for, write_track
from goalframe.storage.store import open_root
from goalframe.toolkit.cli import app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
H, W = 360, 640
PREDICTED = (slice(150, 190), slice(280, 330))  # the automatic mask: a box on the event's object
STROKE_ROW, STROKE_COLS = 60, (100, 200)  # the stroke painted in the browser, away from it
BRUSH_WIDER = 10  # presses of "]" (Label Studio's "bigger brush" key)
PROJECT = "browser review"


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture
def dataset(label_studio, tmp_path) -> str:
    """A generated VPT episode ingested with its events, one automatic track, inside the server's docroot."""
    out = label_studio.document_root / "browser" / "ds.zarr"
    synthesize_vpt(tmp_path / "raw", episodes=1, seed=0, frames=30)
    pipeline.build(tmp_path / "raw", str(out), "vpt", ["ingest", "events"])
    event = open_dataset(str(out)).table("events").row(0, named=True)
    frames = np.arange(event["frame"] - 2, event["frame"] + 1)
    masks = np.zeros((len(frames), H, W), bool)
    masks[(slice(None), *PREDICTED)] = True
    write_track(
        open_root(str(out), "r+"),
        event["episode_id"],
        track_id_for(event["event_id"], event["camera"], "box"),
        MaskTrack.from_masks(frames, masks, score=np.ones(len(frames), np.float32)),
        {
            "event_id": event["event_id"],
            "camera": event["camera"],
            "annotator": "box",
            "object": event["object"],
        },
    )
    return str(out)


def review(*args: str):
    return CliRunner().invoke(app, ["review", *args])


def test_a_stroke_painted_in_the_browser_comes_back_with_review_pull(
    chromium, dataset, label_studio, tmp_path
):
    from label_studio_sdk import LabelStudio
    from labelstudio_server import PASSWORD, USERNAME
    from playwright.sync_api import expect, sync_playwright

    args = [dataset, "--url", label_studio.url, "--api-key", label_studio.token, "--project", PROJECT]
    pushed = review("push", *args, "--frames-per-track", "1")
    assert pushed.exit_code == 0, pushed.output
    ls = LabelStudio(base_url=label_studio.url, api_key=label_studio.token)
    project = next(p for p in ls.projects.list(title=PROJECT) if p.title == PROJECT)
    (task,) = ls.tasks.list(project=project.id)
    episode, track_id, frame = task.data["episode_id"], task.data["track_id"], task.data["frame"]

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(f"{label_studio.url}/user/login")
            page.fill("#email", USERNAME)
            page.fill("#password", PASSWORD)
            page.click("button.login-button")
            page.wait_for_url(f"{label_studio.url}/")
            page.goto(f"{label_studio.url}/projects/{project.id}/data?task={task.id}")

            # what the reviewer sees: the object and frame first, the instructions, the predicted region
            regions = page.locator(".lsf-outliner-tree [role=treeitem]")
            expect(regions).to_have_count(1)
            expect(regions.first).to_contain_text("object")
            expect(page.locator("h3").first).to_have_text(
                f"{task.data['object']} · episode {episode} · frame {frame} · {track_id}"
            )
            expect(page.get_by_text("the drawn mask is discarded")).to_be_visible()
            label = page.locator(".lsf-labels .lsf-label", has_text="object")
            assert MASK_COLOUR in (label.get_attribute("style") or "")
            image = page.locator('img[src*="/data/local-files/"]').last
            expect(image).to_have_js_property("complete", True)
            assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [W, H]
            stage = page.locator(".konvajs-content").first
            box = stage.bounding_box()
            assert box is not None and box["width"] / box["height"] == pytest.approx(W / H, rel=0.01), (
                "the whole frame is in view"
            )
            page.screenshot(path=tmp_path / "task.png")

            # paint a stroke along one row of the image, with the object label chosen and a wide brush
            # (Label Studio 1.23 saves a stroke a few pixels down and right of where it draws it:
            # a wide brush keeps the painted line inside what is saved)
            label.click()
            for _ in range(BRUSH_WIDER):
                page.keyboard.press("]")
            to_page_x = lambda col: box["x"] + (col + 0.5) * box["width"] / W  # noqa: E731
            y = box["y"] + (STROKE_ROW + 0.5) * box["height"] / H
            page.mouse.move(to_page_x(STROKE_COLS[0]), y)
            page.mouse.down()
            for col in range(STROKE_COLS[0], STROKE_COLS[1] + 1, 5):
                page.mouse.move(to_page_x(col), y)
            page.mouse.up()
            expect(regions).to_have_count(2)

            # the visibility is required: unticking the prefilled "visible" blocks the submit
            visible = page.locator(".lsf-choices label", has=page.locator("input[name=visible]"))
            visible.click()
            page.get_by_test_id("bottombar-submit-button").click()
            expect(page.get_by_text('Checkbox "visibility" is required')).to_be_visible()
            page.get_by_role("button", name="OK").click()
            assert not ls.annotations.list(id=task.id)
            visible.click()
            page.screenshot(path=tmp_path / "painted.png")
            with page.expect_response(
                lambda r: r.request.method == "POST" and f"/api/tasks/{task.id}/annotations" in r.url
            ) as submitted:
                page.get_by_test_id("bottombar-submit-button").click()
            assert submitted.value.ok, submitted.value.text()
        finally:
            browser.close()

    pulled = review("pull", *args, "--json")
    assert pulled.exit_code == 0, pulled.output
    assert '"pulled": 1' in pulled.stdout
    merged = open_dataset(dataset).read_track(episode, track_id)
    assert merged.attrs["reviewed_frames"] == [frame]
    mask = merged.mask[merged.row(frame)]
    painted = mask[STROKE_ROW, STROKE_COLS[0] + 15 : STROKE_COLS[1] - 15]
    assert painted.all(), f"the stroke came back on {painted.sum()} of {painted.size} pixels of its line"
    assert mask[PREDICTED].all(), "the predicted mask, kept, is there too"
    stroke = mask.copy()
    stroke[PREDICTED] = False
    rows, cols = np.nonzero(stroke)
    assert rows.min() > STROKE_ROW - 40 and rows.max() < STROKE_ROW + 40, "nothing else was painted"
    assert cols.min() > STROKE_COLS[0] - 40 and cols.max() < STROKE_COLS[1] + 40, "nothing else was painted"
    assert merged.visible[merged.row(frame)]
