"""The report's charts (matplotlib, Agg): the events timeline and the mask histograms, as PNG bytes."""

from __future__ import annotations

import io

import numpy as np
import polars as pl

from goalframe.viewing.report_data import TrackStats

MAX_TIMELINE_EPISODES = 40
DPI = 100


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    _pyplot().close(fig)
    return buffer.getvalue()


def interaction_colours(interactions: list[str]) -> dict[str, tuple]:
    """One tab10 colour per interaction type, stable for a given list."""
    plt = _pyplot()
    cmap = plt.get_cmap("tab10")
    return {name: cmap(i % 10) for i, name in enumerate(interactions)}


# Point-event markers by event kind; kinds not listed get a plain tick.
KIND_MARKERS = {"grasp": "v", "release": "^"}


def timeline_png(events: pl.DataFrame, lengths: dict[str, int], interactions: list[str]) -> bytes:
    """One lane per episode (the first ``MAX_TIMELINE_EPISODES``): its length as a grey bar, each
    point event a coloured mark above it, each task segment (AgiBot) a span below it.

    Colours are interaction types; with a single type (AgiBot: everything is "use") they are
    event kinds instead, so grasps, releases and segments still differ.
    """
    plt = _pyplot()
    episodes = sorted(lengths)[:MAX_TIMELINE_EPISODES]
    by = "interaction" if len(interactions) > 1 else "kind"
    groups = interactions if by == "interaction" else sorted(set(events["kind"].to_list()))
    colours = interaction_colours(groups)
    fig, ax = plt.subplots(figsize=(11, 1.3 + 0.42 * len(episodes)))
    for lane, episode in enumerate(episodes):
        y = len(episodes) - 1 - lane
        ax.barh(y, lengths[episode], height=0.5, color="#eeeeee", edgecolor="#bbbbbb", linewidth=0.5)
        rows = events.filter(pl.col("episode_id") == episode).sort("frame")
        n_segments = 0
        for row in rows.iter_rows(named=True):
            colour = colours.get(row[by], "black")
            if row["kind"] == "segment":
                span = max(1, row["end_frame"] - row["frame"])
                shade = 0.9 if n_segments % 2 == 0 else 0.45  # neighbouring segments told apart
                ax.barh(
                    y - 0.16,
                    span,
                    left=row["frame"],
                    height=0.14,
                    color=colour,
                    alpha=shade,
                    edgecolor="white",
                )
                n_segments += 1
            elif row["kind"] in KIND_MARKERS:
                ax.plot(row["frame"], y + 0.1, KIND_MARKERS[row["kind"]], color=colour, markersize=7)
            else:
                ax.plot([row["frame"]] * 2, [y - 0.22, y + 0.22], color=colour, linewidth=2.2)
    ax.set_yticks(range(len(episodes)), [_short(e) for e in reversed(episodes)], fontsize=8)
    ax.set_xlabel("frame")
    ax.set_xlim(0, max(lengths.values(), default=1))
    ax.set_ylim(-0.7, len(episodes) - 0.3)
    handles = [
        plt.Line2D(
            [],
            [],
            color=colours[g],
            linewidth=0 if g in KIND_MARKERS else 4,
            marker=KIND_MARKERS.get(g),
            label=g,
        )
        for g in groups
    ]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=len(handles), frameon=False)
    title = f"events per episode, coloured by {by}"
    if "segment" in events["kind"].to_list():
        title += " (task segments: the spans under each lane)"
    if len(lengths) > len(episodes):
        title += f"; first {len(episodes)} of {len(lengths)} episodes"
    ax.set_title(title, fontsize=10, pad=24)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return _png(fig)


def _short(episode: str, limit: int = 28) -> str:
    return episode if len(episode) <= limit else episode[: limit // 2 - 1] + "…" + episode[-limit // 2 :]


def histograms_png(stats: list[TrackStats]) -> bytes:
    """Per-frame mask scores (visible and not stacked), per-track visible share, largest mask share."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    scores = np.concatenate([s.scores for s in stats]) if stats else np.zeros(0)
    visible = np.concatenate([s.visible for s in stats]) if stats else np.zeros(0, bool)
    bins = np.linspace(0, 1, 21)
    axes[0].hist(
        [scores[visible], scores[~visible]],
        bins=bins,
        stacked=True,
        color=["#2a9d8f", "#e76f51"],
        label=[f"visible ({int(visible.sum())})", f"not visible ({int((~visible).sum())})"],
    )
    axes[0].set_title("mask score, per frame", fontsize=10)
    axes[0].set_xlabel("score")
    axes[0].set_ylabel("frames")
    axes[0].legend(fontsize=8)
    axes[1].hist([s.visible_fraction for s in stats], bins=bins, color="#457b9d")
    axes[1].set_title("visible share of each track's frames", fontsize=10)
    axes[1].set_xlabel("visible frames / frames")
    axes[1].set_ylabel("tracks")
    axes[2].hist([s.max_area for s in stats], bins=bins, color="#8d6a9f")
    axes[2].set_title("largest mask of each track", fontsize=10)
    axes[2].set_xlabel("share of the frame")
    axes[2].set_ylabel("tracks")
    for ax in axes:
        ax.set_xlim(0, 1)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.suptitle(f"{len(stats)} mask tracks, {len(scores)} frames", fontsize=10)
    fig.tight_layout()
    return _png(fig)
