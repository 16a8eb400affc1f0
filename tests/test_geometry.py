"""Scene geometry for mask tracking: camera conventions against the synthetic renderer,
grid traversal, near-plane clipping, and the VPT camera path read from a dataset."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import simple_source
import vpt_fixtures

from goalframe.annotators.geometry import (
    CameraPath,
    UnitCellTarget,
    box_silhouette,
    cells_on_ray,
    front_faces,
    yaw_pitch_rotation,
)
from goalframe.annotators.vpt_targets import (
    EYE_HEIGHT,
    EYE_HEIGHT_SNEAKING,
    SNEAK_KEY,
    AppearsAtEvent,
    fov_degrees,
    static_target,
    vpt_camera_path,
)
from goalframe.media.images import iou as media_iou
from goalframe.sim.vpt import geometry
from goalframe.sim.vpt.constants import FOV_Y, HEIGHT, WIDTH
from goalframe.sim.vpt.geometry import look_angles
from goalframe.sim.vpt.world import VptWorld
from goalframe.sources.registry import get_format
from goalframe.storage import ingest, open_dataset

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
import masks as bench  # noqa: E402


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return media_iou(a, b, empty=1.0)


def game_camera(world: VptWorld) -> CameraPath:
    """The renderer's current pose as a one-frame path, the way a VPT recording states it."""
    focal = (HEIGHT / 2) / math.tan(math.radians(FOV_Y / 2))
    return CameraPath(
        world.eye[None],
        yaw_pitch_rotation(world.yaw, world.pitch)[None],
        focal,
        (WIDTH / 2, HEIGHT / 2),
        (HEIGHT, WIDTH),
    )


def raycast_box(path: CameraPath, t: int, low, high) -> np.ndarray:
    """(H, W) bool: pixels whose ray (through the pixel centre) hits the box in front of the
    eye, by a slab test built from the path's fields alone (not from its projection code)."""
    height, width = path.size
    rows, cols = np.mgrid[0:height, 0:width] + 0.5
    camera = np.stack(
        [(cols - path.centre[0]) / path.focal, (rows - path.centre[1]) / path.focal, np.ones_like(rows)], -1
    )
    direction = camera @ path.rotation[t]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (np.asarray(low, float) - path.eye[t]) / direction
        b = (np.asarray(high, float) - path.eye[t]) / direction
    # a zero direction component: the slab holds the ray everywhere or nowhere
    inside = (path.eye[t] >= low) & (path.eye[t] <= high)
    near = np.where(direction == 0, np.where(inside, -np.inf, np.inf), np.minimum(a, b)).max(-1)
    far = np.where(direction == 0, np.where(inside, np.inf, -np.inf), np.maximum(a, b)).min(-1)
    return (near <= far) & (far > 0)


def settled(mask: np.ndarray) -> np.ndarray:
    """Pixels whose 3x3 neighbourhood agrees: a one-pixel rim may go either way."""
    padded = np.pad(mask, 1, mode="edge")
    views = [
        padded[1 + dr : 1 + dr + mask.shape[0], 1 + dc : 1 + dc + mask.shape[1]]
        for dr in (-1, 0, 1)
        for dc in (-1, 0, 1)
    ]
    return np.logical_and.reduce(views) | ~np.logical_or.reduce(views)


# ---- camera conventions against the renderer --------------------------------------


@pytest.fixture(scope="module")
def aimed_world() -> tuple[VptWorld, int, tuple[int, int, int]]:
    """A world turned until the crosshair is on a block, with every other block and mob
    removed so the renderer shows the block whole (its silhouette is then all of it)."""
    world = VptWorld()
    for seed in range(20):
        world.reset(seed)
        for pitch in (30.0, 15.0, 5.0):
            for yaw in np.arange(-180.0, 180.0, 3.0):
                world.yaw, world.pitch = float(yaw), pitch
                target = world.target()
                if target is not None and target.kind == "block":
                    world.blocks = {target.pos: world.blocks[target.pos]}
                    world.mobs, world.dying = [], []
                    world.renderer.invalidate()  # the renderer caches block faces
                    return world, target.object_id, target.pos
    pytest.fail("no block within reach on any seed")


