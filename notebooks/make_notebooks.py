"""Write the notebooks from the cell sources below (run: python notebooks/make_notebooks.py).

Keeping the sources here makes them reviewable as code; tests/test_notebooks.py executes
the .ipynb files so they never rot.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

QUICKSTART = [
    ("md", """# goalframe quickstart

Build a dataset from (generated) VPT recordings, look at the interaction events and the
mask tracks, and plot the Act2Goal MSTH indices. Everything runs on a laptop CPU in about a
minute. `WORK` is where the files go."""),
    ("code", """import os, tempfile
from pathlib import Path
WORK = Path(os.environ.get("GOALFRAME_NOTEBOOK_WORK") or tempfile.mkdtemp(prefix="goalframe-quickstart-"))
RAW, DS = WORK / "raw-vpt", WORK / "vpt.zarr"
print(WORK)"""),
    ("md", """## 1. Raw recordings and ingest
`goalframe synth vpt` writes recordings in the real contractor layout (mp4 + jsonl +
options.json) with ground truth beside them; `goalframe ingest vpt` reads them into a
chunked Zarr dataset."""),
    ("code", """!goalframe synth vpt {RAW} --episodes 2 --frames 160 --seed 0
!goalframe ingest vpt {RAW} --out {DS} --workers 2
!goalframe info {DS}"""),
    ("code", """from goalframe.storage import open_dataset
ds = open_dataset(DS)
episode = ds.episodes[0]
frames = ds.read_frames(episode, 0, 8)
buttons = ds.array(episode, "actions/vpt/buttons")
print(episode, ds.length(episode), frames.shape, frames.dtype, buttons.shape)
print(ds.array_attrs(episode, "actions/vpt/buttons")["vocabulary"])"""),
    ("md", """## 2. Interaction events
One row per increase of a `stats` counter, with ROCKET's interaction type and the prompt
point (crosshair, or the cursor when a GUI is open)."""),
    ("code", """!goalframe events {DS}
events = ds.table("events")
events.select("episode_id", "frame", "kind", "object", "interaction", "gui_open", "prompt_row", "prompt_col").head(10)"""),
    ("md", """## 3. Mask tracks and an overlay
`goalframe masks` tracks each event's target object backward from the event frame
(classical OpenCV annotator by default; `--annotator sam --checkpoint ...` for Segment
Anything)."""),
    ("code", """!goalframe masks {DS} --window 32
tracks = open_dataset(DS).table("tracks")
tracks.select("track_id", "episode_id", "interaction", "object", "start_frame", "stop_frame", "n_visible", "mean_score").head()"""),
    ("code", """import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
ds = open_dataset(DS)
row = tracks.sort("n_visible", descending=True).row(0, named=True)
track = ds.read_track(row["episode_id"], row["track_id"])
shown = [i for i in np.linspace(0, len(track) - 1, 4).astype(int)]
fig, axes = plt.subplots(1, len(shown), figsize=(16, 3))
for ax, i in zip(axes, shown):
    frame_index = int(track.frame_index[i])
    image = ds.read_frames(row["episode_id"], frame_index, frame_index + 1)[0].copy()
    image[track.mask[i]] = (0.5 * image[track.mask[i]] + [0, 127, 0]).astype(np.uint8)
    ax.imshow(image); ax.set_title(f"frame {frame_index} visible={bool(track.visible[i])}"); ax.axis("off")
fig.savefig(WORK / "overlay.png", dpi=60)"""),
    ("md", """## 4. MSTH indices (Act2Goal)
Proximal offsets `r, 2r, ..., P` and log-spaced distal offsets ending exactly at `K`."""),
    ("code", """from goalframe.sampling import msth_offsets
proximal, distal = msth_offsets(horizon=120, near=30, stride=5, distal=6)
print("proximal", proximal.tolist()); print("distal", distal.tolist())
fig, ax = plt.subplots(figsize=(10, 1.5))
ax.eventplot([proximal, distal], colors=["tab:blue", "tab:orange"], lineoffsets=[1, 0])
ax.set_yticks([1, 0], ["proximal", "distal"]); ax.set_xlabel("frames ahead of t")
fig.savefig(WORK / "msth.png", dpi=60)
!goalframe msth {DS} --horizon 120 --near 30 --stride 5 --distal 6
open_dataset(DS).table("msth").head(3)"""),
]

REVIEW = [
    ("md", """# The review loop: Label Studio

Push automatic masks to Label Studio as image tasks with brush predictions, correct them in
the browser, pull the corrections back as *reviewed* masks (the automatic ones stay).

