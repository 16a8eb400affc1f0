"""The whiteboard scenario: the arms write K straight strokes on a whiteboard lying on the table.

A long-horizon AgiBot task whose length is a dial (Act2Goal's whiteboard ablation writes
short, medium and long words): ``goalframe synth agibot --scenario whiteboard --strokes 3-4``.

* :class:`WhiteboardWorld` is an :class:`~goalframe.sim.agibot.world.AgibotWorld` with no
  objects and a white board (:data:`BOARD_X` x :data:`BOARD_Y`, top at :data:`BOARD_TOP`) on
  the table. Each gripper holds a marker whose tip is the grasp point: wherever a tip is
  within :data:`PEN_REACH` of the board top, the board takes ink (a disc of
  :data:`PEN_RADIUS`, swept along the tip's path between frames) in an ink grid of
  :data:`CELL` cells. Rendering paints the inked cells onto the board's pixels (by casting
  each board pixel's ray onto the board plane), so the arm still hides the ink under it.
* :func:`draw_strokes` draws K strokes (start and end points on the board): anywhere
  (``free``), or K of the 8 fixed strokes of :func:`grid_strokes` (``grid``, the simpler
  task: the goal image picks strokes from a vocabulary instead of giving coordinates);
  :func:`stroke_ink` rasterises them as the goal ink, the ink a perfect pen leaves.
* :func:`simulate_whiteboard` is the scripted demonstration, in the scripted player's style:
  per stroke approach above its start (the stroke's arm is the one on its side; the other
  arm goes home), pen down, stroke, lift; then both arms go home. One task segment per
  stroke (``skill`` "Draw"), so the events and MSTH stages see K subtasks.
* Success is :func:`ink_iou` (intersection over union of drawn and goal ink cells) at or
  above :data:`IOU_THRESHOLD`.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from goalframe.sim.agibot.constants import GRIPPER_IDS, HOME, TABLE_Z, TCP_DEPTH
from goalframe.sim.agibot.kinematics import flange_of_palm
from goalframe.sim.agibot.player import EpisodeRecording, recorded_arrays
from goalframe.sim.agibot.render import _Builder
from goalframe.sim.agibot.state import WorldState
from goalframe.sim.agibot.world import AgibotAction, AgibotWorld

#: ``--strokes`` bands: short, medium, long (strokes per episode, drawn uniformly in the band)
STROKE_BANDS = {"short": (1, 2), "medium": (3, 4), "long": (6, 8)}
BOARD_X = (0.42, 0.76)  # m, the board's extent on the table (x forward, y left)
BOARD_Y = (-0.24, 0.24)
BOARD_TOP = TABLE_Z + 0.003
BOARD_ID = 120  # object id of the board in the truth masks
BOARD_RGB = (246, 246, 242)
INK_RGB = (28, 32, 60)
PEN_RGB = (40, 40, 150)
CELL = 0.002  # m, ink grid cell
INK_SHAPE = (round((BOARD_X[1] - BOARD_X[0]) / CELL), round((BOARD_Y[1] - BOARD_Y[0]) / CELL))
PEN_RADIUS = 0.01  # m: a marker line is 2 cm wide
PEN_REACH = 0.004  # m, a tip this close above the board top touches it
PEN_LENGTH, PEN_HALF_WIDTH = 0.09, 0.006  # m, the marker drawn between the fingers
STROKE_LENGTH = (0.08, 0.16)  # m
STROKE_MARGIN = 0.03  # m, strokes keep this far from the board's edges
HOVER = 0.05  # m, the tip's height above the board between strokes
IOU_THRESHOLD = 0.7
FRAMES_PER_STROKE = 60
MIN_FRAMES_PER_STROKE = 24
# fractions of frames_per_stroke per phase, and each phase's minimum (frames)
STROKE_PHASES = (("approach", 0.3, 8), ("down", 0.15, 4), ("stroke", 0.4, 8), ("lift", 0.15, 4))
HOME_FRAMES = 20  # both arms back home after the last stroke (the goal image shows them there)
LEAD_FRAMES = 3


def parse_strokes(text: str) -> tuple[int, int]:
    """``"3-4"`` -> (3, 4), ``"5"`` -> (5, 5); a band name (short, medium, long) too."""
    if text in STROKE_BANDS:
        return STROKE_BANDS[text]
    low, _, high = str(text).partition("-")
    try:
        band = (int(low), int(high or low))
    except ValueError:
        raise ValueError(f"--strokes must be N or LOW-HIGH (e.g. 3-4), got {text!r}") from None
    if not 1 <= band[0] <= band[1] <= 12:
        raise ValueError(f"--strokes must lie within 1-12 with LOW <= HIGH, got {text!r}")
    return band


def band_name(band: tuple[int, int]) -> str:
    return f"{band[0]}-{band[1]}" if band[0] != band[1] else str(band[0])


def _cell(xy: np.ndarray) -> np.ndarray:
    """Fractional (col, row) ink-grid coordinates of board points (..., 2): rows along x."""
    xy = np.asarray(xy, float)
    return np.stack([(xy[..., 1] - BOARD_Y[0]) / CELL, (xy[..., 0] - BOARD_X[0]) / CELL], -1)


def stamp(ink: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Ink the pen's disc swept from board point ``a`` to ``b`` (in place)."""
    shift = 3
    pa, pb = (np.rint(_cell(p) * (1 << shift)).astype(int) for p in (a, b))
    radius = round(PEN_RADIUS / CELL * (1 << shift))
    canvas = ink.view(np.uint8)
    cv2.line(canvas, tuple(int(v) for v in pa), tuple(int(v) for v in pb), 1, 1, cv2.LINE_8, shift)
    cv2.circle(canvas, tuple(int(v) for v in pa), radius, 1, -1, cv2.LINE_8, shift)
    cv2.circle(canvas, tuple(int(v) for v in pb), radius, 1, -1, cv2.LINE_8, shift)
    length = float(np.linalg.norm(np.asarray(b) - np.asarray(a)))
    if length > 1e-9:  # the swept band between the two discs
        d = (np.asarray(b, float) - np.asarray(a, float)) / length
        n = np.array([-d[1], d[0]]) * PEN_RADIUS
        quad = np.stack([a + n, b + n, b - n, a - n])
        cv2.fillConvexPoly(canvas, np.rint(_cell(quad) * (1 << shift)).astype(np.int32), 1, cv2.LINE_8, shift)