def test_block_silhouette_matches_the_rendered_block(aimed_world):
    world, object_id, pos = aimed_world
    _, ids = world.render()
    rendered = ids == object_id
    assert rendered.any()
    path = game_camera(world)
    cell = np.array(pos, float)
    silhouette = box_silhouette(path, 0, cell, cell + 1)
    assert iou(silhouette, rendered) >= 0.95
    faces = front_faces(path, 0, cell)
    assert iou(np.logical_or.reduce(list(faces.values())), rendered) >= 0.95


def test_projection_follows_the_pose_after_a_turn(aimed_world):
    world, object_id, pos = aimed_world
    path_before = game_camera(world)
    world.step({"camera": [2.0, 4.0]})  # pitch, yaw degrees
    _, ids = world.render()
    rendered = ids == object_id
    cell = np.array(pos, float)
    assert iou(box_silhouette(game_camera(world), 0, cell, cell + 1), rendered) >= 0.95
    # the block moved on screen: the earlier pose no longer fits as well
    assert iou(box_silhouette(path_before, 0, cell, cell + 1), rendered) < 0.9


def test_yaw_pitch_rotation_matches_the_renderers_look_angles():
    rng = np.random.default_rng(0)
    for yaw, pitch in zip(rng.uniform(-180, 180, 20), rng.uniform(-89, 89, 20), strict=True):
        forward = yaw_pitch_rotation(yaw, pitch)[2]
        looked = look_angles(np.zeros(3), forward)
        assert looked[0] == pytest.approx((yaw + 180) % 360 - 180, abs=1e-6)
        assert looked[1] == pytest.approx(pitch, abs=1e-6)
        f, r, u = geometry.camera_basis(yaw, pitch)
        np.testing.assert_allclose(yaw_pitch_rotation(yaw, pitch), np.stack([r, -u, f]), atol=1e-12)


# ---- yaw_pitch_rotation ------------------------------------------------------------


# yaw 0 faces south (+z), 90 west (-x), -90 east, 180 north; pitch 90 looks straight down
TURNS = [
    (0, 0, (0, 0, 1)),
    (90, 0, (-1, 0, 0)),
    (-90, 0, (1, 0, 0)),
    (180, 0, (0, 0, -1)),
    (0, 90, (0, -1, 0)),
    (0, -90, (0, 1, 0)),
]


@pytest.mark.parametrize(("yaw", "pitch", "forward"), TURNS)
def test_yaw_and_pitch_turn_the_view_the_minecraft_way(yaw, pitch, forward):
    np.testing.assert_allclose(yaw_pitch_rotation(yaw, pitch)[2], forward, atol=1e-12)


@pytest.mark.parametrize(("yaw", "pitch"), [(0, 0), (37, -12), (-150, 60), (90, 90)])
def test_rotation_rows_are_a_right_handed_orthonormal_frame_with_down_pointing_down(yaw, pitch):
    right, down, forward = rotation = yaw_pitch_rotation(yaw, pitch)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(np.cross(right, down), forward, atol=1e-12)
    assert right[1] == pytest.approx(0.0, abs=1e-12)  # no roll
    assert down[1] <= 1e-12  # image rows grow downward in the world


# ---- cells_on_ray ------------------------------------------------------------------


def segment_meets_cell(origin, direction, reach, cell) -> bool:
    near, far = 0.0, reach
    for o, d, c in zip(origin, direction, cell, strict=True):
        if d == 0:
            if not c <= o <= c + 1:
                return False
            continue
        a, b = sorted(((c - o) / d, (c + 1 - o) / d))
        near, far = max(near, a), min(far, b)
    return near <= far


RAYS = [
    ((0.3, 64.7, -2.2), (0.6, -0.3, 0.74)),
    ((5.5, 1.25, 3.9), (-0.8, -0.5, -0.33)),  # every component negative
    ((-1.5, 2.5, 0.5), (1.0, 0.0, 0.0)),  # axis-aligned
    ((2.0, 0.5, 7.0), (-1.0, 0.0, -1.0)),  # starts on cell boundaries, going down them
    ((0.1, 0.2, 0.3), (0.0, 2.0, 0.0)),  # not unit length: reach counts in ray parameter
]


