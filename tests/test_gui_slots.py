"""Items in the slots of an open game GUI: the icon box of the slot under the prompt, the target
that places it on the frames of the GUI session ending at the event, and tracks built with it.

Frames are drawn here as the game (and the synthetic renderer's ``_make_panel``) draws a GUI: a
grey panel, slots with a dark top and left edge and a light bottom and right edge, 16 x 16 item
icons, and the crafting arrow whose tip covers part of the output slot's left edge.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import vpt_fixtures

from goalframe.annotators.classical import ClassicalAnnotator
from goalframe.annotators.gui_slots import GuiSlotTarget, slot_item_box
from goalframe.annotators.vpt_targets import static_target
from goalframe.media.images import iou
from goalframe.sources.registry import get_format
from goalframe.storage import ingest, open_dataset

HEIGHT, WIDTH = 360, 640
PANEL_GREY, SLOT_GREY, EDGE_DARK, EDGE_LIGHT, OUTLINE = 198, 139, 55, 255, (40, 30, 20)
PANEL_TOP, PANEL_LEFT, PANEL_H, PANEL_W = 97, 232, 166, 176
# (inventory slot, crafting output) interiors: the game's slots are 18 and 26 px with their
# edges; the renderer draws them one pixel wider
LAYOUTS = {"game": (16, 24), "renderer": (17, 25)}
# where the icon sits in a slot's interior: centred in the game's; the renderer's odd sizes
# leave the extra pixel on the right and bottom
ICON_OFFSET = {16: 0, 17: 0, 24: 4, 25: 4}
GRID_TOP, GRID_LEFT, GRID_ROWS, GRID_COLS = PANEL_TOP + 20, PANEL_LEFT + 10, 3, 4
OUTPUT_TOP, OUTPUT_LEFT = PANEL_TOP + 36, PANEL_LEFT + 124  # the output slot's interior


def item_icon(left: tuple[int, int, int], right: tuple[int, int, int]) -> np.ndarray:
    """A 16 x 16 item icon: a dark-outlined diamond of two colours, the slot's grey showing in its
    transparent corners."""
    rows, cols = np.mgrid[:16, :16]
    distance = np.abs(rows - 7.5) + np.abs(cols - 7.5)
    shape = distance <= 9
    icon = np.full((16, 16, 3), SLOT_GREY, np.uint8)
    icon[shape] = left
    icon[shape & (cols >= 8)] = right
    icon[shape & (distance > 7.5)] = OUTLINE
    return icon


PICKAXE = item_icon((150, 100, 50), (60, 170, 200))
PLANKS = item_icon((170, 130, 80), (190, 150, 95))
NEIGHBOURS = [
    item_icon((40 + 17 * k, 200 - 13 * k, 90 + 11 * k), (220 - 15 * k, 60 + 9 * k, 30 + 14 * k))
    for k in range(GRID_ROWS * GRID_COLS)
]


def draw_slot(
    frame: np.ndarray, top: int, left: int, interior: int, icon: np.ndarray | None
) -> tuple[int, int, int, int]:
    """A slot whose interior starts at (top, left), drawn in _make_panel's order (the light edges
    last, so they own the top-right and bottom-left corners); its icon box (row0, col0, row1, col1)."""
    bottom, right = top + interior, left + interior  # the light edges' row and column
    frame[top - 1 : bottom + 1, left - 1 : right + 1] = SLOT_GREY
    frame[top - 1, left - 1 : right] = EDGE_DARK
    frame[top - 1 : bottom, left - 1] = EDGE_DARK
    frame[bottom, left - 1 : right + 1] = EDGE_LIGHT
    frame[top - 1 : bottom + 1, right] = EDGE_LIGHT
    offset = ICON_OFFSET[interior]
    box = (top + offset, left + offset, top + offset + 16, left + offset + 16)
    if icon is not None:
        frame[box[0] : box[2], box[1] : box[3]] = icon
    return box


def stack_count(frame: np.ndarray, n: int, box: tuple[int, int, int, int]) -> None:
    """A stack's size in white at the icon's bottom right, its shadow a pixel lower and right:
    the shadow runs onto the slot's light edges (as the renderer's _draw_count draws it)."""
    text, row, col = str(n), box[0], box[1] + 17 - 6 * len(str(n))
    cv2.putText(frame, text, (col + 1, row + 17), cv2.FONT_HERSHEY_PLAIN, 0.62, (62, 62, 62), 1, cv2.LINE_8)
    cv2.putText(frame, text, (col, row + 16), cv2.FONT_HERSHEY_PLAIN, 0.62, (255, 255, 255), 1, cv2.LINE_8)


def world_frame(seed: int) -> np.ndarray:
    """A blocky, colourful frame standing in for the 3D world (GUI closed)."""
    blocks = np.random.default_rng(seed).integers(0, 256, (HEIGHT // 8, WIDTH // 8, 3), np.uint8)
    return cv2.resize(blocks, (WIDTH, HEIGHT), interpolation=cv2.INTER_NEAREST)


def gui_frame(
    layout: str = "game", output: np.ndarray | None = PICKAXE, seed: int = 0
) -> tuple[np.ndarray, dict[str, tuple[int, int, int, int]]]:
    """An open crafting screen over the dimmed world: a grid of inventory slots holding stacks (the
    one at row 1, col 1 with neighbours on every side) and the output slot, ``output`` in it.
    Returns the frame and the icon boxes of that grid slot ("grid") and of the output ("output")."""
    small, big = LAYOUTS[layout]
    frame = cv2.convertScaleAbs(world_frame(seed), alpha=0.32, beta=6)
    frame[PANEL_TOP : PANEL_TOP + PANEL_H, PANEL_LEFT : PANEL_LEFT + PANEL_W] = PANEL_GREY
    boxes = {}
    # neighbouring slots' edges touch, light beside dark, as in the game; the renderer keeps the
    # game's 18 px pitch for its 19 px slots, so its slots overlap their neighbours' edges
    pitch = small + 2
    for k in range(GRID_ROWS * GRID_COLS):
        r, c = divmod(k, GRID_COLS)
        box = draw_slot(frame, GRID_TOP + pitch * r, GRID_LEFT + pitch * c, small, NEIGHBOURS[k])
        stack_count(frame, 5 + 9 * k, box)
        if (r, c) == (1, 1):
            boxes["grid"] = box
    boxes["output"] = box = draw_slot(frame, OUTPUT_TOP, OUTPUT_LEFT, big, output)
    # the crafting arrow, placed against the output's icon as _make_panel places it: its tip
    # covers part of the slot's dark left edge
    ax, ay = box[1] - 20, box[0]
    arrow = np.array(
        [
            [ax, ay + 5],
            [ax + 14, ay + 5],
            [ax + 14, ay + 1],
            [ax + 21, ay + 8],
            [ax + 14, ay + 15],
            [ax + 14, ay + 11],
            [ax, ay + 11],
        ],
        np.int32,
    )
    cv2.fillPoly(frame, [arrow], (SLOT_GREY,) * 3)
    return frame, boxes


def jpeg(frame: np.ndarray, quality: int = 75) -> np.ndarray:
    """The frame through a real lossy codec (RGB in, RGB out)."""
    ok, data = cv2.imencode(
        ".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    assert ok
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def points_on(box: tuple[int, int, int, int]) -> list[tuple[float, float]]:
    """Points all over an icon box: its four corner pixels, its centre, an edge's middle."""
    r0, c0, r1, c1 = box
    return [(r0, c0), (r0, c1 - 1), (r1 - 1, c0), (r1 - 1, c1 - 1), (r0 + 7.6, c0 + 8.2), (r0 + 8, c1 - 1)]


