"""The choose-target comparison's figures: seeds pooled with Wilson intervals, the verdict
(full above another policy only when the intervals do not overlap), the plot and the README
table regenerated from the JSON between its markers."""

from __future__ import annotations

import json

import pytest

from goalframe.training.choose_report import (
    README_BEGIN,
    README_END,
    markdown_table,
    plot_rates,
    pooled,
    update_readme,
    verdict,
)


def _seed(successes: int, episodes: int = 50) -> dict:
    return {
        "successes": successes,
        "episodes": episodes,
        "success_rate": successes / episodes,
        "outcomes": {"goal": successes, "distractor": episodes - successes, "none": 0},
    }


def test_seeds_pool_into_one_interval_with_their_spread():
    row = pooled([_seed(40), _seed(30)])
    assert row["episodes"] == 100 and row["successes"] == 70 and row["success_rate"] == 0.7
    lo, hi = row["ci95"]
    assert 0.59 < lo < 0.7 < hi < 0.79  # Wilson, 70 of 100
    assert row["mean"] == pytest.approx(0.7) and row["std"] == pytest.approx(0.1)
    assert row["outcomes"] == {"goal": 70, "distractor": 30, "none": 0}
    assert pooled([_seed(10)])["std"] == 0.0


def test_the_verdict_needs_intervals_apart():
    rows = {"full": pooled([_seed(40)]), "close": pooled([_seed(35)]), "far": pooled([_seed(15)])}
    assert verdict(rows, "full", ["close", "far", "missing"]) == {"close": False, "far": True}


def test_the_readme_table_and_plot_come_from_the_json(tmp_path):
    rows = {"full": pooled([_seed(40), _seed(44)]), "nearest candidate": _seed(17) | {"ci95": [0.2, 0.5]}}
    results = {"rows": rows, "full_beats": verdict(rows, "full", ["nearest candidate"])}
    results = json.loads(json.dumps(results))  # what the pipeline writes and reads back
    table = markdown_table(results)
    assert "| full | 2 | 100 | 0.84 |" in table and "| nearest candidate |  | 50 | 0.34 |" in table
    assert "beyond the intervals: nearest candidate." in table
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n{README_BEGIN}\nold table\n{README_END}\nafter\n")
    assert update_readme(readme, results)
    text = readme.read_text()
    assert "old table" not in text and table in text and text.endswith("after\n")
    assert update_readme(readme, results) and readme.read_text() == text  # idempotent
    bare = tmp_path / "BARE.md"
    bare.write_text("no markers\n")
    assert not update_readme(bare, results) and bare.read_text() == "no markers\n"
    plot_rates(rows, tmp_path / "rates.png", "test")
    assert (tmp_path / "rates.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