@pytest.mark.parametrize(("origin", "direction"), RAYS)
def test_cells_on_ray_walk_face_neighbours_from_the_origin_cell(origin, direction):
    cells = np.array(cells_on_ray(np.array(origin), np.array(direction), 5.0))
    np.testing.assert_array_equal(cells[0], np.floor(origin))
    steps = np.abs(np.diff(cells, axis=0))
    assert (steps.sum(1) == 1).all() and (steps.max(1) == 1).all()
    assert len({tuple(c) for c in cells}) == len(cells)


@pytest.mark.parametrize(("origin", "direction"), RAYS)
def test_cells_on_ray_cover_the_ray_up_to_reach_and_no_more(origin, direction):
    origin, direction, reach = np.array(origin), np.array(direction), 5.0
    cells = {tuple(c) for c in cells_on_ray(origin, direction, reach)}
    for s in np.linspace(0, reach, 4001)[:-1]:
        assert tuple(np.floor(origin + s * direction)) in cells, s
    assert all(segment_meets_cell(origin, direction, reach, c) for c in cells)


# ---- box_silhouette ----------------------------------------------------------------


def forward_camera(eye=(0.0, 0.0, 0.0), yaw=0.0, pitch=0.0, size=(90, 160)) -> CameraPath:
    focal = (size[0] / 2) / math.tan(math.radians(35))
    return CameraPath(
        np.array([eye], float), yaw_pitch_rotation(yaw, pitch)[None], focal, (size[1] / 2, size[0] / 2), size
    )


def test_silhouette_of_a_box_in_front_is_the_raycast_region():
    path = forward_camera(yaw=20, pitch=10)
    low, high = np.array([-1.0, -1.5, 2.0]), np.array([0.5, 0.2, 3.5])
    mask, truth = box_silhouette(path, 0, low, high), raycast_box(path, 0, low, high)
    assert truth.any() and not truth.all()
    sure = settled(truth)
    np.testing.assert_array_equal(mask[sure], truth[sure])