def box_mask(box: tuple[int, int, int, int]) -> np.ndarray:
    mask = np.zeros((HEIGHT, WIDTH), bool)
    mask[box[0] : box[2], box[1] : box[3]] = True
    return mask


# ---- slot_item_box ---------------------------------------------------------------------


def test_the_arrow_covers_part_of_the_output_slots_left_edge():
    # so that finding the output slot below is a test of the tolerance for spoiled edges
    for layout in LAYOUTS:
        frame, _ = gui_frame(layout)
        left_edge = frame[OUTPUT_TOP : OUTPUT_TOP + LAYOUTS[layout][1], OUTPUT_LEFT - 1, 0]
        assert 8 <= np.count_nonzero(left_edge == SLOT_GREY) < len(left_edge) // 2 + 2, left_edge


@pytest.mark.parametrize("codec", ["lossless", "jpeg"])
@pytest.mark.parametrize("slot", ["grid", "output"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_the_icon_box_is_found_from_any_point_on_the_icon(layout, slot, codec):
    frame, boxes = gui_frame(layout)
    if codec == "jpeg":
        frame = jpeg(frame)
        assert np.abs(frame.astype(int) - gui_frame(layout)[0]).max() > 20  # the codec did spoil pixels
    for point in points_on(boxes[slot]):
        assert slot_item_box(frame, point) == boxes[slot], point


def test_no_icon_box_on_the_plain_panel():
    frame, boxes = gui_frame()
    r0, c0, r1, c1 = boxes["output"]
    grid_right = GRID_LEFT + GRID_COLS * 18
    # beside the grid and the output, above and below them, in the panel's corner
    points = [
        (r0 + 8, grid_right + 4),
        (r1 + 12, c0 + 8),
        (GRID_TOP - 6, GRID_LEFT + 20),
        (PANEL_TOP + 6, PANEL_LEFT + 6),
        (PANEL_TOP + PANEL_H - 10, PANEL_LEFT + 90),
    ]
    assert all(frame[r, c].tolist() == [PANEL_GREY] * 3 for r, c in points)
    for image in (frame, jpeg(frame)):
        for point in points:
            assert slot_item_box(image, point) is None, point


def test_no_icon_box_on_the_world():
    noise = np.random.default_rng(3).integers(0, 256, (HEIGHT, WIDTH, 3), np.uint8)
    for frame in (world_frame(1), jpeg(world_frame(2)), noise, np.full((HEIGHT, WIDTH, 3), 120, np.uint8)):
        for point in [(180, 320), (40, 600), (300, 25.4)]:
            assert slot_item_box(frame, point) is None, point


# ---- GuiSlotTarget ---------------------------------------------------------------------

# a window ending at a crafting event: an earlier GUI session, the world, then the session of
# the event: the output slot empty, another recipe's result, and the crafted item
SESSION = ["pickaxe"] * 3 + ["world"] * 3 + ["empty"] * 3 + ["planks"] * 2 + ["pickaxe"] * 3
SHOWN = np.array([i >= 11 for i in range(len(SESSION))])  # the event's session, the item in the slot


def crafting_window(
    session: list[str] = SESSION,
) -> tuple[np.ndarray, np.ndarray, tuple[float, float], tuple[int, int, int, int]]:
    """(frames, gui_open, prompt on the output slot, the output's icon box), through the codec."""
    icons = {"pickaxe": PICKAXE, "planks": PLANKS, "empty": None}
    frames, box = [], None
    for t, what in enumerate(session):
        if what == "world":
            frames.append(jpeg(world_frame(100 + t)))
            continue
        frame, boxes = gui_frame("game", icons[what], seed=100 + t)  # the world behind the panel changes
        frames.append(jpeg(frame))
        box = boxes["output"]
    prompt = (box[0] + 6.0, box[1] + 9.0)
    return np.stack(frames), np.array([what != "world" for what in session]), prompt, box


@pytest.fixture(scope="module")
def window():
    return crafting_window()


def test_the_item_shows_on_the_frames_of_the_events_gui_session_where_the_slot_holds_it(window):
    frames, gui_open, prompt, box = window
    target = GuiSlotTarget(gui_open)
    assert target.fit(frames, np.zeros(frames.shape[1:3], bool), prompt)
    assert target.describe() == {"kind": "gui_slot", "box": list(box)}
    expected = np.zeros(frames.shape[:3], bool)
    expected[SHOWN] = box_mask(box)
    np.testing.assert_array_equal(target.silhouettes(), expected)


def test_no_fit_without_an_open_gui_or_an_item_under_the_prompt(window):
    frames, gui_open, prompt, box = window
    no_mask = np.zeros(frames.shape[1:3], bool)
    # the GUI closed on the last frame
    assert not GuiSlotTarget(np.r_[gui_open[:-1], False]).fit(frames, no_mask, prompt)
    # the output slot under the prompt is empty on the event frame
    empty = crafting_window(SESSION[:9])
    assert not GuiSlotTarget(empty[1]).fit(empty[0], no_mask, empty[2])
    # the prompt on the plain panel, not on a slot
    assert not GuiSlotTarget(gui_open).fit(frames, no_mask, (box[2] + 12.0, box[1] + 8.0))
    # the same window and prompt do fit: the refusals above are the conditions, not the frames
    assert GuiSlotTarget(gui_open).fit(frames, no_mask, prompt)


def test_silhouettes_need_a_fit():
    with pytest.raises(ValueError, match="no slot fitted"):
        GuiSlotTarget(np.ones(3, bool)).silhouettes()


# ---- tracks with the classical annotator ---------------------------------------------------


def test_the_classical_track_of_a_crafted_item_is_its_icon_box_on_the_frames_it_shows(window):
    frames, gui_open, prompt, box = window
    track = ClassicalAnnotator().annotate(frames, prompt, first_frame=40, target=GuiSlotTarget(gui_open))
    expected = np.zeros(frames.shape[:3], bool)
    expected[SHOWN] = box_mask(box)
    np.testing.assert_array_equal(track.mask, expected)
    np.testing.assert_array_equal(track.visible, SHOWN)
    assert track.frame_index.tolist() == list(range(40, 40 + len(frames)))
    assert track.attrs["target"] == {"kind": "gui_slot", "box": list(box)}


def test_without_the_slot_target_the_classical_track_misses_part_of_the_icon_box(window):
    # the flood fill from the prompt takes the one colour of the two-coloured icon under it
    # (IoU 0.65 with the box when written): the target is what gives the whole item
    frames, gui_open, prompt, box = window
    track = ClassicalAnnotator().annotate(frames, prompt)
    assert "target" not in track.attrs
    ious = [iou(track.mask[t], box_mask(box), empty=1.0) for t in np.flatnonzero(SHOWN)]
    assert max(ious) < 0.9, ious


# ---- static_target on a VPT dataset -----------------------------------------------------


@pytest.fixture(scope="module")
def crafting_vpt(tmp_path_factory) -> str:
    """A hand-written VPT segment whose GUI opens on line 3 (0-based 2) and stays open."""
    tmp = tmp_path_factory.mktemp("crafting")
    lines = [vpt_fixtures.make_line(t, isGuiOpen=t >= 2) for t in range(6)]
    vpt_fixtures.write_episode(tmp / "raw", lines=lines)
    source = get_format("vpt")
    out = str(tmp / "ds.zarr")
    report = ingest(out, source.discover(tmp / "raw"), source.read, "vpt")
    assert not report.failed, report.summary()["errors"]
    return out


def test_static_target_of_an_event_in_an_open_gui_is_its_slot_over_the_window(crafting_vpt):
    ds = open_dataset(crafting_vpt)
    episode = vpt_fixtures.STEM
    target = static_target(ds, {"kind": "craft_item", "gui_open": True, "episode_id": episode, "frame": 4}, 1)
    assert isinstance(target, GuiSlotTarget)
    assert target.gui_open.tolist() == [False, True, True, True]  # frames 1..4, the event frame included
    # with the GUI closed a crafting event has no static target (only mined blocks do)
    assert (
        static_target(ds, {"kind": "craft_item", "gui_open": False, "episode_id": episode, "frame": 4}, 1)
        is None
    )