Start a server (once): `pip install label-studio && label-studio start --port 8080`, create an
access token under *Account & Settings*, then set `LABEL_STUDIO_URL` and
`LABEL_STUDIO_API_KEY`. (In CI the test suite starts a real server and sets both.)"""),
    ("code", """import os, tempfile
from pathlib import Path
URL = os.environ.get("LABEL_STUDIO_URL", "http://localhost:8080")
assert os.environ.get("LABEL_STUDIO_API_KEY"), "set LABEL_STUDIO_API_KEY (never printed)"
WORK = Path(os.environ.get("GOALFRAME_NOTEBOOK_WORK") or tempfile.mkdtemp(prefix="goalframe-review-"))
RAW, DS = WORK / "raw-vpt", WORK / "vpt.zarr"
!goalframe synth vpt {RAW} --episodes 1 --frames 200 --seed 1
!goalframe ingest vpt {RAW} --out {DS}
!goalframe events {DS}
!goalframe masks {DS} --window 16
from goalframe.storage import open_dataset
tracks = open_dataset(DS).table("tracks")
assert tracks.height > 0, "no mask tracks to review"
print(tracks.height, "tracks")"""),
    ("code", """!goalframe review push {DS} --url {URL} --project notebook-review --frames-per-track 2
!goalframe review status {DS} --url {URL} --project notebook-review"""),
    ("md", """In the browser you would open the project, fix a mask with the brush and pick a
visibility. Here the same correction is made through the API: the first task's mask is
replaced by a box and marked *occluded*."""),
    ("code", """import numpy as np
from label_studio_sdk import LabelStudio
from label_studio_sdk.converter.brush import mask2rle
from goalframe.storage import open_dataset
ls = LabelStudio(base_url=URL, api_key=os.environ["LABEL_STUDIO_API_KEY"])
project = next(p for p in ls.projects.list() if p.title == "notebook-review")
task = next(iter(ls.tasks.list(project=project.id, fields="all")))
height, width = open_dataset(DS).meta(open_dataset(DS).episodes[0]).height, open_dataset(DS).meta(open_dataset(DS).episodes[0]).width
box = np.zeros((height, width), np.uint8); box[100:200, 250:400] = 255
ls.annotations.create(id=task.id, result=[
    {"from_name": "mask", "to_name": "image", "type": "brushlabels", "original_width": width, "original_height": height,
     "image_rotation": 0, "value": {"format": "rle", "rle": mask2rle(box), "brushlabels": ["object"]}},
    {"from_name": "visibility", "to_name": "image", "type": "choices", "value": {"choices": ["occluded"]}}])"""),
    ("code", """!goalframe review pull {DS} --url {URL} --project notebook-review
!goalframe review status {DS} --url {URL} --project notebook-review
tracks = open_dataset(DS).table("tracks")
tracks.filter(tracks["reviewed"]).select("track_id", "n_reviewed_frames", "n_visible")"""),
]

TRAINING = [
    ("md", """# Training and evaluating the reference policies

Build a small VPT dataset with pairs, train the ROCKET-2-style policy for a few steps,
and evaluate it offline and in closed loop. The numbers here are tiny-run numbers; see the
README for the full runs and the ablations."""),
    ("code", """import os, tempfile, json
from pathlib import Path
WORK = Path(os.environ.get("GOALFRAME_NOTEBOOK_WORK") or tempfile.mkdtemp(prefix="goalframe-training-"))
RAW, DS, RUN = WORK / "raw-vpt", WORK / "vpt.zarr", WORK / "run-rocket2"
!goalframe synth vpt {RAW} --episodes 3 --frames 160 --seed 2
!goalframe ingest vpt {RAW} --out {DS}
!goalframe events {DS}
!goalframe masks {DS} --window 32
!goalframe pairs {DS} --seed 0"""),
    ("code", """!goalframe train {DS} --policy rocket2 --out {RUN} --steps 20
!goalframe eval {RUN} --episodes 2
print(json.dumps(json.loads((RUN / "metrics.json").read_text()), indent=1)[:1500])"""),
]


def build(cells) -> nbformat.NotebookNode:
    notebook = new_notebook()
    notebook.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


if __name__ == "__main__":
    for name, cells in (("quickstart", QUICKSTART), ("review_loop", REVIEW), ("training", TRAINING)):
        nbformat.write(build(cells), HERE / f"{name}.ipynb")
        print(f"wrote notebooks/{name}.ipynb")
