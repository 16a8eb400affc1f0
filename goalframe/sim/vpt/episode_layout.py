"""Per-episode recording variants of synthetic VPT data: window sizes, pauses, counter resets."""

from __future__ import annotations

import random
from dataclasses import dataclass

from goalframe.sim.vpt.constants import (
    COUNTER_RESET_SPAN,
    GUI_SCALE,
    PAUSE_MS_RANGE,
    PAUSE_SPAN,
    WINDOW_LAYOUTS,
    WINDOW_W,
)

NON_UTF8_PLACEHOLDER = "\u0001NONUTF8\u0001"  # written in place of the bytes that make a line non-UTF-8


@dataclass(frozen=True)
class Layout:
    """How one episode is recorded: window, and the pause and counter reset it may have."""

    window: tuple[int, int]  # (width, height) window pixels
    framebuffer: tuple[int, int]  # (width, height) framebuffer pixels
    pause_tick: int | None  # the first line written after the pause
    pause_ms: int
    counter_reset_tick: int | None  # where a counter should vanish (the nearest tick that fits is used)

    @property
    def ratio(self) -> float:
        return self.framebuffer[0] / self.window[0]

    @property
    def gui_scale_factor(self) -> float:
        return GUI_SCALE / self.ratio

    @property
    def window_scale(self) -> float:
        """Window pixels per pixel of the world's 1280x720 cursor space."""
        return self.window[0] / WINDOW_W


def episode_layout(index: int, seed: int, frames: int) -> Layout:
    """The layout of episode ``index``; draws from its own generator, so frames do not change."""
    rng = random.Random(f"vpt-layout-{seed}")
    window, framebuffer = WINDOW_LAYOUTS[index % len(WINDOW_LAYOUTS)]
    pause_tick = rng.randint(max(1, int(frames * PAUSE_SPAN[0])), max(1, int(frames * PAUSE_SPAN[1])))
    pause_ms = rng.randint(*PAUSE_MS_RANGE)
    reset_tick = rng.randint(
        max(1, int(frames * COUNTER_RESET_SPAN[0])), max(1, int(frames * COUNTER_RESET_SPAN[1]))
    )
    paused = index % 2 == 1 and frames > 2
    return Layout(
        window, framebuffer, pause_tick if paused else None, pause_ms, reset_tick if index % 2 == 0 else None
    )
