"""Procedural block textures, item icons, the cursor, and pasting them into frames."""

from __future__ import annotations

import cv2
import numpy as np

from goalframe.sim.vpt.blocks import (
    BLOCK_CODE,
    BLOCKS,
    ITEM_COLORS,
    ITEMS,
)


def _make_textures() -> np.ndarray:
    """(n_types * 4 variants * 16 * 16, 3) uint8 colours for the ground pass."""
    rng = np.random.default_rng(20220421)
    out = np.zeros((len(BLOCKS), 4, 16, 16, 3), np.float32)
    for code, b in enumerate(BLOCKS):
        base = np.array(b.top, np.float32)
        noise = rng.random((16, 16)).astype(np.float32)
        tex = base[None, None, :] * (0.86 + 0.24 * noise[..., None])
        if b.name in ("coal_ore", "iron_ore"):
            spots = rng.random((16, 16)) < 0.18
            tex[spots] = np.array(b.spot, np.float32)
        elif b.name == "oak_log":
            yy, xx = np.mgrid[0:16, 0:16]
            ring = (np.maximum(abs(yy - 7.5), abs(xx - 7.5)).astype(int) % 3) == 0
            tex[ring] *= 0.82
            edge = np.maximum(abs(yy - 7.5), abs(xx - 7.5)) > 6.5
            tex[edge] = np.array(b.side, np.float32)
        elif b.name == "oak_planks":
            tex[3::4, :] *= 0.72
        elif b.name == "grass_block":
            tufts = rng.random((16, 16)) < 0.12
            tex[tufts] *= 1.18
        elif b.name == "crafting_table":
            tex[:, 7:9] *= 0.6
            tex[7:9, :] *= 0.6
        for v, k in enumerate((0.95, 1.0, 1.05, 0.98)):
            out[code, v] = tex * k
    return np.clip(out, 0, 255).astype(np.uint8).reshape(-1, 3)


_TEXTURES = _make_textures()


def _make_icon(name: str) -> tuple[np.ndarray, np.ndarray]:
    """16x16 RGB icon and alpha mask for an item."""
    img = np.zeros((16, 16, 3), np.uint8)
    mask = np.zeros((16, 16), np.uint8)
    if name in BLOCK_CODE and name != "air":
        b = BLOCKS[BLOCK_CODE[name]]
        top = np.array(b.top, float)
        side = np.array(b.side, float)
        polys = [
            (np.array([[8, 1], [15, 4], [8, 7], [1, 4]]), top),
            (np.array([[1, 4], [8, 7], [8, 15], [1, 12]]), side * 0.8),
            (np.array([[8, 7], [15, 4], [15, 12], [8, 15]]), side * 0.6),
        ]
        for pts, col in polys:
            cv2.fillConvexPoly(img, pts.astype(np.int32), tuple(int(c) for c in col))
            cv2.fillConvexPoly(mask, pts.astype(np.int32), 255)
        if b.spot is not None:
            cv2.circle(img, (5, 10), 1, b.spot, -1)
            cv2.circle(img, (11, 9), 1, b.spot, -1)
        return img, mask > 0
    col = ITEM_COLORS.get(name, (200, 0, 200))
    if name in ("stick", "torch"):
        cv2.line(img, (4, 13), (12, 3), col if name == "stick" else (120, 90, 50), 2)
        cv2.line(mask, (4, 13), (12, 3), 255, 2)
        if name == "torch":
            cv2.circle(img, (12, 3), 2, col, -1)
            cv2.circle(mask, (12, 3), 2, 255, -1)
    elif name.endswith(("pickaxe", "axe", "sword")):
        cv2.line(img, (3, 14), (11, 6), (120, 90, 50), 2)
        cv2.line(mask, (3, 14), (11, 6), 255, 2)
        if name.endswith("pickaxe"):
            cv2.ellipse(img, (9, 7), (7, 5), -45, 180, 360, col, 2)
            cv2.ellipse(mask, (9, 7), (7, 5), -45, 180, 360, 255, 2)
        elif name.endswith("sword"):
            cv2.line(img, (8, 9), (14, 1), col, 3)
            cv2.line(mask, (8, 9), (14, 1), 255, 3)
        else:
            cv2.rectangle(img, (9, 2), (14, 8), col, -1)
            cv2.rectangle(mask, (9, 2), (14, 8), 255, -1)
    else:
        cv2.ellipse(img, (8, 8), (6, 5), 20, 0, 360, col, -1)
        cv2.ellipse(mask, (8, 8), (6, 5), 20, 0, 360, 255, -1)
        cv2.ellipse(img, (6, 6), (2, 1), 20, 0, 360, tuple(min(255, c + 50) for c in col), -1)
    return img, mask > 0


_ICONS = {n: _make_icon(n) for n in ITEMS if n != "air"}


def _make_cursor() -> tuple[np.ndarray, np.ndarray]:
    img = np.zeros((16, 16, 3), np.uint8)
    mask = np.zeros((16, 16), np.uint8)
    pts = np.array([[0, 0], [0, 13], [3, 10], [6, 15], [8, 14], [5, 9], [9, 9]], np.int32)
    cv2.fillPoly(img, [pts], (255, 255, 255))
    cv2.fillPoly(mask, [pts], 255)
    cv2.polylines(img, [pts], True, (0, 0, 0), 1)
    cv2.polylines(mask, [pts], True, 255, 1)
    return img, mask > 0


_CURSOR = _make_cursor()


def _paste(dst: np.ndarray, src: np.ndarray, mask: np.ndarray, x: int, y: int) -> None:
    """Copy ``src`` where ``mask`` onto ``dst`` with top-left (x, y), clipped."""
    h, w = mask.shape
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, dst.shape[1]), min(y + h, dst.shape[0])
    if x0 >= x1 or y0 >= y1:
        return
    sub = (slice(y0 - y, y1 - y), slice(x0 - x, x1 - x))
    np.copyto(dst[y0:y1, x0:x1], src[sub], where=mask[sub][..., None] if dst.ndim == 3 else mask[sub])


def _draw_count(img: np.ndarray, n: int, x: int, y: int) -> None:
    """Stack size at the bottom right of a 16x16 slot at (x, y)."""
    if n <= 1:
        return
    s = str(n)
    tx = x + 17 - 6 * len(s)
    cv2.putText(img, s, (tx + 1, y + 17), cv2.FONT_HERSHEY_PLAIN, 0.62, (62, 62, 62), 1, cv2.LINE_8)
    cv2.putText(img, s, (tx, y + 16), cv2.FONT_HERSHEY_PLAIN, 0.62, (255, 255, 255), 1, cv2.LINE_8)