def stroke_ink(strokes: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """The goal ink of ``strokes``: (rows, cols) bool, what a perfect pen would leave."""
    ink = np.zeros(INK_SHAPE, bool)
    for a, b in strokes:
        stamp(ink, a, b)
    return ink


def ink_iou(drawn: np.ndarray, goal: np.ndarray) -> float:
    union = int((drawn | goal).sum())
    return float((drawn & goal).sum()) / union if union else 1.0


def grid_strokes() -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``grid`` stroke set: 8 fixed strokes, 2 rows x 4 columns of board cells, each cell's
    stroke 9 cm long, alternately along x and along y (a vocabulary: the goal image says which)."""
    xs = np.linspace(BOARD_X[0], BOARD_X[1], 5)[[1, 3]]
    ys = np.linspace(BOARD_Y[0], BOARD_Y[1], 9)[[1, 3, 5, 7]]
    half = 0.045
    strokes = []
    for i, x in enumerate(xs):
        for j, y in enumerate(ys):
            d = np.array([half, 0.0]) if (i + j) % 2 == 0 else np.array([0.0, half])
            strokes.append((np.array([x, y]) - d, np.array([x, y]) + d))
    return strokes


#: ``--stroke-set`` values: ``free`` (random positions, angles and lengths) or ``grid``
STROKE_SETS = ("free", "grid")
GRID_SIZE = 8


def check_stroke_set(stroke_set: str, band: tuple[int, int]) -> None:
    if stroke_set not in STROKE_SETS:
        raise ValueError(f"--stroke-set must be one of {', '.join(STROKE_SETS)}, got {stroke_set!r}")
    if stroke_set == "grid" and band[1] > GRID_SIZE:
        raise ValueError(f"--stroke-set grid has {GRID_SIZE} strokes, --strokes asks up to {band[1]}")


def draw_strokes(
    rng: np.random.Generator, k: int, stroke_set: str = "free"
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` straight strokes on the board, each :data:`STROKE_LENGTH` long, inside the margin;
    ``stroke_set="grid"``: ``k`` distinct strokes of :func:`grid_strokes`, in a random order."""
    check_stroke_set(stroke_set, (k, k))
    if stroke_set == "grid":
        vocabulary = grid_strokes()
        return [vocabulary[int(i)] for i in rng.permutation(len(vocabulary))[:k]]
    lo = np.array([BOARD_X[0], BOARD_Y[0]]) + STROKE_MARGIN
    hi = np.array([BOARD_X[1], BOARD_Y[1]]) - STROKE_MARGIN
    strokes = []
    while len(strokes) < k:
        a = rng.uniform(lo, hi)
        angle, length = rng.uniform(-math.pi, math.pi), rng.uniform(*STROKE_LENGTH)
        b = a + length * np.array([math.cos(angle), math.sin(angle)])
        if np.all(b >= lo) and np.all(b <= hi):
            strokes.append((a, b))
    return strokes


class WhiteboardState(WorldState):
    """A world state with the board's ink grid."""

    ink: np.ndarray

    def copy(self) -> WhiteboardState:
        out = WorldState.copy(self)
        out.__class__ = WhiteboardState
        out.ink = self.ink.copy()
        return out


class WhiteboardWorld(AgibotWorld):
    """The tabletop world with a whiteboard and no objects; see the module docstring."""

    def reset(self, seed: int, n_objects: int = 0) -> WorldState:
        base = AgibotWorld()
        base.reset(seed, 1)  # the head pitch jitter, drawn as every AgiBot episode draws it
        self.head, self.seed, self.objects = base.head, seed, []
        st = base.state.copy()
        st.positions, st.yaws = np.zeros((0, 3)), np.zeros(0)
        st.__class__ = WhiteboardState
        st.ink = np.zeros(INK_SHAPE, bool)
        self.state = st
        self._sync()
        return self.state

    def _scene_extras(self, b: _Builder) -> None:
        (x0, x1), (y0, y1), z = BOARD_X, BOARD_Y, BOARD_TOP
        b.quad([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]], [0, 0, 1], BOARD_RGB, BOARD_ID, 1)
        for arm in range(2):  # the markers: from the tip up between the fingers
            tip = self.tcp(arm)
            centre = tip + [0.0, 0.0, PEN_LENGTH / 2]
            b.cylinder(centre, PEN_HALF_WIDTH, PEN_LENGTH / 2, PEN_RGB, GRIPPER_IDS[arm])

    def touching(self) -> np.ndarray:
        """(2,) bool: each marker tip on the board."""
        tips = np.stack([self.tcp(arm) for arm in range(2)])
        on = (BOARD_X[0] <= tips[:, 0]) & (tips[:, 0] <= BOARD_X[1])
        on &= (BOARD_Y[0] <= tips[:, 1]) & (tips[:, 1] <= BOARD_Y[1])
        return on & (tips[:, 2] <= BOARD_TOP + PEN_REACH)

    def step(self, action):
        before = [self.tcp(arm)[:2].copy() for arm in range(2)]
        was = self.touching()
        events = super().step(action)
        now = self.touching()
        for arm in np.flatnonzero(now):
            tip = self.tcp(int(arm))[:2]
            stamp(self.state.ink, before[arm] if was[arm] else tip, tip)
        self._scene_cache = None
        return events

    def render(self, camera: str) -> tuple[np.ndarray, np.ndarray]:
        rgb, ids = super().render(camera)
        board = ids == BOARD_ID
        if board.any():  # warp the ink grid into the image through the board plane's homography
            inked = cv2.warpPerspective(
                self.state.ink.view(np.uint8),
                self._pixel_to_cell(camera),
                (ids.shape[1], ids.shape[0]),
                flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_REPLICATE,
            )
            rgb[board & (inked > 0)] = INK_RGB
        return rgb, ids

    def _pixel_to_cell(self, camera: str) -> np.ndarray:
        """3 x 3 map from pixel (u, v) to ink-grid (col, row) - 0.5, so nearest sampling floors."""
        k = self.intrinsics(camera)
        rot, t = self.camera_pose(camera)
        intrinsic = np.array([[k["fx"], 0, k["ppx"]], [0, k["fy"], k["ppy"]], [0, 0, 1]])
        to_camera = rot.T
        plane = np.column_stack(
            [to_camera[:, 0], to_camera[:, 1], to_camera @ (np.array([0, 0, BOARD_TOP]) - t)]
        )
        cell_to_board = np.array([[0, CELL, BOARD_X[0]], [CELL, 0, BOARD_Y[0]], [0, 0, 1]])
        half = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1]])
        return half @ np.linalg.inv(intrinsic @ plane @ cell_to_board)


