"""The notebooks run top to bottom (nbclient, a real kernel), so they never rot."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"


def execute(name: str, work: Path, extra_env: dict[str, str] | None = None) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    env = {
        "GOALFRAME_NOTEBOOK_WORK": str(work),
        # `!goalframe ...` in the notebooks runs the goalframe of this interpreter
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        **(extra_env or {}),
    }
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        NotebookClient(
            notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(work)}}
        ).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> str:
    return "\n".join(
        o.get("text", "") or str(o.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells
        for o in cell.get("outputs", [])
    )


def test_quickstart(tmp_path):
    notebook = execute("quickstart", tmp_path)
    text = outputs(notebook)
    assert "written" in text and "events in" in text
    assert (tmp_path / "overlay.png").stat().st_size > 1000
    assert (tmp_path / "msth.png").exists()
    from goalframe.storage import open_dataset

    ds = open_dataset(tmp_path / "vpt.zarr")
    assert {"manifest", "events", "tracks", "msth"} <= set(ds.tables)


def test_review_loop(tmp_path, label_studio):
    notebook = execute(
        "review_loop",
        tmp_path,
        {"LABEL_STUDIO_URL": label_studio.url, "LABEL_STUDIO_API_KEY": label_studio.token},
    )
    assert label_studio.token not in outputs(notebook)
    from goalframe.storage import open_dataset

    tracks = open_dataset(tmp_path / "vpt.zarr").table("tracks")
    assert tracks["reviewed"].any()


def test_training(tmp_path):
    notebook = execute("training", tmp_path)
    text = outputs(notebook)
    assert "closed_loop" in text and "success_rate" in text
    run = tmp_path / "run-rocket2"
    assert (run / "metrics.json").exists() and (run / "learning_curve.png").stat().st_size > 1000