def test_box_beside_and_behind_the_camera_is_clipped_at_the_near_plane():
    # the box reaches behind the camera and is 0.2 to its left (yaw 0: right is -x, so +x is left)
    path = forward_camera()
    low, high = np.array([0.2, -1.0, -1.0]), np.array([3.0, 1.0, 2.0])
    mask, truth = box_silhouette(path, 0, low, high), raycast_box(path, 0, low, high)
    assert mask[:, : path.size[1] // 2 - 2].any()
    assert not mask[:, path.size[1] // 2 :].any()
    sure = settled(truth)
    np.testing.assert_array_equal(mask[sure], truth[sure])


def test_camera_inside_a_box_sees_it_everywhere():
    mask = box_silhouette(forward_camera(eye=(0.5, 0.5, 0.5), yaw=30, pitch=-20), 0, np.zeros(3), np.ones(3))
    assert mask.all()


def test_box_wholly_behind_the_camera_projects_to_nothing():
    path = forward_camera()
    assert not box_silhouette(path, 0, np.array([-1.0, -1.0, -3.0]), np.array([1.0, 1.0, -1.0])).any()
    assert not front_faces(path, 0, np.array([0.0, 0.0, -3.0]))


def test_front_faces_are_those_whose_outside_holds_the_eye():
    eye = np.array([0.5, 2.5, -1.5])  # above the cell and in front of its z = 0 face
    path = forward_camera(eye=eye, yaw=(angles := look_angles(eye, (0.5, 0.5, 0.5)))[0], pitch=angles[1])
    faces = front_faces(path, 0, np.zeros(3))
    assert set(faces) == {3, 4}  # y = 1 (top) and z = 0
    union = np.logical_or.reduce(list(faces.values()))
    sure = settled(raycast_box(path, 0, np.zeros(3), np.ones(3)))
    np.testing.assert_array_equal(union[sure], raycast_box(path, 0, np.zeros(3), np.ones(3))[sure])


# ---- fov_degrees -------------------------------------------------------------------


FOVS = [
    ({"fov": "0.0"}, 70.0),
    ({"fov": "1.0"}, 110.0),
    ({"fov": "-0.25"}, 60.0),
    ({"fov": 0.5}, 90.0),
    ({}, 70.0),
    (None, 70.0),
    ({"fov": "wide"}, 70.0),
    ({"fov": None}, 70.0),
    ({"fov": [1]}, 70.0),
]


@pytest.mark.parametrize(("options", "fov"), FOVS)
def test_fov_reads_minecraft_options_and_falls_back_to_70(options, fov):
    assert fov_degrees(options) == pytest.approx(fov)


# ---- the camera path of a dataset --------------------------------------------------


@pytest.fixture(scope="module")
def simple_dataset(tmp_path_factory) -> str:
    return simple_source.ingested_episode(tmp_path_factory.mktemp("simple"), 8)


def test_non_vpt_datasets_have_no_camera_path(simple_dataset):
    ds = open_dataset(simple_dataset)
    assert vpt_camera_path(ds, "ep0", 0, 8) is None
    assert static_target(ds, {"kind": "mine_block", "episode_id": "ep0", "frame": 5}, 0) is None


@pytest.fixture(scope="module")
def sneaky_vpt(tmp_path_factory) -> tuple[str, list[dict]]:
    """A hand-written VPT segment that sneaks on some lines, with a 110 degree fov."""
    tmp = tmp_path_factory.mktemp("sneaky")
    lines = [
        vpt_fixtures.make_line(
            t,
            keyboard={"keys": [SNEAK_KEY] if t in (2, 3) else []},
            pitch=-10.0 + 7 * t,
            ypos=63.0 + 0.25 * t,
        )
        for t in range(6)
    ]
    episode = vpt_fixtures.write_episode(tmp / "raw", lines=lines)
    episode.options.write_text(json.dumps({"fov": "1.0"}))
    source = get_format("vpt")
    out = str(tmp / "ds.zarr")
    report = ingest(out, source.discover(tmp / "raw"), source.read, "vpt")
    assert not report.failed, report.summary()["errors"]
    return out, episode.lines


def test_vpt_camera_path_puts_the_eye_above_the_feet_lower_when_sneaking(sneaky_vpt):
    dataset, lines = sneaky_vpt
    ds = open_dataset(dataset)
    path = vpt_camera_path(ds, vpt_fixtures.STEM, 1, 5)
    assert len(path) == 4
    for t, line in enumerate(lines[1:5]):
        height = EYE_HEIGHT_SNEAKING if SNEAK_KEY in line["keyboard"]["keys"] else EYE_HEIGHT
        np.testing.assert_allclose(path.eye[t], (line["xpos"], line["ypos"] + height, line["zpos"]))
        np.testing.assert_allclose(path.rotation[t], yaw_pitch_rotation(line["yaw"], line["pitch"]))
    height, width = vpt_fixtures.FRAME_SIZE
    assert path.size == (height, width) and path.centre == (width / 2, height / 2)
    assert path.focal == pytest.approx((height / 2) / math.tan(math.radians(55)))  # fov "1.0": 110 degrees


def test_static_targets_are_mined_blocks_and_placed_blocks_only(sneaky_vpt):
    dataset, _ = sneaky_vpt
    ds = open_dataset(dataset)
    episode = vpt_fixtures.STEM
    assert (
        static_target(ds, {"kind": "kill_entity", "episode_id": episode, "frame": 4}, 0) is None
    )  # mobs move
    target = static_target(ds, {"kind": "mine_block", "episode_id": episode, "frame": 4}, 1)
    assert (
        isinstance(target, UnitCellTarget) and len(target.path) == 4
    )  # frames 1..4, the event frame included
    placed = static_target(ds, {"kind": "use_item", "episode_id": episode, "frame": 4}, 1)
    frames = ds.read_frames(episode, 1, 5)
    assert isinstance(placed, AppearsAtEvent) and placed.fit(
        frames, np.ones(frames.shape[1:3], bool), (10.0, 10.0)
    )
    assert (
        placed.exact and not placed.silhouettes().any()
    )  # not there before the event; the event frame keeps its own mask


@pytest.fixture(scope="module")
def mined_vpt(tmp_path_factory):
    """A generated VPT episode (seed 2, 160 frames: about 4 s) whose player mines an ore block."""
    raw, dataset = bench.build("vpt", tmp_path_factory.mktemp("vpt"), 1, 2, frames=160)
    truth = bench.Truth(raw, "vpt")
    mined = [
        (row, object_id)
        for row, object_id, _ in bench.scorable_events(dataset, truth)
        if row["kind"] == "mine_block"
    ]
    assert mined, "the generated episode has no mine_block event"
    return dataset, truth, mined[0]


def test_recorded_pose_gives_the_eye_of_every_frame(mined_vpt):
    dataset, truth, (row, _) = mined_vpt
    ds, episode = open_dataset(dataset), row["episode_id"]
    stop = row["frame"] + 1
    path = vpt_camera_path(ds, episode, 0, stop)
    states = {
        name: np.asarray(ds.zarr_array(episode, f"states/{name}")[:stop], float)
        for name in ("xpos", "ypos", "zpos")
    }
    sneaking = np.array([SNEAK_KEY in keys for keys in truth.record(episode)["keys"][:stop]])
    expected_y = states["ypos"] + np.where(sneaking, EYE_HEIGHT_SNEAKING, EYE_HEIGHT)
    np.testing.assert_allclose(path.eye, np.stack([states["xpos"], expected_y, states["zpos"]], 1))


def mined_window(mined_vpt, window: int):
    """The static target, frames and true masks of the window of frames ending on the mining event."""
    dataset, truth, (row, object_id) = mined_vpt
    ds, episode, event = open_dataset(dataset), row["episode_id"], row["frame"]
    start = max(0, event + 1 - window)
    frames = ds.read_frames(episode, start, event + 1, row["camera"])
    true_masks = truth.masks(episode, row["camera"], start, event + 1, object_id)
    return static_target(ds, row, start), frames, true_masks, (row["prompt_row"], row["prompt_col"])


def test_mined_block_is_found_from_the_frames_before_the_event(mined_vpt):
    target, frames, true_masks, prompt = mined_window(mined_vpt, 8)
    # no event mask: the cell must come from the edges of the frames before the event
    assert target.fit(frames, np.zeros(frames.shape[1:3], bool), prompt)
    assert target.method == "edges"
    silhouettes = target.silhouettes()
    assert silhouettes.shape == true_masks.shape
    # the frame before the event: the block still stands and the player looks at it
    assert iou(silhouettes[-2], true_masks[-2]) >= 0.9


def test_mined_block_projects_onto_the_true_block_while_the_player_walks_up(mined_vpt):
    target, frames, true_masks, prompt = mined_window(mined_vpt, 64)
    assert target.fit(frames, true_masks[-1], prompt)
    assert (
        np.linalg.norm(target.path.eye[-1] - target.path.eye[0]) > 1.0
    )  # the camera moved: a real test of the poses
    shown = [t for t in range(len(true_masks)) if np.count_nonzero(true_masks[t]) > 50]
    assert len(shown) > 20
    for t in shown:  # what shows of the block lies inside its projection, on every frame
        silhouette = box_silhouette(target.path, t, target.cell, target.cell + 1)
        assert np.count_nonzero(true_masks[t] & silhouette) >= 0.9 * np.count_nonzero(true_masks[t]), t


def test_mined_block_falls_back_to_the_event_mask_when_no_edges_align(mined_vpt):
    target, frames, true_masks, prompt = mined_window(mined_vpt, 8)
    edges_only = UnitCellTarget(target.path)
    assert edges_only.fit(frames, true_masks[-1], prompt)
    by_mask = UnitCellTarget(target.path, min_alignment=2.0)  # alignment never exceeds 1
    assert by_mask.fit(frames, true_masks[-1], prompt)
    assert by_mask.method == "mask"
    np.testing.assert_array_equal(by_mask.cell, edges_only.cell)
    assert not UnitCellTarget(target.path, min_alignment=2.0).fit(
        frames, np.zeros_like(true_masks[-1]), prompt
    )
