"""A small first-person voxel world in the style of Minecraft, for synthetic VPT data.

``VptWorld`` is a deterministic environment: ``reset(seed)``, ``step(action)`` with the
VPT/MineRL env action (``attack``, ``forward``, ..., ``hotbar.1``..``hotbar.9`` as 0/1 and
``camera`` = ``[pitch_deg, yaw_deg]``), and ``render()`` returning an RGB frame (360, 640, 3)
plus a per-pixel object-id image (360, 640) uint16 that names the world object each pixel
shows (a block instance, a mob, or a GUI item slot, the HUD hotbar's item icons included;
0 for sky, far fog, the hand, HUD decorations and empty GUI areas). Ids below
``GUI_ID_BASE`` are world objects (``objects``); GUI ids encode slot and item
(``object_info``).
Rendering, stepping and file writing are separate: this module writes no files.

World model (Minecraft conventions): x east, y up, z south; yaw 0 faces +z, yaw grows when
turning right (clockwise seen from above), pitch > 0 looks down. The ground is a flat layer
of block columns whose top is at ``GROUND_Y``; mining a ground cell digs one block deeper.
Trees, boulders with ores, and blocks the player places stand on it. Pigs, cows and zombies
wander. The player mines (hold attack), hits mobs (press attack), places blocks and opens
crafting tables (use), opens the inventory (``inventory``) and crafts by clicking the output
slot with the cursor (camera deltas move the cursor while a GUI is open; 1 pixel of the
1280x720 window = 360/2400 degree of camera action).

Timing: ``step`` updates stats, inventory and player state at once; the visible effect of a
discrete interaction on a world object (a mined block vanishing, a killed mob, GUI slot
contents after a click) shows from the NEXT rendered frame, so the frame rendered after the
step whose stats first show an event still shows the object under the prompt point
(crosshair, or cursor when a GUI is open). Placed blocks show at once.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

WIDTH, HEIGHT = 640, 360
LOW_W, LOW_H = 320, 180
FPS = 20
WINDOW_W, WINDOW_H = 1280, 720
GUI_SCALE = 2  # window pixels per GUI pixel; the 640x360 frame is the GUI-pixel canvas
CAMERA_SCALER = 360.0 / 2400.0  # degrees of camera per mouse pixel
GROUND_Y = 64  # top surface of the ground
REGION = 72  # world size in cells (x and z)
FOV_Y = 70.0
FOCAL = (LOW_H / 2) / math.tan(math.radians(FOV_Y / 2))
# principal point at the frame's centre as in the game's projection: cv2 fills pixel centres
# at integer coordinates, so the centre of a W-pixel row is at (W - 1) / 2
CX, CY = (LOW_W - 1) / 2, (LOW_H - 1) / 2
NEAR = 0.05
FACE_CULL = 44.0
FOG_START, FOG_END = 24.0, 60.0
REACH_BLOCK, REACH_ENTITY = 4.5, 3.0
EYE_HEIGHT, EYE_HEIGHT_SNEAK = 1.62, 1.27
PLAYER_HALF, PLAYER_HEIGHT = 0.3, 1.8
GUI_ID_BASE = 60000  # ids >= this are GUI slots: GUI_ID_BASE + slot * 64 + item index
MAX_STACK = 64
DEATH_TICKS = 10  # a killed mob lies red this long before vanishing

SKY_ZENITH = np.array([120.0, 165.0, 255.0], np.float32)
SKY_HORIZON = np.array([192.0, 216.0, 255.0], np.float32)

# ----------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class BlockDef:
    name: str
    top: tuple[int, int, int]
    side: tuple[int, int, int]
    ticks_hand: int  # ticks of holding attack to mine by hand
    ticks_tool: int  # ... with the right tool
    tool: str | None  # "pickaxe" or None
    drop: str | None  # item picked up
    needs_tool: bool  # drops nothing without the tool
    spot: tuple[int, int, int] | None = None  # inner square colour on every face (ores)
    top_spot: tuple[int, int, int] | None = None  # inner square on the top face only


BLOCKS: list[BlockDef] = [
    BlockDef("air", (0, 0, 0), (0, 0, 0), 0, 0, None, None, False),
    BlockDef("grass_block", (98, 158, 56), (128, 100, 66), 18, 18, None, "dirt", False, top_spot=None),
    BlockDef("dirt", (134, 96, 67), (134, 96, 67), 15, 15, None, "dirt", False),
    BlockDef("sand", (219, 207, 163), (214, 201, 156), 15, 15, None, "sand", False),
    BlockDef("gravel", (136, 126, 126), (130, 121, 121), 18, 18, None, "gravel", False),
    BlockDef("stone", (125, 125, 125), (120, 120, 120), 150, 12, "pickaxe", "cobblestone", True),
    BlockDef("cobblestone", (112, 112, 112), (106, 106, 106), 200, 15, "pickaxe", "cobblestone", True),
    BlockDef("coal_ore", (122, 122, 122), (118, 118, 118), 300, 24, "pickaxe", "coal", True, spot=(34, 34, 34)),
    BlockDef("iron_ore", (128, 124, 120), (124, 120, 116), 300, 30, "pickaxe", "iron_ore", True, spot=(214, 172, 140)),
    BlockDef("oak_log", (176, 142, 88), (104, 82, 50), 40, 20, None, "oak_log", False, top_spot=(150, 116, 66)),
    BlockDef("oak_leaves", (58, 122, 34), (52, 114, 30), 6, 6, None, None, False),
    BlockDef("oak_planks", (164, 132, 80), (158, 127, 76), 30, 15, None, "oak_planks", False),
    BlockDef("crafting_table", (150, 112, 66), (128, 96, 58), 30, 15, None, "crafting_table", False, top_spot=(96, 66, 40)),
]
BLOCK_CODE = {b.name: i for i, b in enumerate(BLOCKS)}
PLACEABLE = {"dirt", "sand", "gravel", "stone", "cobblestone", "oak_log", "oak_planks", "crafting_table", "grass_block"}

ITEMS: list[str] = [
    "air", "grass_block", "dirt", "sand", "gravel", "stone", "cobblestone", "coal_ore", "iron_ore",
    "oak_log", "oak_leaves", "oak_planks", "crafting_table", "coal", "stick", "wooden_pickaxe",
    "stone_pickaxe", "wooden_sword", "torch", "porkchop", "beef", "leather", "rotten_flesh",
    "oak_sapling", "apple", "iron_ingot", "furnace", "wooden_axe", "bread",
]
ITEM_INDEX = {n: i for i, n in enumerate(ITEMS)}
ITEM_COLORS: dict[str, tuple[int, int, int]] = {
    "coal": (40, 40, 40), "stick": (120, 90, 50), "wooden_pickaxe": (150, 118, 70),
    "stone_pickaxe": (130, 130, 130), "wooden_sword": (150, 118, 70), "torch": (240, 200, 80),
    "porkchop": (232, 140, 140), "beef": (190, 60, 50), "leather": (150, 90, 50),
    "rotten_flesh": (120, 80, 60), "oak_sapling": (70, 140, 40), "apple": (210, 30, 30),
    "iron_ingot": (220, 220, 220), "furnace": (110, 110, 110), "wooden_axe": (150, 118, 70),
    "bread": (200, 150, 70),
}
FOOD = {"porkchop", "beef", "apple", "bread", "rotten_flesh"}
TOOLS = {"wooden_pickaxe": ("pickaxe", 2), "stone_pickaxe": ("pickaxe", 3), "wooden_sword": ("sword", 4), "wooden_axe": ("axe", 3)}
STACK_ONE = set(TOOLS)

# shaped recipes: rows of item names (None = empty), result, count
RECIPES: list[tuple[list[list[str | None]], str, int]] = [
    ([["oak_log"]], "oak_planks", 4),
    ([["oak_planks"], ["oak_planks"]], "stick", 4),
    ([["oak_planks", "oak_planks"], ["oak_planks", "oak_planks"]], "crafting_table", 1),
    ([["coal"], ["stick"]], "torch", 4),
    ([["oak_planks"] * 3, [None, "stick", None], [None, "stick", None]], "wooden_pickaxe", 1),
    ([["cobblestone"] * 3, [None, "stick", None], [None, "stick", None]], "stone_pickaxe", 1),
    ([["oak_planks"], ["oak_planks"], ["stick"]], "wooden_sword", 1),
    ([["cobblestone"] * 3, ["cobblestone", None, "cobblestone"], ["cobblestone"] * 3], "furnace", 1),
]

# ----------------------------------------------------------------------------- mobs


@dataclass(frozen=True)
class MobDef:
    name: str
    health: int
    speed: float
    parts: tuple  # ((x0, y0, z0, x1, y1, z1), (r, g, b)) in local coords facing +z
    drops: tuple  # ((item, min, max), ...)


MOBS: dict[str, MobDef] = {
    "pig": MobDef("pig", 10, 0.045, (
        ((-0.3125, 0.0, -0.4375, -0.0625, 0.375, -0.1875), (222, 140, 140)),
        ((0.0625, 0.0, -0.4375, 0.3125, 0.375, -0.1875), (222, 140, 140)),
        ((-0.3125, 0.0, 0.1875, -0.0625, 0.375, 0.4375), (222, 140, 140)),
        ((0.0625, 0.0, 0.1875, 0.3125, 0.375, 0.4375), (222, 140, 140)),
        ((-0.3125, 0.375, -0.5, 0.3125, 0.875, 0.5), (240, 160, 160)),
        ((-0.25, 0.5, 0.5, 0.25, 1.0, 0.95), (244, 170, 168)),
        ((-0.125, 0.5625, 0.95, 0.125, 0.75, 1.02), (214, 112, 124)),
    ), (("porkchop", 1, 3),)),
    "cow": MobDef("cow", 10, 0.04, (
        ((-0.375, 0.0, -0.5, -0.125, 0.75, -0.25), (220, 214, 206)),
        ((0.125, 0.0, -0.5, 0.375, 0.75, -0.25), (70, 50, 38)),
        ((-0.375, 0.0, 0.25, -0.125, 0.75, 0.5), (70, 50, 38)),
        ((0.125, 0.0, 0.25, 0.375, 0.75, 0.5), (220, 214, 206)),
        ((-0.375, 0.75, -0.5625, 0.375, 1.375, 0.5625), (84, 60, 44)),
        ((-0.25, 1.0, 0.5625, 0.25, 1.5, 0.9375), (92, 66, 48)),
        ((-0.3125, 1.375, 0.6875, 0.3125, 1.5, 0.75), (212, 206, 190)),
    ), (("beef", 1, 3), ("leather", 0, 2))),
    "zombie": MobDef("zombie", 20, 0.05, (
        ((-0.25, 0.0, -0.125, 0.0, 0.75, 0.125), (62, 58, 150)),
        ((0.0, 0.0, -0.125, 0.25, 0.75, 0.125), (56, 52, 140)),
        ((-0.25, 0.75, -0.125, 0.25, 1.5, 0.125), (0, 160, 164)),
        ((-0.5, 1.25, -0.125, -0.25, 1.5, 0.625), (94, 146, 80)),
        ((0.25, 1.25, -0.125, 0.5, 1.5, 0.625), (94, 146, 80)),
        ((-0.25, 1.5, -0.25, 0.25, 2.0, 0.25), (100, 152, 86)),
    ), (("rotten_flesh", 0, 2),)),
}


@dataclass
class Mob:
    id: int
    kind: str
    x: float
    z: float
    heading: float  # degrees, Minecraft yaw convention
    health: int
    y: float = float(GROUND_Y)
    state: str = "idle"
    state_ticks: int = 0
    hurt_ticks: int = 0
    panic_ticks: int = 0
    dead_ticks: int = 0

    def facing(self) -> int:
        """Heading snapped to 0 (+z), 1 (-x), 2 (-z), 3 (+x)."""
        return int(round((self.heading % 360.0) / 90.0)) % 4

    def boxes(self, squash: float = 1.0) -> list[tuple[np.ndarray, np.ndarray, tuple]]:
        out = []
        k = self.facing()
        for (x0, y0, z0, x1, y1, z1), col in MOBS[self.kind].parts:
            # rotate (x, z) by k quarter turns: +z -> -x -> -z -> +x
            corners = [(x0, z0), (x1, z1)]
            rot = []
            for lx, lz in corners:
                for _ in range(k):
                    lx, lz = -lz, lx
                rot.append((lx, lz))
            (ax, az), (bx, bz) = rot
            lo = np.array([self.x + min(ax, bx), self.y + y0 * squash, self.z + min(az, bz)])
            hi = np.array([self.x + max(ax, bx), self.y + y1 * squash, self.z + max(az, bz)])
            out.append((lo, hi, col))
        return out


# ----------------------------------------------------------------------------- geometry helpers

_FACE_AXIS = np.array([0, 0, 1, 1, 2, 2])
_FACE_SIGN = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
_FACE_OFFSETS = [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]
_FACE_CORNERS = np.array([
    [[1, 0, 0], [1, 1, 0], [1, 1, 1], [1, 0, 1]],
    [[0, 0, 0], [0, 0, 1], [0, 1, 1], [0, 1, 0]],
    [[0, 1, 0], [0, 1, 1], [1, 1, 1], [1, 1, 0]],
    [[0, 0, 0], [1, 0, 0], [1, 0, 1], [0, 0, 1]],
    [[0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]],
    [[0, 0, 0], [0, 1, 0], [1, 1, 0], [1, 0, 0]],
], np.float64)
_FACE_SHADE = np.array([0.62, 0.62, 1.0, 0.5, 0.8, 0.8])


def _hash01(*vals: int) -> float:
    h = 2166136261
    for v in vals:
        h = ((h ^ (v & 0xFFFFFFFF)) * 16777619) & 0xFFFFFFFF
        h ^= h >> 13
        h = (h * 0x5BD1E995) & 0xFFFFFFFF
        h ^= h >> 15
    return h / 4294967296.0


def _jitter(obj_id: int) -> float:
    return 0.93 + 0.14 * _hash01(obj_id, 77)


def camera_basis(yaw: float, pitch: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(forward, right, up) unit vectors for Minecraft yaw/pitch in degrees."""
    ps, pc = math.sin(math.radians(yaw)), math.cos(math.radians(yaw))
    ts, tc = math.sin(math.radians(pitch)), math.cos(math.radians(pitch))
    f = np.array([-ps * tc, -ts, pc * tc])
    r = np.array([-pc, 0.0, -ps])
    u = np.array([-ps * ts, tc, pc * ts])
    return f, r, u


