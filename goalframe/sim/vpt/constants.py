"""The VPT world's numbers in one place: frame, window, camera, player and GUI sizes with their units."""

from __future__ import annotations

import math

import numpy as np

# degrees of camera per mouse pixel: VPT's own figure, defined once with the action conversion
from goalframe.sources.vpt_actions import CAMERA_SCALER as CAMERA_SCALER

WIDTH, HEIGHT = 640, 360
LOW_W, LOW_H = 320, 180
FPS = 20
WINDOW_W, WINDOW_H = 1280, 720
GUI_SCALE = 2  # window pixels per GUI pixel; the 640x360 frame is the GUI-pixel canvas
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

# -- player movement (physics.PlayerPhysics), per 50 ms tick as the game's
WALK_SPEED_BLOCKS_PER_TICK = 0.2158
SPRINT_SPEED_BLOCKS_PER_TICK = 0.2806
SNEAK_SPEED_FACTOR = 0.3
GROUND_VELOCITY_KEPT, GROUND_INPUT_TAKEN = 0.546, 0.454  # per tick on the ground: momentum vs keys
AIR_VELOCITY_KEPT, AIR_INPUT_TAKEN = 0.91, 0.09  # in the air
MIN_SPEED_BLOCKS_PER_TICK = 1e-3  # slower horizontal speed stops
JUMP_SPEED_BLOCKS_PER_TICK = 0.42
GRAVITY_BLOCKS_PER_TICK2 = 0.08
AIR_DRAG = 0.98  # vertical speed kept per tick

# -- playing (VptWorld)
SWING_TICKS = 6  # an arm swing lasts this long (drawn by the renderer)
MINE_COOLDOWN_TICKS = 5  # after breaking a block, before mining the next
USE_COOLDOWN_TICKS = 4  # between repeated uses while the button is held
EAT_TICKS = 32  # use held this long eats the selected food
HURT_TICKS = 10  # a hit mob cannot be hit again (and shows red) this long
DAMAGE_STAT_PER_POINT = 10  # damage_dealt counts tenths of a health point
KNOCKBACK_BLOCKS = 0.25
PANIC_TICKS = 40  # a hit animal runs this long
BUILD_HEIGHT = 20  # blocks above the ground a block may be placed
MOB_RAY_RANGE = 7  # blocks: mobs further than this are not ray-tested by the crosshair

# -- mobs (VptWorld._update_mobs)
ZOMBIE_CHASE_BLOCKS = 14  # a zombie closer than this walks at the player
ZOMBIE_STOP_BLOCKS = 1.4  # and stops this close
PANIC_SPEED_FACTOR = 2.0
PANIC_TURN_P = 0.05  # per tick, a panicking mob picks a new way away
PANIC_TURN_DEG = 40  # either way from straight away
IDLE_AFTER_IDLE_P = 0.4  # an idle mob stays idle at the end of its state with this chance
IDLE_TICKS, WALK_TICKS = (30, 120), (15, 60)  # how long a mob idles and walks (random.randint bounds)
WANDER_TURN_DEG = 120  # either way, when a mob starts walking
MOB_PLAYER_GAP = 0.7  # blocks, a mob does not walk closer to the player than this
MOB_HALF = 0.45  # blocks, half the footprint a mob needs free

# -- drawing (render.WorldRenderer)
CRACK_DARKEN = 0.45  # a block being mined darkens by this share of its progress
DUG_GROUND_SHADE = 0.55  # a dug ground cell is drawn this much darker than the surface

# -- recording variants (episode_layout)
VERSION = "6.13"  # the recorder version: the folder the recordings are written to
# (window, framebuffer) sizes in pixels, cycled over the episodes: usual, bigger, a 2x display
WINDOW_LAYOUTS = (((1280, 720), (1280, 720)), ((1920, 1080), (1920, 1080)), ((1280, 720), (2560, 1440)))
PAUSE_MS_RANGE = (2_000, 20_000)  # how long a generated pause lasts, ms
PAUSE_SPAN = (0.3, 0.8)  # where in the episode it falls (fraction of the frames)
COUNTER_RESET_SPAN = (0.2, 0.4)  # where a counter vanishes (fraction of the frames)

