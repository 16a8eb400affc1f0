"""What the VPT recorder did to the values it wrote: window size, GUI scaling, pauses.

Facts from the recorder (``PlayRecorder.java``, ``MouseHelper.java`` in the MCP-Reborn forks)
and openai/Video-Pre-Training ``data_loader.py`` (see ``raw-formats.md``, section VPT):

* ``mouse.x, mouse.y`` are window coordinates; the window size is in ``-options.json``
  (``windowWidth``, ``windowHeight``), usually but not always 1280x720. The frame is the
  framebuffer shrunk to 640x360, so a cursor lands at ``x * frame_width / windowWidth``.
* While a GUI is open the recorder divides ``mouse.dx, dy, scaledX, scaledY`` by the GUI
  scale factor ``guiScale / framebufferToWindowRatio``.
* VPT lists recorder-version factors for GUI-open deltas (``MINEREC_VERSION_SPECIFIC_SCALERS``)
  without applying them in its own conversion.
* While the game is paused nothing is written and ``tick`` stops, but ``milli`` runs on.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

DEFAULT_WINDOW = (1280, 720)  # (width, height) in window pixels: the usual contractor window
# Minecraft 1.16 Window.calculateScale: the GUI scale grows while the scaled GUI stays this big.
MIN_SCALED_GUI_SIZE = (320, 240)  # (width, height) in scaled GUI pixels
# A jump in milli larger than this between consecutive lines is a pause (one tick is 50 ms;
# a lagging client stretches single ticks to a few hundred ms, a pause menu lasts seconds).
PAUSE_GAP_MS = 1000
#: openai/Video-Pre-Training data_loader.py: factors for GUI-open mouse deltas by recorder version.
MINEREC_VERSION_SPECIFIC_SCALERS: dict[str, float] = {
    "5.7": 0.5,
    "5.8": 0.5,
    "6.7": 2.0,
    "6.8": 2.0,
    "6.9": 2.0,
}


def option_number(options: dict[str, Any] | None, key: str) -> float | None:
    """A numeric option: game options are written as strings ("2"), the window fields as numbers."""
    if not options or key not in options:
        return None
    value = options[key]
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().strip('"'))
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    if value <= 0 and key != "guiScale":  # guiScale 0 means "auto"; sizes must be positive
        return None
    return float(value)


def minecraft_gui_scale(
    requested: int, framebuffer_width: int, framebuffer_height: int, force_unicode: bool = False
) -> int:
    """Minecraft's ``Window.calculateScale``: the requested scale (0 = auto), as far as it fits."""
    min_w, min_h = MIN_SCALED_GUI_SIZE
    scale = 1
    while (
        scale != requested
        and scale < framebuffer_width
        and scale < framebuffer_height
        and framebuffer_width // (scale + 1) >= min_w
        and framebuffer_height // (scale + 1) >= min_h
    ):
        scale += 1
    if force_unicode and scale % 2:
        scale += 1
    return scale


@dataclass(frozen=True)
class Window:
    """The recording window of one segment, as ``-options.json`` describes it."""

    width: int
    height: int
    framebuffer_width: int
    framebuffer_height: int
    framebuffer_to_window_ratio: float
    gui_scale: int | None  # effective GUI scale (options guiScale resolved as the game does); None: unknown
    gui_scale_factor: float | None  # what GUI-open deltas were divided by; None: unknown
    source: str  # "options" (read from the file) or "default" (1280x720 assumed)

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    @property
    def is_usual(self) -> bool:
        return self.size == DEFAULT_WINDOW

    def to_attrs(self) -> dict[str, Any]:
        return asdict(self)


def default_window() -> Window:
    width, height = DEFAULT_WINDOW
    return Window(width, height, width, height, 1.0, None, None, "default")


def window_from_options(options: dict[str, Any] | None) -> tuple[Window, str | None]:
    """The window of a segment and, when the file does not give a usable size, why not."""
    width, height = option_number(options, "windowWidth"), option_number(options, "windowHeight")
    if width is None or height is None:
        why = "no options file" if options is None else "no usable windowWidth/windowHeight in the options"
        return default_window(), why
    fb_width = option_number(options, "framebufferWidth") or width
    fb_height = option_number(options, "framebufferHeight") or height
    ratio = option_number(options, "framebufferToWindowRatio") or fb_width / width
    requested = option_number(options, "guiScale")
    gui_scale = factor = None
    if requested is not None:
        force_unicode = str(options.get("forceUnicodeFont", "false")).strip('"').lower() == "true"
        gui_scale = minecraft_gui_scale(int(requested), int(fb_width), int(fb_height), force_unicode)
        factor = gui_scale / ratio
    window = Window(
        int(width), int(height), int(fb_width), int(fb_height), float(ratio), gui_scale, factor, "options"
    )
    return window, None


def version_factor(version: str | None) -> float:
    """VPT's factor for GUI-open mouse deltas of this recorder version (1 when none is listed)."""
    return MINEREC_VERSION_SPECIFIC_SCALERS.get(version or "", 1.0)


def pauses_before(milli: np.ndarray) -> np.ndarray:
    """True on a frame that follows a pause: ``milli`` jumped by more than PAUSE_GAP_MS.

    Lines without ``milli`` (-1) never mark a pause.
    """
    milli = np.asarray(milli, dtype=np.int64)
    flags = np.zeros(len(milli), dtype=bool)
    if len(milli) > 1:
        known = (milli[1:] >= 0) & (milli[:-1] >= 0)
        flags[1:] = known & (np.diff(milli) > PAUSE_GAP_MS)
    return flags