def look_angles(eye: np.ndarray, point: np.ndarray) -> tuple[float, float]:
    """Yaw and pitch (degrees) that look from ``eye`` at ``point``."""
    d = np.asarray(point, float) - eye
    yaw = math.degrees(math.atan2(-d[0], d[2]))
    pitch = -math.degrees(math.atan2(d[1], math.hypot(d[0], d[2])))
    return yaw, pitch


def _ray_box(o: np.ndarray, d: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float | None:
    t0, t1 = 0.0, math.inf
    for a in range(3):
        if abs(d[a]) < 1e-12:
            if o[a] < lo[a] or o[a] > hi[a]:
                return None
            continue
        ta = (lo[a] - o[a]) / d[a]
        tb = (hi[a] - o[a]) / d[a]
        if ta > tb:
            ta, tb = tb, ta
        t0, t1 = max(t0, ta), min(t1, tb)
        if t0 > t1:
            return None
    return t0


# ----------------------------------------------------------------------------- textures and icons


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
            edge = (np.maximum(abs(yy - 7.5), abs(xx - 7.5)) > 6.5)
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


# ----------------------------------------------------------------------------- GUI layout

GUI_PANEL_W, GUI_PANEL_H = 176, 166
GUI_LEFT, GUI_TOP = (WIDTH - GUI_PANEL_W) // 2, (HEIGHT - GUI_PANEL_H) // 2
SLOT_OUTPUT = 45
SLOT_CRAFT0 = 36  # 36..44 crafting grid (3x3, row-major); the inventory screen uses 36, 37, 39, 40
SLOT_HUD0 = 46  # 46..54 the HUD hotbar
SLOT_NAMES = [f"hotbar_{i}" for i in range(9)] + [f"inventory_{i}" for i in range(9, 36)] + \
    [f"craft_{i}" for i in range(9)] + ["craft_output"] + [f"hud_hotbar_{i}" for i in range(9)]
HOTBAR_X, HOTBAR_Y = (WIDTH - 182) // 2, HEIGHT - 22


def gui_slot_rects(table: bool) -> dict[int, tuple[int, int]]:
    """Slot index -> top-left (x, y) of its 16x16 item area in frame pixels."""
    rects: dict[int, tuple[int, int]] = {}
    for i in range(9):
        rects[i] = (GUI_LEFT + 8 + 18 * i, GUI_TOP + 142)
    for i in range(27):
        rects[9 + i] = (GUI_LEFT + 8 + 18 * (i % 9), GUI_TOP + 84 + 18 * (i // 9))
    if table:
        for j in range(9):
            rects[SLOT_CRAFT0 + j] = (GUI_LEFT + 30 + 18 * (j % 3), GUI_TOP + 17 + 18 * (j // 3))
        rects[SLOT_OUTPUT] = (GUI_LEFT + 124, GUI_TOP + 35)
    else:
        for j in (0, 1, 3, 4):
            rects[SLOT_CRAFT0 + j] = (GUI_LEFT + 98 + 18 * (j % 3), GUI_TOP + 18 + 18 * (j // 3))
        rects[SLOT_OUTPUT] = (GUI_LEFT + 154, GUI_TOP + 28)
    return rects


_SLOT_RECTS = {False: gui_slot_rects(False), True: gui_slot_rects(True)}


def _make_panel(table: bool) -> np.ndarray:
    img = np.full((GUI_PANEL_H, GUI_PANEL_W, 3), 198, np.uint8)
    cv2.rectangle(img, (0, 0), (GUI_PANEL_W - 1, GUI_PANEL_H - 1), (0, 0, 0), 1)
    cv2.line(img, (1, 1), (GUI_PANEL_W - 3, 1), (255, 255, 255), 1)
    cv2.line(img, (1, 1), (1, GUI_PANEL_H - 3), (255, 255, 255), 1)
    cv2.line(img, (2, GUI_PANEL_H - 2), (GUI_PANEL_W - 2, GUI_PANEL_H - 2), (85, 85, 85), 1)
    cv2.line(img, (GUI_PANEL_W - 2, 2), (GUI_PANEL_W - 2, GUI_PANEL_H - 2), (85, 85, 85), 1)
    rects = dict(_SLOT_RECTS[table])
    if not table:
        for k in range(4):
            rects[100 + k] = (GUI_LEFT + 8, GUI_TOP + 8 + 18 * k)  # armour
        rects[104] = (GUI_LEFT + 77, GUI_TOP + 62)  # off hand
        cv2.rectangle(img, (26, 8), (75, 77), (0, 0, 0), -1)
        cv2.rectangle(img, (44, 18), (57, 31), (190, 150, 120), -1)  # a tiny player preview
        cv2.rectangle(img, (44, 32), (57, 52), (40, 160, 170), -1)
        cv2.rectangle(img, (44, 53), (57, 72), (60, 60, 150), -1)
    for s, (x, y) in rects.items():
        x, y = x - GUI_LEFT, y - GUI_TOP
        big = s == SLOT_OUTPUT
        pad = 5 if big else 1
        cv2.rectangle(img, (x - pad, y - pad), (x + 15 + pad, y + 15 + pad), (139, 139, 139), -1)
        cv2.line(img, (x - pad, y - pad), (x + 15 + pad, y - pad), (55, 55, 55), 1)
        cv2.line(img, (x - pad, y - pad), (x - pad, y + 15 + pad), (55, 55, 55), 1)
        cv2.line(img, (x - pad, y + 16 + pad), (x + 16 + pad, y + 16 + pad), (255, 255, 255), 1)
        cv2.line(img, (x + 16 + pad, y - pad), (x + 16 + pad, y + 16 + pad), (255, 255, 255), 1)
    if table:
        ax, ay = 90, 35
        cv2.putText(img, "Crafting", (28, 12), cv2.FONT_HERSHEY_PLAIN, 0.7, (64, 64, 64), 1)
    else:
        ax, ay = 134, 28
        cv2.putText(img, "Crafting", (97, 14), cv2.FONT_HERSHEY_PLAIN, 0.7, (64, 64, 64), 1)
    arrow = np.array([[ax, ay + 5], [ax + 14, ay + 5], [ax + 14, ay + 1], [ax + 21, ay + 8],
                      [ax + 14, ay + 15], [ax + 14, ay + 11], [ax, ay + 11]], np.int32)
    cv2.fillPoly(img, [arrow], (139, 139, 139))
    cv2.putText(img, "Inventory", (8, 80), cv2.FONT_HERSHEY_PLAIN, 0.7, (64, 64, 64), 1)
    return img


_PANELS = {False: _make_panel(False), True: _make_panel(True)}


def gui_object_id(slot: int, item: str) -> int:
    return GUI_ID_BASE + slot * 64 + ITEM_INDEX[item]


def match_recipe(grid: list[list[Any] | None], size: int) -> tuple[str, int] | None:
    """Result (item, count) of the shaped recipe in a crafting grid (3x3 list of [item, n])."""
    cells = [(j // 3, j % 3) for j in range(9) if (j // 3) < size and (j % 3) < size and grid[j]]
    if not cells:
        return None
    r0, r1 = min(r for r, _ in cells), max(r for r, _ in cells)
    c0, c1 = min(c for _, c in cells), max(c for _, c in cells)
    shape = [[(grid[r * 3 + c][0] if grid[r * 3 + c] else None) for c in range(c0, c1 + 1)] for r in range(r0, r1 + 1)]
    for pattern, result, count in RECIPES:
        if shape == pattern or shape == [row[::-1] for row in pattern]:
            return result, count
    return None


# ----------------------------------------------------------------------------- the world


@dataclass
class Target:
    kind: str  # "block" (above ground), "ground", "mob"
    object_id: int
    distance: float
    pos: tuple[int, int, int] | None = None  # block cell; for ground: (i, depth, k) region cell
    normal: tuple[int, int, int] | None = None
    mob: Mob | None = None


@dataclass
class _Pending:
    tick: int
    item: str
    count: int


class VptWorld:
    """A deterministic Minecraft-like world: ``reset(seed)``, ``step(action)``, ``render()``."""

    def __init__(self) -> None:
        cols = np.arange(LOW_W, dtype=np.float64)
        rows = np.arange(LOW_H, dtype=np.float64)
        self._a = ((cols - CX) / FOCAL).astype(np.float32)  # per column
        self._b = (rows - CY) / FOCAL  # per row
        self._norm = np.sqrt(1.0 + self._a[None, :].astype(np.float64) ** 2 + self._b[:, None] ** 2).astype(np.float32)
        self._hud_cache: tuple[Any, Any] | None = None
        self._panel_cache: tuple[Any, Any] | None = None
        self.reset(0)

    # ------------------------------------------------------------------ setup
    def reset(self, seed: int) -> None:
        self.seed = int(seed)
        rng = random.Random(self.seed * 7919 + 17)
        self.rng = rng
        self.tick = 0
        self.origin = (rng.randint(-600, 600), rng.randint(-600, 600))  # world x, z of cell (0, 0)
        self._objects: dict[int, dict[str, Any]] = {}
        self._next_id = 1
        self._make_ground(rng)
        self.blocks: dict[tuple[int, int, int], tuple[int, int]] = {}  # cell -> (code, id)
        self.mobs: list[Mob] = []
        self.dying: list[Mob] = []
        c = REGION // 2
        ox, oz = self.origin
        self.x, self.y, self.z = ox + c + 0.5, float(GROUND_Y), oz + c + 0.5
        self.yaw = rng.uniform(-180.0, 180.0)
        self.pitch = rng.uniform(-8.0, 18.0)
        self._make_trees(rng)
        self.gsurface = self.gtype.copy()
        self._make_boulders(rng)
        self._make_mobs(rng)
        # player
        self.vx = self.vz = self.vy = 0.0
        self.on_ground = True
        self.sprinting = False
        self.sneaking = False
        self.hotbar = 0
        self.slots: list[list[Any] | None] = [None] * 36
        self.grid: list[list[Any] | None] = [None] * 9
        self.held: list[Any] | None = None
        self.gui_open = False
        self.gui_inventory = False
        self.mouse_x, self.mouse_y = WINDOW_W / 2, WINDOW_H / 2
        self.stats: dict[str, int] = {}
        self._pending: list[_Pending] = []
        self._prev = {"attack": 0, "use": 0, "inventory": 0, "drop": 0}
        self._mine_target: int | None = None
        self._mine_progress = 0
        self._mine_cooldown = 0
        self._use_cooldown = 0
        self._eat_ticks = 0
        self._swing = 0
        self._ghost_blocks: list[tuple[tuple[int, int, int], int, int]] = []
        self._ghost_cells: list[tuple[int, int, int, int, int]] = []
        self._faces_dirty = True
        self._gui_visual = self._gui_snapshot()
        self._last_events: list[dict[str, Any]] = []

    def _new_id(self, kind: str, type_: str) -> int:
        oid = self._next_id
        self._next_id += 1
        if oid >= GUI_ID_BASE:
            raise RuntimeError("object id space exhausted")
        self._objects[oid] = {"kind": kind, "type": type_}
        return oid

    def _make_ground(self, rng: random.Random) -> None:
        nrng = np.random.default_rng(rng.randrange(2**32))
        n = REGION

        def noise(cells: int) -> np.ndarray:
            small = nrng.random((cells, cells)).astype(np.float32)
            return cv2.resize(small, (n, n), interpolation=cv2.INTER_CUBIC)

        n1, n2, n3 = noise(7), noise(10), noise(12)
        gtype = np.full((n, n), BLOCK_CODE["grass_block"], np.uint8)
        gtype[n1 < 0.16] = BLOCK_CODE["sand"]
        gtype[(n2 > 0.9)] = BLOCK_CODE["gravel"]
        gtype[(n3 > 0.86)] = BLOCK_CODE["stone"]
        gtype[(n3 < 0.1) & (n1 > 0.5)] = BLOCK_CODE["dirt"]
        c = n // 2
        gtype[c - 2:c + 3, c - 2:c + 3] = BLOCK_CODE["grass_block"]
        self.gtype = gtype
        self.gdepth = np.zeros((n, n), np.uint8)
        self.gvariant = nrng.integers(0, 4, (n, n)).astype(np.uint8)
        self.gid = np.zeros((n, n), np.int32)
        for i in range(n):
            for k in range(n):
                self.gid[i, k] = self._new_id("block", BLOCKS[gtype[i, k]].name)

    def layer_type(self, i: int, k: int, depth: int) -> int:
        """Block code at ``depth`` below the original surface of cell (i, k)."""
        surface = BLOCKS[int(self.gsurface[i, k])].name
        if depth == 0:
            return int(self.gsurface[i, k])
        if depth <= 2 and surface in ("grass_block", "dirt"):
            return BLOCK_CODE["dirt"]
        if depth <= 2 and surface == "sand":
            return BLOCK_CODE["sand"]
        if depth == 1 and surface == "gravel":
            return BLOCK_CODE["gravel"]
        h = _hash01(self.seed, i, k, depth)
        if h < 0.05:
            return BLOCK_CODE["coal_ore"]
        if h < 0.07:
            return BLOCK_CODE["iron_ore"]
        return BLOCK_CODE["stone"]

    def _cell(self, wx: float, wz: float) -> tuple[int, int]:
        return math.floor(wx) - self.origin[0], math.floor(wz) - self.origin[1]

    def _free_cell(self, i: int, k: int) -> bool:
        ox, oz = self.origin
        return all((ox + i, y, oz + k) not in self.blocks for y in (GROUND_Y, GROUND_Y + 1))

    def _add_block(self, pos: tuple[int, int, int], name: str) -> int:
        oid = self._new_id("block", name)
        self.blocks[pos] = (BLOCK_CODE[name], oid)
        self._faces_dirty = True
        return oid

    def _make_trees(self, rng: random.Random) -> None:
        ox, oz = self.origin
        c = REGION // 2
        spots: list[tuple[int, int]] = []
        ang = rng.uniform(0, 2 * math.pi)
        first = (c + int(round(6 * math.cos(ang))), c + int(round(6 * math.sin(ang))))
        spots.append(first)
        tries = 0
        while len(spots) < 13 and tries < 500:
            tries += 1
            i, k = rng.randint(4, REGION - 5), rng.randint(4, REGION - 5)
            if abs(i - c) + abs(k - c) < 4 or any(abs(i - a) + abs(k - b) < 6 for a, b in spots):
                continue
            spots.append((i, k))
        for i, k in spots:
            self.gtype[i, k] = BLOCK_CODE["dirt"]
            self._objects[int(self.gid[i, k])]["type"] = "dirt"
            h = rng.randint(4, 6)
            x, z = ox + i, oz + k
            top = GROUND_Y + h - 1
            for y in range(GROUND_Y, top + 1):
                self._add_block((x, y, z), "oak_log")
            for y in range(top - 2, top + 2):
                rad = 2 if y < top else 1
                for dx in range(-rad, rad + 1):
                    for dz in range(-rad, rad + 1):
                        if (x + dx, y, z + dz) in self.blocks:
                            continue
                        corner = abs(dx) == rad and abs(dz) == rad
                        if corner and (y == top + 1 or rng.random() < 0.5):
                            continue
                        if y == top + 1 and rad == 1 and corner:
                            continue
                        self._add_block((x + dx, y, z + dz), "oak_leaves")
            self._add_block((x, top + 2, z), "oak_leaves")

    def _make_boulders(self, rng: random.Random) -> None:
        ox, oz = self.origin
        c = REGION // 2
        centres = []
        ang = rng.uniform(0, 2 * math.pi)
        centres.append((c + int(round(9 * math.cos(ang))), c + int(round(9 * math.sin(ang)))))
        for _ in range(3):
            centres.append((rng.randint(6, REGION - 7), rng.randint(6, REGION - 7)))
        for ci, ck in centres:
            n = rng.randint(4, 8)
            cells = [(ci, ck)]
            while len(cells) < n:
                i, k = rng.choice(cells)
                d = rng.choice(((1, 0), (-1, 0), (0, 1), (0, -1)))
                cand = (i + d[0], k + d[1])
                if cand not in cells:
                    cells.append(cand)
            for i, k in cells:
                if abs(i - c) <= 1 and abs(k - c) <= 1:
                    continue
                if not self._free_cell(i, k):
                    continue
                hgt = 2 if rng.random() < 0.4 else 1
                for y in range(GROUND_Y, GROUND_Y + hgt):
                    r = rng.random()
                    name = "coal_ore" if r < 0.3 else "iron_ore" if r < 0.42 else "stone"
                    self._add_block((ox + i, y, oz + k), name)

    def _make_mobs(self, rng: random.Random) -> None:
        ox, oz = self.origin
        c = REGION // 2
        kinds = ["pig", "cow"] * 4
        n = rng.randint(5, 8)
        placed = 0
        tries = 0
        while placed < n and tries < 300:
            tries += 1
            dist = rng.uniform(4.0, 16.0) if placed < 2 else rng.uniform(5.0, 24.0)
            ang = rng.uniform(0, 2 * math.pi)
            x, z = ox + c + 0.5 + dist * math.cos(ang), oz + c + 0.5 + dist * math.sin(ang)
            if not self._mob_fits(x, z):
                continue
            kind = kinds[rng.randrange(len(kinds))]
            self._spawn_mob(kind, x, z, rng.uniform(-180, 180), rng)
            placed += 1
        if rng.random() < 0.35:
            for _ in range(50):
                ang = rng.uniform(0, 2 * math.pi)
                x, z = ox + c + 0.5 + 16 * math.cos(ang), oz + c + 0.5 + 16 * math.sin(ang)
                if self._mob_fits(x, z):
                    self._spawn_mob("zombie", x, z, rng.uniform(-180, 180), rng)
                    break

    def _spawn_mob(self, kind: str, x: float, z: float, heading: float, rng: random.Random) -> None:
        oid = self._new_id("mob", kind)
        self.mobs.append(Mob(oid, kind, x, z, heading, MOBS[kind].health, state_ticks=rng.randint(5, 60)))

    def _mob_fits(self, x: float, z: float, half: float = 0.45) -> bool:
        ox, oz = self.origin
        if not (ox + 2 <= x <= ox + REGION - 2 and oz + 2 <= z <= oz + REGION - 2):
            return False
        for cx in (math.floor(x - half), math.floor(x + half)):
            for cz in (math.floor(z - half), math.floor(z + half)):
                if (cx, GROUND_Y, cz) in self.blocks or (cx, GROUND_Y + 1, cz) in self.blocks:
                    return False
        return True

    # ------------------------------------------------------------------ public state
    @property
    def eye(self) -> np.ndarray:
        return np.array([self.x, self.y + (EYE_HEIGHT_SNEAK if self.sneaking else EYE_HEIGHT), self.z])

    @property
    def inventory(self) -> dict[str, int]:
        """Item totals over the 36 inventory slots (held and crafting-grid items excluded)."""
        out: dict[str, int] = {}
        for s in self.slots:
            if s:
                out[s[0]] = out.get(s[0], 0) + s[1]
        return out

    def inventory_list(self) -> list[dict[str, Any]]:
        """Non-empty slots in slot order as ``{"type", "quantity"}`` (the jsonl format)."""
        return [{"type": s[0], "quantity": int(s[1])} for s in self.slots if s]

    @property
    def objects(self) -> dict[int, dict[str, Any]]:
        """World objects (blocks, mobs) ever created: id -> {"kind", "type"}; see ``object_info``."""
        return self._objects

    def object_info(self, oid: int) -> dict[str, Any]:
        """{"kind": "block"|"mob"|"gui", "type": name} for any id a frame can show."""
        if oid >= GUI_ID_BASE:
            slot, item = divmod(oid - GUI_ID_BASE, 64)
            return {"kind": "gui", "type": ITEMS[item], "slot": SLOT_NAMES[slot]}
        return dict(self._objects[oid])

    def held_item(self) -> str | None:
        s = self.slots[self.hotbar]
        return s[0] if s else None

    def gui_slot_center(self, slot: int) -> tuple[float, float]:
        """Window coordinates (1280x720) of the centre of a GUI slot of the open screen."""
        x, y = _SLOT_RECTS[not self.gui_inventory][slot]
        return (x + 8) * GUI_SCALE, (y + 8) * GUI_SCALE

    def gui_slot_at(self, wx: float, wy: float) -> int | None:
        fx, fy = wx / GUI_SCALE, wy / GUI_SCALE
        for s, (x, y) in _SLOT_RECTS[not self.gui_inventory].items():
            pad = 4 if s == SLOT_OUTPUT else 1
            if x - pad <= fx < x + 16 + pad and y - pad <= fy < y + 16 + pad:
                return s
        return None

    def grid_size(self) -> int:
        return 2 if self.gui_inventory else 3

    def recipe_output(self) -> tuple[str, int] | None:
        if not self.gui_open:
            return None
        return match_recipe(self.grid, self.grid_size())

    def add_item(self, item: str, count: int) -> int:
        """Put items into the inventory like a pickup; returns how many did not fit."""
        limit = 1 if item in STACK_ONE else MAX_STACK
        for s in self.slots:
            if count and s and s[0] == item and s[1] < limit:
                k = min(limit - s[1], count)
                s[1] += k
                count -= k
        for i in range(36):
            if count and self.slots[i] is None:
                k = min(limit, count)
                self.slots[i] = [item, k]
                count -= k
        return count

    def give(self, item: str, count: int, slot: int | None = None) -> None:
        """Start-of-episode inventory (no stats)."""
        if slot is not None and self.slots[slot] is None:
            self.slots[slot] = [item, count]
        else:
            self.add_item(item, count)
        self._gui_visual = self._gui_snapshot()

    # ------------------------------------------------------------------ stats
    def _inc(self, kind: str, obj: str, n: int = 1, object_id: int | None = None) -> None:
        if n <= 0:
            return
        key = f"minecraft.{kind}:minecraft.{obj}"
        self.stats[key] = self.stats.get(key, 0) + int(n)
        if kind != "custom":
            self._last_events.append({"stat": key, "type": kind, "object": obj, "object_id": object_id, "delta": int(n)})

    # ------------------------------------------------------------------ targeting
    def target(self) -> Target | None:
        """What the crosshair points at within reach (blocks 4.5, mobs 3.0)."""
        eye = self.eye
        d, _, _ = camera_basis(self.yaw, self.pitch)
        best: Target | None = None
        # mobs
        for mob in self.mobs:
            if (mob.x - eye[0]) ** 2 + (mob.z - eye[2]) ** 2 > 49:
                continue
            for lo, hi, _ in mob.boxes():
                t = _ray_box(eye, d, lo, hi)
                if t is not None and (best is None or t < best.distance):
                    best = Target("mob", mob.id, t, mob=mob)
        limit = REACH_BLOCK if best is None else min(REACH_BLOCK, best.distance)
        t_ground = (GROUND_Y - eye[1]) / d[1] if d[1] < -1e-12 else math.inf
        hit = self._dda(eye, d, min(limit, t_ground))
        if hit is not None:
            pos, t, normal = hit
            best = Target("block", self.blocks[pos][1], t, pos=pos, normal=normal)
        elif t_ground <= limit:
            gx, gz = eye[0] + t_ground * d[0], eye[2] + t_ground * d[2]
            i, k = self._cell(gx, gz)
            if 0 <= i < REGION and 0 <= k < REGION:
                best = Target("ground", int(self.gid[i, k]), t_ground, pos=(i, int(self.gdepth[i, k]), k), normal=(0, 1, 0))
        if best is not None and best.kind == "mob" and best.distance > REACH_ENTITY:
            return None
        return best

    def _dda(self, o: np.ndarray, d: np.ndarray, tmax: float):
        cell = [math.floor(o[0]), math.floor(o[1]), math.floor(o[2])]
        step, tnext, tdelta = [0, 0, 0], [math.inf] * 3, [math.inf] * 3
        for a in range(3):
            if d[a] > 1e-12:
                step[a] = 1
                tnext[a] = (cell[a] + 1 - o[a]) / d[a]
                tdelta[a] = 1 / d[a]
            elif d[a] < -1e-12:
                step[a] = -1
                tnext[a] = (o[a] - cell[a]) / -d[a]
                tdelta[a] = -1 / d[a]
        t = 0.0
        normal = (0, 0, 0)
        for _ in range(64):
            key = (cell[0], cell[1], cell[2])
            if key in self.blocks and t <= tmax:
                return key, t, normal
            a = 0 if tnext[0] <= tnext[1] and tnext[0] <= tnext[2] else (1 if tnext[1] <= tnext[2] else 2)
            t = tnext[a]
            if t > tmax:
                return None
            cell[a] += step[a]
            tnext[a] += tdelta[a]
            n = [0, 0, 0]
            n[a] = -step[a]
            normal = (n[0], n[1], n[2])
        return None

    # ------------------------------------------------------------------ step
    def step(self, action: dict[str, Any]) -> list[dict[str, Any]]:
        """Advance one tick (50 ms); returns the stat events of this tick.

        Besides the VPT env keys, ``action`` may carry ``"dwheel"`` (scroll: negative selects
        the next hotbar slot), as the recorder logs scrolling apart from keys.
        """
        self._last_events = []
        self._ghost_blocks = []
        self._ghost_cells = []
        self._gui_visual = self._gui_snapshot()
        a = {k: int(bool(action.get(k, 0))) for k in (
            "attack", "use", "forward", "back", "left", "right", "jump", "sneak", "sprint", "drop", "inventory")}
        cam = np.asarray(action.get("camera", (0.0, 0.0)), dtype=np.float64).reshape(2)
        press = {k: a[k] and not self._prev.get(k, 0) for k in ("attack", "use", "inventory", "drop")}

        # hotbar keys / scroll (not while a GUI is open)
        if not self.gui_open:
            for i in range(9):
                if action.get(f"hotbar.{i + 1}", 0):
                    self.hotbar = i
            wheel = float(action.get("dwheel", 0.0) or 0.0)
            if wheel:
                self.hotbar = (self.hotbar - (1 if wheel > 0 else -1)) % 9

        if press["inventory"]:
            if self.gui_open:
                self._close_gui()
            else:
                self._open_gui(inventory=True)
        elif self.gui_open:
            self._gui_tick(cam, press)
        if not self.gui_open:
            self._play_tick(a, cam, press)
        self._update_pickups()
        self._update_mobs()
        self._inc("custom", "play_one_minute")
        self._inc("custom", "time_since_death")
        self._inc("custom", "time_since_rest")
        for k in ("attack", "use", "inventory", "drop"):
            self._prev[k] = a[k]
        self.tick += 1
        return list(self._last_events)

    # -- GUI
    def _open_gui(self, inventory: bool) -> None:
        self.gui_open = True
        self.gui_inventory = inventory
        self.mouse_x, self.mouse_y = WINDOW_W / 2, WINDOW_H / 2
        self._mine_progress = 0
        self._mine_target = None
        self.vx = self.vz = 0.0

    def _close_gui(self) -> None:
        for j in range(9):
            if self.grid[j]:
                self.add_item(*self.grid[j])  # what does not fit is lost (dropped in the game)
                self.grid[j] = None
        if self.held:
            self.add_item(*self.held)
            self.held = None
        self.gui_open = False
        self.gui_inventory = False
        self.mouse_x, self.mouse_y = WINDOW_W / 2, WINDOW_H / 2

    def _slot_ref(self, s: int) -> tuple[list, int]:
        if s < 36:
            return self.slots, s
        return self.grid, s - SLOT_CRAFT0

    def _gui_tick(self, cam: np.ndarray, press: dict[str, int]) -> None:
        dx, dy = cam[1] / CAMERA_SCALER, cam[0] / CAMERA_SCALER
        dx = float(round(dx)) if abs(dx - round(dx)) < 1e-6 else dx
        dy = float(round(dy)) if abs(dy - round(dy)) < 1e-6 else dy
        self.mouse_x = min(max(self.mouse_x + dx, 0.0), float(WINDOW_W))
        self.mouse_y = min(max(self.mouse_y + dy, 0.0), float(WINDOW_H))
        if not (press["attack"] or press["use"]):
            return
        s = self.gui_slot_at(self.mouse_x, self.mouse_y)
        if s is None:
            return
        if s == SLOT_OUTPUT:
            res = self.recipe_output()
            if res is None or not press["attack"]:
                return
            item, n = res
            if self.held and (self.held[0] != item or self.held[1] + n > (1 if item in STACK_ONE else MAX_STACK)):
                return
            oid = gui_object_id(SLOT_OUTPUT, item)
            for j in range(9):
                if self.grid[j]:
                    self.grid[j][1] -= 1
                    if self.grid[j][1] <= 0:
                        self.grid[j] = None
            if self.held:
                self.held[1] += n
            else:
                self.held = [item, n]
            self._inc("craft_item", item, n, object_id=oid)
            return
        if s >= SLOT_CRAFT0 and s < SLOT_OUTPUT and self.gui_inventory and (s - SLOT_CRAFT0) not in (0, 1, 3, 4):
            return
        arr, j = self._slot_ref(s)
        cur = arr[j]
        if press["attack"]:
            if self.held is None:
                if cur:
                    self.held, arr[j] = cur, None
            elif cur is None:
                arr[j], self.held = self.held, None
            elif cur[0] == self.held[0] and cur[0] not in STACK_ONE:
                k = min(MAX_STACK - cur[1], self.held[1])
                cur[1] += k
                self.held[1] -= k
                if self.held[1] <= 0:
                    self.held = None
            else:
                arr[j], self.held = self.held, cur
        else:  # right click
            if self.held is None:
                if cur:
                    half = (cur[1] + 1) // 2
                    self.held = [cur[0], half]
                    cur[1] -= half
                    if cur[1] <= 0:
                        arr[j] = None
            elif cur is None:
                arr[j] = [self.held[0], 1]
                self.held[1] -= 1
            elif cur[0] == self.held[0] and cur[1] < MAX_STACK and cur[0] not in STACK_ONE:
                cur[1] += 1
                self.held[1] -= 1
            if self.held is not None and self.held[1] <= 0:
                self.held = None

    def _gui_snapshot(self):
        return (
            [list(s) if s else None for s in self.slots],
            [list(s) if s else None for s in self.grid],
            list(self.held) if self.held else None,
            self.recipe_output() if self.gui_open else None,
        )

    # -- playing
    def _play_tick(self, a: dict[str, int], cam: np.ndarray, press: dict[str, int]) -> None:
        self.pitch = min(90.0, max(-90.0, self.pitch + float(cam[0])))
        self.yaw = self.yaw + float(cam[1])
        self._move(a)
        if self._swing > 0:
            self._swing -= 1
        if self._mine_cooldown > 0:
            self._mine_cooldown -= 1
        if self._use_cooldown > 0:
            self._use_cooldown -= 1
        tgt = self.target()
        # attack: hit mobs on press, mine blocks while held
        if a["attack"]:
            if press["attack"] or self._swing == 0:
                self._swing = 6
            if tgt is not None and tgt.kind == "mob":
                self._mine_target, self._mine_progress = None, 0
                if press["attack"]:
                    self._hit_mob(tgt.mob)
            elif tgt is not None and self._mine_cooldown == 0:
                if tgt.object_id != self._mine_target:
                    self._mine_target, self._mine_progress = tgt.object_id, 0
                self._mine_progress += 1
                if self._mine_progress >= self._ticks_needed(tgt):
                    self._break(tgt)
                    self._mine_target, self._mine_progress = None, 0
                    self._mine_cooldown = 5
            else:
                self._mine_target, self._mine_progress = None, 0
        else:
            self._mine_target, self._mine_progress = None, 0
        # use: interact / place / eat
        held = self.held_item()
        if a["use"]:
            if held in FOOD and not (tgt is not None and tgt.kind == "block" and BLOCKS[self.blocks[tgt.pos][0]].name == "crafting_table"):
                self._eat_ticks += 1
                if self._eat_ticks >= 32:
                    self._eat_ticks = 0
                    self._consume_selected()
                    self._inc("use_item", held, 1)
            elif press["use"] or self._use_cooldown == 0:
                self._use_cooldown = 4
                self._use(tgt)
        else:
            self._eat_ticks = 0
            self._use_cooldown = 0
        if press["drop"] and held:
            self._consume_selected()
            self._inc("drop", held, 1)

    def _consume_selected(self) -> None:
        s = self.slots[self.hotbar]
        if s:
            s[1] -= 1
            if s[1] <= 0:
                self.slots[self.hotbar] = None

    def _ticks_needed(self, tgt: Target) -> int:
        code = self.blocks[tgt.pos][0] if tgt.kind == "block" else self._ground_code(tgt)
        b = BLOCKS[code]
        held = self.held_item()
        if b.tool and held in TOOLS and TOOLS[held][0] == b.tool:
            return b.ticks_tool
        return b.ticks_hand

    def _ground_code(self, tgt: Target) -> int:
        i, _, k = tgt.pos
        return int(self.gtype[i, k])

    def _break(self, tgt: Target) -> None:
        held = self.held_item()
        if tgt.kind == "block":
            code, oid = self.blocks.pop(tgt.pos)
            self._ghost_blocks.append((tgt.pos, code, oid))
            self._faces_dirty = True
        else:
            i, depth, k = tgt.pos
            code, oid = int(self.gtype[i, k]), int(self.gid[i, k])
            self._ghost_cells.append((i, k, code, oid, depth))
            nd = depth + 1
            ncode = self.layer_type(i, k, nd)
            self.gdepth[i, k] = nd
            self.gtype[i, k] = ncode
            self.gid[i, k] = self._new_id("block", BLOCKS[ncode].name)
        b = BLOCKS[code]
        self._inc("mine_block", b.name, 1, object_id=oid)
        has_tool = held in TOOLS and TOOLS[held][0] == b.tool
        if b.drop and (not b.needs_tool or has_tool):
            self._pending.append(_Pending(self.tick + self.rng.randint(4, 10), b.drop, 1))
        if b.name == "oak_leaves" and self.rng.random() < 0.1:
            self._pending.append(_Pending(self.tick + self.rng.randint(4, 10), "oak_sapling", 1))

    def _hit_mob(self, mob: Mob) -> None:
        if mob.hurt_ticks > 0:
            return
        held = self.held_item()
        dmg = TOOLS[held][1] if held in TOOLS else 1
        mob.health -= dmg
        mob.hurt_ticks = 10
        self._inc("custom", "damage_dealt", dmg * 10)
        if mob.health <= 0:
            self.mobs.remove(mob)
            mob.dead_ticks = DEATH_TICKS + 1  # full size on the frame of the kill
            self.dying.append(mob)
            self._inc("kill_entity", mob.kind, 1, object_id=mob.id)
            self._inc("custom", "mob_kills", 1)
            for item, lo, hi in MOBS[mob.kind].drops:
                n = self.rng.randint(lo, hi)
                if n:
                    self._pending.append(_Pending(self.tick + self.rng.randint(6, 14), item, n))
        else:
            # knockback away from the player, then panic
            d = math.hypot(mob.x - self.x, mob.z - self.z) or 1.0
            nx, nz = mob.x + 0.25 * (mob.x - self.x) / d, mob.z + 0.25 * (mob.z - self.z) / d
            if self._mob_fits(nx, nz):
                mob.x, mob.z = nx, nz
            if mob.kind != "zombie":
                mob.panic_ticks = 40

    def _use(self, tgt: Target | None) -> None:
        if tgt is None or tgt.kind == "mob":
            return
        if tgt.kind == "block" and BLOCKS[self.blocks[tgt.pos][0]].name == "crafting_table":
            if not self.sneaking:
                self._open_gui(inventory=False)
                self._inc("custom", "interact_with_crafting_table", 1)
                return
        held = self.held_item()
        if held not in PLACEABLE:
            return
        if tgt.kind == "ground":
            i, depth, k = tgt.pos
            if depth > 0:
                self.gdepth[i, k] = depth - 1
                self.gtype[i, k] = BLOCK_CODE[held]
                self.gid[i, k] = oid = self._new_id("block", held)
                self._consume_selected()
                self._inc("use_item", held, 1, object_id=oid)
                return
            ox, oz = self.origin
            pos = (ox + i, GROUND_Y, oz + k)
        else:
            pos = (tgt.pos[0] + tgt.normal[0], tgt.pos[1] + tgt.normal[1], tgt.pos[2] + tgt.normal[2])
        if pos in self.blocks or pos[1] < GROUND_Y or pos[1] > GROUND_Y + 20:
            return
        i, k = pos[0] - self.origin[0], pos[2] - self.origin[1]
        if not (0 <= i < REGION and 0 <= k < REGION):
            return
        # not inside the player or a mob
        if (pos[0] < self.x + PLAYER_HALF and pos[0] + 1 > self.x - PLAYER_HALF and pos[2] < self.z + PLAYER_HALF
                and pos[2] + 1 > self.z - PLAYER_HALF and pos[1] < self.y + PLAYER_HEIGHT and pos[1] + 1 > self.y):
            return
        for mob in self.mobs:
            if abs(mob.x - (pos[0] + 0.5)) < 1.0 and abs(mob.z - (pos[2] + 0.5)) < 1.0 and pos[1] < GROUND_Y + 2:
                return
        oid = self._add_block(pos, held)
        self._consume_selected()
        self._inc("use_item", held, 1, object_id=oid)

    def _update_pickups(self) -> None:
        keep = []
        for p in self._pending:
            if p.tick <= self.tick:
                left = self.add_item(p.item, p.count)
                self._inc("pickup", p.item, p.count - left)
            else:
                keep.append(p)
        self._pending = keep

    # -- movement
    def _solid_at(self, x: float, y: float, z: float) -> bool:
        h = PLAYER_HALF - 1e-6
        for cx in (math.floor(x - h), math.floor(x + h)):
            for cz in (math.floor(z - h), math.floor(z + h)):
                for cy in range(math.floor(y + 1e-6), math.floor(y + PLAYER_HEIGHT - 1e-6) + 1):
                    if (cx, cy, cz) in self.blocks:
                        return True
        ox, oz = self.origin
        return not (ox + 1 <= x <= ox + REGION - 1 and oz + 1 <= z <= oz + REGION - 1)

    def _move(self, a: dict[str, int]) -> None:
        fwd = a["forward"] - a["back"]
        strafe = a["left"] - a["right"]
        self.sneaking = bool(a["sneak"])
        if a["sprint"] and fwd > 0 and not self.sneaking:
            self.sprinting = True
        if fwd <= 0 or self.sneaking:
            self.sprinting = False
        speed = 0.2806 if self.sprinting else 0.2158
        if self.sneaking:
            speed *= 0.3
        norm = math.hypot(fwd, strafe)
        mx = mz = 0.0
        if norm > 0:
            f, r, _ = camera_basis(self.yaw, 0.0)
            mx = (fwd * f[0] - strafe * r[0]) / norm * speed
            mz = (fwd * f[2] - strafe * r[2]) / norm * speed
        if self.on_ground:
            self.vx = 0.546 * self.vx + 0.454 * mx
            self.vz = 0.546 * self.vz + 0.454 * mz
        else:
            self.vx = 0.91 * self.vx + 0.09 * mx
            self.vz = 0.91 * self.vz + 0.09 * mz
        if abs(self.vx) < 1e-3:
            self.vx = 0.0
        if abs(self.vz) < 1e-3:
            self.vz = 0.0
        if a["jump"] and self.on_ground:
            self.vy = 0.42
            self.on_ground = False
            self._inc("custom", "jump", 1)
        x0, z0 = self.x, self.z
        if self.vx and not self._solid_at(self.x + self.vx, self.y, self.z):
            self.x += self.vx
        elif self.vx:
            self.vx = 0.0
        if self.vz and not self._solid_at(self.x, self.y, self.z + self.vz):
            self.z += self.vz
        elif self.vz:
            self.vz = 0.0
        if not self.on_ground:
            ny = self.y + self.vy
            self.vy = (self.vy - 0.08) * 0.98
            if self.vy < 0 and (ny <= GROUND_Y or self._solid_at(self.x, ny, self.z)):
                ny = max(float(GROUND_Y), float(math.floor(ny) + 1) if ny > GROUND_Y else float(GROUND_Y))
                self.vy = 0.0
                self.on_ground = True
            elif self.vy > 0 and self._solid_at(self.x, ny, self.z):
                ny = self.y
                self.vy = 0.0
            self.y = ny
        elif self.y > GROUND_Y and not self._solid_at(self.x, self.y - 0.01, self.z):
            self.on_ground = False
            self.vy = 0.0
        dist_cm = int(round(math.hypot(self.x - x0, self.z - z0) * 100))
        if dist_cm and self.on_ground:
            if self.sneaking:
                self._inc("custom", "crouch_one_cm", dist_cm)
            elif self.sprinting:
                self._inc("custom", "sprint_one_cm", dist_cm)
            else:
                self._inc("custom", "walk_one_cm", dist_cm)

    # -- mobs
    def _update_mobs(self) -> None:
        rng = self.rng
        for mob in list(self.dying):
            mob.dead_ticks -= 1
            if mob.dead_ticks <= 0:
                self.dying.remove(mob)
        for mob in self.mobs:
            if mob.hurt_ticks > 0:
                mob.hurt_ticks -= 1
            speed = MOBS[mob.kind].speed
            if mob.kind == "zombie" and math.hypot(mob.x - self.x, mob.z - self.z) < 14:
                d = math.hypot(self.x - mob.x, self.z - mob.z)
                mob.heading = math.degrees(math.atan2(-(self.x - mob.x), self.z - mob.z))
                mob.state = "walk" if d > 1.4 else "idle"
            elif mob.panic_ticks > 0:
                mob.panic_ticks -= 1
                speed *= 2.0
                if mob.state != "walk" or rng.random() < 0.05:
                    away = math.degrees(math.atan2(-(mob.x - self.x), mob.z - self.z))
                    mob.heading = away + rng.uniform(-40, 40)
                mob.state = "walk"
            else:
                mob.state_ticks -= 1
                if mob.state_ticks <= 0:
                    if mob.state == "walk" or rng.random() < 0.4:
                        mob.state, mob.state_ticks = "idle", rng.randint(30, 120)
                    else:
                        mob.state, mob.state_ticks = "walk", rng.randint(15, 60)
                        mob.heading += rng.uniform(-120, 120)
            if mob.state == "walk":
                h = math.radians(mob.heading)
                nx, nz = mob.x - math.sin(h) * speed, mob.z + math.cos(h) * speed
                if self._mob_fits(nx, nz) and math.hypot(nx - self.x, nz - self.z) > 0.7:
                    mob.x, mob.z = nx, nz
                elif mob.kind != "zombie":
                    mob.heading += rng.choice((90.0, -90.0, 180.0))

    # ------------------------------------------------------------------ rendering
    def _rebuild_faces(self) -> None:
        centers, axes, signs, corners, colors, ids = [], [], [], [], [], []
        spot_flags = []
        blocks = self.blocks
        for (x, y, z), (code, oid) in blocks.items():
            b = BLOCKS[code]
            jit = _jitter(oid)
            base = np.array([x, y, z], np.float64)
            for fd, (dx, dy, dz) in enumerate(_FACE_OFFSETS):
                nb = (x + dx, y + dy, z + dz)
                if nb in blocks or (fd == 3 and y == GROUND_Y):
                    continue
                col = np.array(b.top if fd == 2 else b.side, np.float64) * (_FACE_SHADE[fd] * jit)
                cs = base + _FACE_CORNERS[fd]
                cen = cs.mean(0)
                centers.append(cen); axes.append(_FACE_AXIS[fd]); signs.append(_FACE_SIGN[fd])
                corners.append(cs); colors.append(col); ids.append(oid); spot_flags.append(0.0)
                spot = b.spot if b.spot is not None else (b.top_spot if fd == 2 else None)
                if spot is not None:
                    k = 0.42 if b.spot is not None else 0.62
                    scol = np.array(spot, np.float64) * (_FACE_SHADE[fd] * jit)
                    centers.append(cen); axes.append(_FACE_AXIS[fd]); signs.append(_FACE_SIGN[fd])
                    corners.append(cen + (cs - cen) * k); colors.append(scol); ids.append(oid); spot_flags.append(1.0)
        if centers:
            self._f_center = np.array(centers)
            self._f_axis = np.array(axes, np.int64)
            self._f_sign = np.array(signs)
            self._f_corners = np.array(corners)
            self._f_color = np.array(colors)
            self._f_id = np.array(ids, np.int64)
            self._f_spot = np.array(spot_flags)
        else:
            self._f_center = np.zeros((0, 3))
            self._f_axis = np.zeros(0, np.int64)
            self._f_sign = np.zeros(0)
            self._f_corners = np.zeros((0, 4, 3))
            self._f_color = np.zeros((0, 3))
            self._f_id = np.zeros(0, np.int64)
            self._f_spot = np.zeros(0)
        self._faces_dirty = False

    @staticmethod
    def _box_faces(boxes: list[tuple[np.ndarray, np.ndarray, tuple]], oid: int, tint: float = 0.0):
        n = len(boxes)
        lo = np.array([b[0] for b in boxes])
        hi = np.array([b[1] for b in boxes])
        col = np.array([b[2] for b in boxes], np.float64)
        if tint:
            col = col * (1 - tint) + np.array([255.0, 40.0, 40.0]) * tint
        corners = lo[:, None, None, :] + _FACE_CORNERS[None] * (hi - lo)[:, None, None, :]  # (n,6,4,3)
        corners = corners.reshape(-1, 4, 3)
        centers = corners.mean(1)
        axes = np.tile(_FACE_AXIS, n)
        signs = np.tile(_FACE_SIGN, n)
        colors = (col[:, None, :] * _FACE_SHADE[None, :, None]).reshape(-1, 3)
        ids = np.full(n * 6, oid, np.int64)
        return centers, axes, signs, corners, colors, ids, np.zeros(n * 6)

    def render(self, cursor: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """RGB frame (360, 640, 3) uint8 and object ids (360, 640) uint16 of the current state.

        ``cursor=False`` leaves the mouse cursor out of GUI frames (the recorder's mp4 has
        none; VPT's loader draws it at ``(mouse.x, mouse.y) * 360/720``).
        """
        eye = self.eye
        f, r, u = camera_basis(self.yaw, self.pitch)
        low = np.empty((LOW_H, LOW_W, 3), np.uint8)
        lids = np.zeros((LOW_H, LOW_W), np.uint16)
        tgt = self.target() if not self.gui_open else None
        crack_id = self._mine_target if (self._mine_progress > 0 and tgt is not None) else None
        crack = 0.0
        if crack_id is not None and tgt is not None and tgt.object_id == crack_id:
            crack = min(1.0, self._mine_progress / max(1, self._ticks_needed(tgt)))
        else:
            crack_id = None
        self._render_ground(low, lids, eye, f, r, u, crack_id, crack)
        self._render_faces(low, lids, eye, f, r, u, crack_id, crack, tgt)
        rgb = cv2.resize(low, (WIDTH, HEIGHT), interpolation=cv2.INTER_NEAREST)
        ids = cv2.resize(lids, (WIDTH, HEIGHT), interpolation=cv2.INTER_NEAREST)
        slots, grid, held, output = self._gui_visual
        if not self.gui_open:
            self._draw_hand(rgb, ids, slots)
            c0, r0 = WIDTH // 2, HEIGHT // 2
            rgb[r0 - 1:r0 + 1, c0 - 5:c0 + 5] = 230
            rgb[r0 - 5:r0 + 5, c0 - 1:c0 + 1] = 230
        self._draw_hud(rgb, ids, slots)
        if self.gui_open:
            self._draw_gui(rgb, ids, slots, grid, held, output, cursor)
        return rgb, ids

    def _render_ground(self, rgb, ids, eye, f, r, u, crack_id, crack) -> None:
        ey = eye[1]
        b = self._b
        dir_y = f[1] - b * u[1]
        elev = dir_y / np.sqrt(1.0 + b * b)
        s = np.clip(elev * 2.2, 0.0, 1.0).astype(np.float32)
        sky = SKY_HORIZON[None, :] * (1 - s[:, None]) + SKY_ZENITH[None, :] * s[:, None]
        rgb[:] = sky.astype(np.uint8)[:, None, :]
        rows = np.nonzero(dir_y < -1e-6)[0]
        if len(rows) == 0:
            return
        r0 = int(rows[0])
        bb = b[r0:].astype(np.float32)[:, None]
        t = ((GROUND_Y - ey) / dir_y[r0:]).astype(np.float32)[:, None]
        a = self._a[None, :]
        hx = (eye[0] + t * (np.float32(f[0]) + a * np.float32(r[0]) - bb * np.float32(u[0]))).astype(np.float32)
        hz = (eye[2] + t * (np.float32(f[2]) + a * np.float32(r[2]) - bb * np.float32(u[2]))).astype(np.float32)
        dist = t * self._norm[r0:]
        fx = np.floor(hx)
        fz = np.floor(hz)
        ci = fx.astype(np.int32) - self.origin[0]
        ck = fz.astype(np.int32) - self.origin[1]
        inside = (ci >= 0) & (ci < REGION) & (ck >= 0) & (ck < REGION)
        cic = np.clip(ci, 0, REGION - 1)
        ckc = np.clip(ck, 0, REGION - 1)
        gtype, gid, gdepth = self.gtype, self.gid, self.gdepth
        if self._ghost_cells:
            gtype, gid, gdepth = gtype.copy(), gid.copy(), gdepth.copy()
            for i, k, code, oid, depth in self._ghost_cells:
                gtype[i, k], gid[i, k], gdepth[i, k] = code, oid, depth
        typ = np.where(inside, gtype[cic, ckc], BLOCK_CODE["grass_block"]).astype(np.int32)
        var = self.gvariant[cic, ckc].astype(np.int32)
        uu = ((hx - fx) * 16).astype(np.int32)
        vv = ((hz - fz) * 16).astype(np.int32)
        np.clip(uu, 0, 15, out=uu)
        np.clip(vv, 0, 15, out=vv)
        col = _TEXTURES[((typ * 4 + var) * 16 + vv) * 16 + uu].astype(np.float32)
        gids = np.where(inside, gid[cic, ckc], 0)
        depth = np.where(inside, gdepth[cic, ckc], 0)
        if depth.any():
            col *= np.where(depth > 0, 0.55, 1.0).astype(np.float32)[..., None]
        if crack_id is not None and crack_id < GUI_ID_BASE:
            m = gids == crack_id
            if m.any():
                col[m] *= np.float32(1.0 - 0.45 * crack)
        fog = np.clip((dist - FOG_START) / (FOG_END - FOG_START), 0.0, 1.0)
        sky_rows = sky[r0:].astype(np.float32)[:, None, :]
        col += (sky_rows - col) * fog[..., None]
        rgb[r0:] = col.astype(np.uint8)
        gids[fog > 0.97] = 0
        ids[r0:] = gids.astype(np.uint16)

    def _render_faces(self, rgb, ids, eye, f, r, u, crack_id, crack, tgt) -> None:
        if self._faces_dirty:
            self._rebuild_faces()
        parts = [(self._f_center, self._f_axis, self._f_sign, self._f_corners, self._f_color, self._f_id, self._f_spot)]
        for pos, code, oid in self._ghost_blocks:
            b = BLOCKS[code]
            lo = np.array(pos, np.float64)
            parts.append(self._box_faces([(lo, lo + 1, b.side)], oid))
        for mob in self.mobs:
            if (mob.x - eye[0]) ** 2 + (mob.z - eye[2]) ** 2 < FACE_CULL ** 2:
                parts.append(self._box_faces(mob.boxes(), mob.id, 0.45 if mob.hurt_ticks > 0 else 0.0))
        for mob in self.dying:
            parts.append(self._box_faces(mob.boxes(0.35 + 0.65 * min(1.0, mob.dead_ticks / DEATH_TICKS)), mob.id, 0.6))
        if len(parts) > 1:
            cat = [np.concatenate(x) for x in zip(*parts)]
        else:
            cat = list(parts[0])
        center, axis, sign, corners, color, fid, spot = cat
        if len(center) == 0:
            return
        rel = eye[None, :] - center
        facing = rel[np.arange(len(rel)), axis] * sign > 1e-9
        d2 = (rel * rel).sum(1)
        keep = np.nonzero(facing & (d2 < FACE_CULL * FACE_CULL))[0]
        if len(keep) == 0:
            return
        R = np.stack([r, u, f])  # camera rows
        cc = (corners[keep] - eye[None, None, :]) @ R.T  # (K,4,3)
        zc = cc[..., 2]
        front = zc > NEAR
        anyf = front.any(1)
        allf = front.all(1)
        keep, cc, zc, allf = keep[anyf], cc[anyf], zc[anyf], allf[anyf]
        zs = np.where(zc > NEAR, zc, 1.0)
        px = CX + FOCAL * cc[..., 0] / zs
        py = CY - FOCAL * cc[..., 1] / zs
        onscreen = ~allf | ~((px.max(1) < -1) | (px.min(1) > LOW_W) | (py.max(1) < -1) | (py.min(1) > LOW_H))
        keep, cc, px, py, allf = keep[onscreen], cc[onscreen], px[onscreen], py[onscreen], allf[onscreen]
        if len(keep) == 0:
            return
        d = np.sqrt(d2[keep])
        order = np.argsort(-(d - spot[keep] * 1e-4), kind="stable")
        col = color[keep]
        if crack_id is not None:
            col = col.copy()
            col[fid[keep] == crack_id] *= 1.0 - 0.45 * crack
        fog = np.clip((d - FOG_START) / (FOG_END - FOG_START), 0.0, 1.0)[:, None]
        horizon = SKY_HORIZON.astype(np.float64)[None, :]
        col = np.clip(col + (horizon - col) * fog, 0, 255).astype(np.int64)
        pts_all = np.stack([px, py], -1) * 16.0
        np.clip(pts_all, -32000, 32000, out=pts_all)
        pts_all = np.round(pts_all).astype(np.int32)
        cols = col.tolist()
        idl = fid[keep].tolist()
        allfl = allf.tolist()
        outline_id = tgt.object_id if (tgt is not None and tgt.kind == "block") else None
        outlines = []
        fill = cv2.fillConvexPoly
        for j in order.tolist():
            if allfl[j]:
                pts = pts_all[j]
            else:
                pts = self._clip_poly(cc[j])
                if pts is None:
                    continue
            fill(rgb, pts, cols[j], cv2.LINE_8, 4)
            fill(ids, pts, idl[j], cv2.LINE_8, 4)
            if idl[j] == outline_id:
                outlines.append(pts)
        if outlines:
            cv2.polylines(rgb, outlines, True, (20, 20, 20), 1, cv2.LINE_8, 4)

    @staticmethod
    def _clip_poly(cc: np.ndarray) -> np.ndarray | None:
        out = []
        n = len(cc)
        for i in range(n):
            p, q = cc[i], cc[(i + 1) % n]
            pin, qin = p[2] > NEAR, q[2] > NEAR
            if pin:
                out.append(p)
            if pin != qin:
                t = (NEAR - p[2]) / (q[2] - p[2])
                out.append(p + t * (q - p))
        if len(out) < 3:
            return None
        o = np.array(out)
        px = CX + FOCAL * o[:, 0] / o[:, 2]
        py = CY - FOCAL * o[:, 1] / o[:, 2]
        pts = np.clip(np.stack([px, py], -1) * 16.0, -32000, 32000)
        return np.round(pts).astype(np.int32)

    def _draw_hand(self, rgb: np.ndarray, ids: np.ndarray, slots) -> None:
        s = slots[self.hotbar]
        ph = self._swing / 6.0
        ox = int(-26 * math.sin(math.pi * ph))
        oy = int(-18 * math.sin(math.pi * ph))
        if s and s[0] in BLOCK_CODE:
            b = BLOCKS[BLOCK_CODE[s[0]]]
            x0, y0 = 548 + ox, 292 + oy
            polys = [
                (np.array([[x0, y0 + 14], [x0 + 34, y0], [x0 + 70, y0 + 12], [x0 + 36, y0 + 28]]), np.array(b.top, float)),
                (np.array([[x0, y0 + 14], [x0 + 36, y0 + 28], [x0 + 36, y0 + 80], [x0, y0 + 66]]), np.array(b.side, float) * 0.8),
                (np.array([[x0 + 36, y0 + 28], [x0 + 70, y0 + 12], [x0 + 70, y0 + 64], [x0 + 36, y0 + 80]]), np.array(b.side, float) * 0.6),
            ]
        else:
            x0, y0 = 560 + ox, 300 + oy
            polys = [
                (np.array([[x0, y0 + 10], [x0 + 34, y0], [x0 + 80, y0 + 70], [x0 + 40, y0 + 80]]), np.array([199.0, 150.0, 122.0])),
                (np.array([[x0, y0 + 10], [x0 + 40, y0 + 80], [x0 + 22, y0 + 84], [x0 - 12, y0 + 20]]), np.array([160.0, 118.0, 94.0])),
            ]
            if s:
                icon, mask = _ICONS[s[0]]
                big = cv2.resize(icon, (40, 40), interpolation=cv2.INTER_NEAREST)
                bmask = cv2.resize(mask.astype(np.uint8), (40, 40), interpolation=cv2.INTER_NEAREST) > 0
        for pts, col in polys:
            p = pts.astype(np.int32)
            cv2.fillConvexPoly(rgb, p, tuple(int(c) for c in col))
            cv2.fillConvexPoly(ids, p, 0)
        if s and s[0] not in BLOCK_CODE:
            _paste(rgb, big, bmask, x0 - 14, y0 - 24)
            _paste(ids, np.zeros((40, 40), np.uint16), bmask, x0 - 14, y0 - 24)

    def _draw_hud(self, rgb: np.ndarray, ids: np.ndarray, slots) -> None:
        key = (self.hotbar, tuple(tuple(s) if s else None for s in slots[:9]))
        if self._hud_cache is None or self._hud_cache[0] != key:
            self._hud_cache = (key, self._build_hud(slots))
        img, mask, hid, y0 = self._hud_cache[1]
        region = rgb[y0:]
        np.copyto(region, img, where=mask[..., None])
        np.copyto(ids[y0:], hid, where=mask)

    def _build_hud(self, slots):
        y0 = HOTBAR_Y - 20
        h = HEIGHT - y0
        img = np.zeros((h, WIDTH, 3), np.uint8)
        mask = np.zeros((h, WIDTH), np.uint8)
        hid = np.zeros((h, WIDTH), np.uint16)
        x0, hy = HOTBAR_X, HOTBAR_Y - y0
        cv2.rectangle(img, (x0, hy), (x0 + 181, hy + 21), (30, 30, 30), -1)
        cv2.rectangle(mask, (x0, hy), (x0 + 181, hy + 21), 255, -1)
        for i in range(9):
            sx = x0 + 1 + 20 * i
            cv2.rectangle(img, (sx, hy + 1), (sx + 19, hy + 20), (118, 118, 118), 1)
            cv2.rectangle(img, (sx + 2, hy + 3), (sx + 17, hy + 18), (84, 84, 84), -1)
        sel = x0 - 1 + 20 * self.hotbar
        cv2.rectangle(img, (sel, hy - 1), (sel + 23, hy + 22), (240, 240, 240), 2)
        cv2.rectangle(mask, (sel, hy - 1), (sel + 23, hy + 22), 255, 2)
        for i in range(9):
            s = slots[i]
            if not s:
                continue
            ix, iy = x0 + 3 + 20 * i, hy + 3
            icon, imask = _ICONS[s[0]]
            _paste(img, icon, imask, ix, iy)
            hid[iy:iy + 16, ix:ix + 16] = gui_object_id(SLOT_HUD0 + i, s[0])
            _draw_count(img, s[1], ix, iy)
        mask |= (img.max(-1) > 0).astype(np.uint8) * 255
        # hearts, hunger, experience bar
        for i in range(10):
            hx = x0 + 8 * i
            cv2.rectangle(img, (hx, hy - 18), (hx + 7, hy - 11), (20, 0, 0), -1)
            cv2.rectangle(img, (hx + 1, hy - 17), (hx + 6, hy - 12), (214, 20, 20), -1)
            cv2.rectangle(mask, (hx, hy - 18), (hx + 7, hy - 11), 255, -1)
            gx = x0 + 181 - 8 * (i + 1)
            cv2.circle(img, (gx + 4, hy - 14), 3, (140, 90, 40), -1)
            cv2.circle(mask, (gx + 4, hy - 14), 3, 255, -1)
        cv2.rectangle(img, (x0, hy - 7), (x0 + 181, hy - 3), (20, 30, 20), -1)
        cv2.rectangle(img, (x0 + 1, hy - 6), (x0 + 60, hy - 4), (128, 255, 32), -1)
        cv2.rectangle(mask, (x0, hy - 7), (x0 + 181, hy - 3), 255, -1)
        m = mask > 0
        hid[~m] = 0
        return img, m, hid, y0

    def _draw_gui(self, rgb, ids, slots, grid, held, output, cursor: bool) -> None:
        cv2.convertScaleAbs(rgb, dst=rgb, alpha=0.32, beta=6)
        table = not self.gui_inventory
        key = (table, tuple(tuple(s) if s else None for s in slots), tuple(tuple(s) if s else None for s in grid), output)
        if self._panel_cache is None or self._panel_cache[0] != key:
            self._panel_cache = (key, self._build_panel(table, slots, grid, output))
        pimg, pids = self._panel_cache[1]
        rgb[GUI_TOP:GUI_TOP + GUI_PANEL_H, GUI_LEFT:GUI_LEFT + GUI_PANEL_W] = pimg
        ids[GUI_TOP:GUI_TOP + GUI_PANEL_H, GUI_LEFT:GUI_LEFT + GUI_PANEL_W] = pids
        cx, cy = int(self.mouse_x * HEIGHT / WINDOW_H), int(self.mouse_y * HEIGHT / WINDOW_H)
        if held:
            icon, imask = _ICONS[held[0]]
            _paste(rgb, icon, imask, cx - 8, cy - 8)
            _draw_count(rgb, held[1], cx - 8, cy - 8)
        if cursor:
            _paste(rgb, _CURSOR[0], _CURSOR[1], cx, cy)

    def _build_panel(self, table: bool, slots, grid, output):
        img = _PANELS[table].copy()
        pids = np.zeros(img.shape[:2], np.uint16)
        rects = _SLOT_RECTS[table]
        contents: dict[int, Any] = {i: slots[i] for i in range(36)}
        for j in range(9):
            if SLOT_CRAFT0 + j in rects:
                contents[SLOT_CRAFT0 + j] = grid[j]
        contents[SLOT_OUTPUT] = list(output) if output else None
        for s, item in contents.items():
            if not item:
                continue
            x, y = rects[s][0] - GUI_LEFT, rects[s][1] - GUI_TOP
            icon, imask = _ICONS[item[0]]
            _paste(img, icon, imask, x, y)
            _draw_count(img, item[1], x, y)
            pids[y:y + 16, x:x + 16] = gui_object_id(s, item[0])
        return img, pids