# -- the scripted player (player.ScriptedPlayer): distances in blocks, angles in degrees
AIM_GAIN = 0.45  # share of the angle error turned per tick
AIM_MAX_DEG_PER_TICK = 10.0
AIM_NOISE_DEG = 0.2  # std of the hand's jitter on yaw (pitch: 0.6 of it) while far off target
AIM_STEADY_DEG = 2.0  # no jitter once this close to the target
AIM_TOLERANCE_DEG = 2.0  # aiming stops this close
AIM_MAX_TICKS = 40
WALK_MAX_TICKS = 160
WALK_FACING_DEG = 40  # walks forward only while facing the goal this well
SPRINT_FROM_BLOCKS = 7  # sprints while further than this from the goal
SPRINT_P = 0.9
BLOCKED_MOVE_BLOCKS = 0.03  # moving less than this in a tick with forward held counts as blocked
JUMP_BLOCKED_TICKS, STRAFE_BLOCKED_TICKS, GIVE_UP_BLOCKED_TICKS = 3, 10, 8
STRAFE_TICKS = (6, 14)
SCROLL_SELECT_P = 0.4  # selects a hotbar slot with the scroll wheel, else with its number key
MOB_SEARCH_BLOCKS = 22.0
LOG_SEARCH_BLOCKS = 40.0
STONE_SEARCH_BLOCKS = 30.0
STONE_DETOUR_BLOCKS = 3.0  # plain stone counts this much further away than ore
REPEAT_WEIGHT = 0.3  # a behaviour just done is this much less likely next
BEHAVIOUR_WEIGHTS = {
    "wander": 0.6,
    "dig": 1.0,
    "chop": 3.0,
    "hunt_near": 4.0,  # a mob closer than HUNT_NEAR_BLOCKS
    "hunt": 2.5,
    "craft": 3.0,
    "place": 2.0,
    "table": 6.0,
    "ore": 2.5,
    "eat": 0.5,
    "drop": 0.25,
}
HUNT_NEAR_BLOCKS = 10
MINE_MAX_TICKS = 200
MINE_ATTACK_DEG = 5.0  # holds attack while the aim is within this
LET_GO_P = 0.01  # per tick of mining, a human lets go of the button for a moment
WORK_REACH_BLOCKS = 4.0  # gives up on a tree or stone it could not walk this close to
CHOP_STOP_BLOCKS, ORE_STOP_BLOCKS, TABLE_STOP_BLOCKS = 2.2, 2.3, 2.5
ORE_REACH_BLOCKS = 3.8
TABLE_SEARCH_BLOCKS = 10
HUNT_MAX_TICKS = 300
HUNT_STOP_BLOCKS = 2.0  # walks at a mob while further than this
HUNT_SPRINT_BLOCKS = 5
ATTACK_COOLDOWN_TICKS = (5, 9)  # random.randint bounds between two hits
EAT_HOLD_TICKS = 34  # holds use a little longer than EAT_TICKS
CURSOR_MAX_TICKS = 40
CURSOR_TOLERANCE_PX = 1.5  # window pixels
CURSOR_JUMP_PX = 8  # closer than this the cursor moves straight there
CLICK_JITTER_PX = 5  # clicks land up to this far from a slot's centre, either way

# -- the jsonl recorder (recorder._Recorder)
MS_PER_TICK = 50  # milli grows this much per tick, plus jitter
TICK_JITTER_MS = 3  # either way
SERVER_TICK_STALL_P = 0.01  # the server tick stays put on a line with this chance
SERVER_TICK_DOUBLE_P = 0.01  # or moves by two with this one
SERVER_TICK_MS = (1.2, 9.5)  # serverTickDurationMs range
RECORDING_DAYS = 200  # recordings start within this many days of 2021-12-01

# -- terrain (terrain.py): distances and sizes in blocks (cells)
GROUND_NOISE_CELLS = (7, 10, 12)  # coarse noise grids upsampled to the region: sand, gravel, stone/dirt
SAND_BELOW, GRAVEL_ABOVE, STONE_ABOVE = 0.16, 0.9, 0.86  # noise thresholds of each surface
DIRT_BELOW, DIRT_SAND_NOISE_ABOVE = 0.1, 0.5
SPAWN_CLEAR = 2  # the cells this far around the spawn stay grass
TREES = 13
TREE_TRIES = 500
FIRST_TREE_BLOCKS = 6  # one tree stands this far from the spawn, so every episode can chop
TREE_EDGE_CELLS = 4  # trees keep this far from the region's edge
TREE_SPAWN_GAP, TREE_GAP = 4, 6  # least Manhattan distance to the spawn and between trees
TREE_HEIGHT = (4, 6)  # logs (random.randint bounds)
BOULDERS = 3  # besides the one near the spawn
FIRST_BOULDER_BLOCKS = 9
BOULDER_EDGE_CELLS = 6
BOULDER_CELLS = (4, 8)
TALL_BOULDER_P = 0.4  # a boulder column two blocks high
COAL_P, IRON_P = 0.3, 0.12  # a boulder block's ore chances (else stone)
ANIMALS = (5, 8)  # pigs and cows (random.randint bounds)
MOB_TRIES = 300
NEAR_ANIMALS = 2  # the first ones stand within NEAR_ANIMAL_BLOCKS, the rest within FAR_ANIMAL_BLOCKS
NEAR_ANIMAL_BLOCKS, FAR_ANIMAL_BLOCKS = (4.0, 16.0), (5.0, 24.0)
ZOMBIE_P = 0.35  # a zombie in the episode
ZOMBIE_TRIES = 50
ZOMBIE_BLOCKS = 16  # from the spawn
MOB_START_TICKS = (5, 60)  # a mob's first state lasts this long (random.randint bounds)