def _min_jerk(s: float) -> float:
    return 10 * s**3 - 15 * s**4 + 6 * s**5


def simulate_whiteboard(
    world_seed: int, k: int, frames_per_stroke: int = FRAMES_PER_STROKE, stroke_set: str = "free"
) -> EpisodeRecording:
    """Script and step one whiteboard episode of ``k`` strokes (no files); deterministic."""
    if frames_per_stroke < MIN_FRAMES_PER_STROKE:
        raise ValueError(f"frames_per_stroke must be >= {MIN_FRAMES_PER_STROKE}, got {frames_per_stroke}")
    strokes = draw_strokes(np.random.default_rng([world_seed, 5]), k, stroke_set)
    world = WhiteboardWorld()
    world.reset(world_seed)
    lengths = {name: max(low, round(frac * frames_per_stroke)) for name, frac, low in STROKE_PHASES}
    states, prop = [world.get_state()], [world.proprio()]
    act_rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    cmd = world.state.ee.copy()
    yaw, grip = world.state.yaw.copy(), np.zeros(2)

    def advance() -> None:
        act_rows.append((cmd.copy(), yaw.copy(), grip.copy()))
        world.step(AgibotAction(flange_of_palm(cmd), grip, yaw))
        states.append(world.get_state())
        prop.append(world.proprio())

    def move(goal: np.ndarray, n: int) -> None:
        start = cmd.copy()
        for i in range(1, n + 1):
            cmd[:] = start + (goal - start) * _min_jerk(i / n)
            advance()
        while np.abs(world.state.ee - cmd).max() > 1e-4:  # the speed limit lagged: catch up
            advance()

    def palm(xy: np.ndarray, tip_z: float) -> np.ndarray:
        return np.array([xy[0], xy[1], tip_z + TCP_DEPTH])

    for _ in range(LEAD_FRAMES - 1):
        advance()
    segments: list[dict[str, Any]] = []
    for i, (a, b) in enumerate(strokes):
        start = len(states) - 1 if segments else 0
        arm = 0 if (a[1] + b[1]) / 2 > 0 else 1
        goal = cmd.copy()
        goal[arm], goal[1 - arm] = palm(a, BOARD_TOP + HOVER), HOME[1 - arm]
        move(goal, lengths["approach"])
        goal[arm] = palm(a, BOARD_TOP)
        move(goal, lengths["down"])
        goal[arm] = palm(b, BOARD_TOP)
        move(goal, lengths["stroke"])
        goal[arm] = palm(b, BOARD_TOP + HOVER)
        move(goal, lengths["lift"])
        segments.append(
            {
                "start_frame": start,
                "end_frame": len(states) - 1,
                "action_text": f"Draw stroke {i + 1} of {k} on the whiteboard with the "
                f"{('left', 'right')[arm]} arm.",
                "skill": "Draw",
                "arm": ("left", "right")[arm],
            }
        )
    move(HOME.copy(), HOME_FRAMES)
    act_rows.append((cmd.copy(), yaw.copy(), grip.copy()))  # the last frame's action row: hold
    n = len(states)
    segments[-1]["end_frame"] = n
    proprio, actions = recorded_arrays(world_seed, prop, act_rows, world.head)
    goal_ink = stroke_ink(strokes)
    drawn = world.state.ink
    truth = {
        "name": "whiteboard",
        "stroke_set": stroke_set,
        "strokes": [[[round(float(v), 5) for v in p] for p in s] for s in strokes],
        "iou_threshold": IOU_THRESHOLD,
        "final_iou": round(ink_iou(drawn, goal_ink), 4),
        "ink_cell_m": CELL,
        "board_x": list(BOARD_X),
        "board_y": list(BOARD_Y),
        "board_top_z": BOARD_TOP,
        "pen_radius_m": PEN_RADIUS,
    }
    scenario = {
        "task_name": "Write on the whiteboard",
        "scene_text": f"The robot stands in front of a table with a whiteboard on it; it draws {k} strokes.",
        "labels": {BOARD_ID: "whiteboard"},
        "truth": truth,
        "goal_ink": goal_ink,
    }

    def make_world() -> WhiteboardWorld:
        fresh = WhiteboardWorld()
        fresh.reset(world_seed)
        return fresh

    return EpisodeRecording(
        world_seed, 0, states, proprio, actions, [], segments, [], world.head.copy(), make_world, scenario
    )
