"""The AgiBot world's numbers in one place: table, robot, camera and colour constants with units."""

from __future__ import annotations

import math

import numpy as np

HEIGHT, WIDTH, FPS = 480, 640, 30
DT = 1.0 / FPS
CAMERAS = ("head_color", "hand_left_color", "hand_right_color")
ARMS = ("left", "right")

TABLE_Z = 0.75
TABLE_X = (0.30, 1.10)
TABLE_Y = (-0.60, 0.60)
TABLE_ID = 100
ROBOT_BODY_ID = 200
ARM_IDS = (201, 211)
GRIPPER_IDS = (202, 212)
LABELS = {
    0: "background",
    TABLE_ID: "table",
    ROBOT_BODY_ID: "robot body",
    ARM_IDS[0]: "left arm",
    ARM_IDS[1]: "right arm",
    GRIPPER_IDS[0]: "left gripper",
    GRIPPER_IDS[1]: "right gripper",
}

# robot geometry (metres)
SHOULDERS = np.array([[0.08, 0.20, 1.22], [0.08, -0.20, 1.22]])
UPPER_ARM, FOREARM = 0.40, 0.40
WRIST_LEN = 0.13  # palm centre to the top of the wrist link
PALM_HALF = np.array([0.03, 0.05, 0.022])  # along gripper x, y (finger axis), z (approach)
FINGER_LEN, FINGER_THICK, FINGER_DEPTH = 0.065, 0.010, 0.020
TCP_DEPTH = PALM_HALF[2] + 0.6 * FINGER_LEN  # palm centre to the grasp point, along approach
# The recorded end pose is the flange (the wrist mounting plate), as on the real robot, where
# forward kinematics puts the grasp point 0.143 m further along the flange's z axis.
FLANGE_TO_GRASP = 0.143  # m, flange to the grasp point along the approach axis
FLANGE_TO_PALM = FLANGE_TO_GRASP - TCP_DEPTH  # m, flange to the palm centre along the approach axis
OPEN_MM, MAX_MM = 90.0, 120.0
GRIPPER_SPEED_MM = 600.0  # mm/s
EE_SPEED = 1.5  # m/s
YAW_SPEED = 4.0  # rad/s
HOME = np.array([[0.38, 0.28, 0.98], [0.38, -0.28, 0.98]])
WORKSPACE_LO = np.array([0.25, -0.55, TABLE_Z + 0.06])
WORKSPACE_HI = np.array([0.95, 0.55, 1.25])
HEAD_POSITION = np.array([0.12, 0.0, 1.46])  # head camera optical centre
HEAD_PITCH = 1.00  # rad, down from horizontal
WAIST = np.array([0.0, 0.30])  # waist pitch (rad), lift (m): constant here

# Real Genie-1 intrinsics at 640x480 have fx well below fy (head ~322 / ~429): pixels are not square.
HEAD_INTRINSIC = {"fx": 480.0, "fy": 600.0, "ppx": 320.0, "ppy": 240.0}
HAND_INTRINSIC = {"fx": 300.0, "fy": 380.0, "ppx": 320.0, "ppy": 240.0}
HAND_CAM_OFFSET = np.array([-0.06, 0.0, 0.0])  # in the gripper frame (x fwd, y fingers, z approach)
HAND_CAM_TILT = math.radians(30.0)  # optical axis tilted from the approach axis toward gripper x
NEAR = 0.02

COLORS = {
    "red": (205, 40, 40),
    "green": (40, 165, 65),
    "blue": (40, 85, 205),
    "yellow": (230, 200, 40),
    "orange": (240, 130, 30),
    "purple": (135, 60, 175),
    "cyan": (40, 180, 195),
}
SHAPES = ("cube", "block", "can", "bottle")
WALL_RGB = (198, 203, 210)
FLOOR_RGB = (92, 92, 98)
TABLE_RGB = (168, 128, 86)
BODY_RGB = (215, 217, 222)
ARM_RGB = (230, 232, 236)
GRIPPER_RGB = (62, 64, 70)
LIGHT = np.array([0.35, 0.25, 1.0]) / np.linalg.norm([0.35, 0.25, 1.0])
AMBIENT_SHADE, DIFFUSE_SHADE = 0.55, 0.45  # a face's brightness: ambient plus diffuse times cos(light)

# -- the table scene (AgibotWorld.reset): sizes drawn per object kind, (low, high) in metres
HEAD_PITCH_JITTER = 0.03  # rad, either way, drawn per episode
CUBE_SIDE = (0.045, 0.06)
BLOCK_LENGTH, BLOCK_WIDTH, BLOCK_HEIGHT = (0.08, 0.10), (0.04, 0.05), (0.045, 0.06)
CAN_DIAMETER, CAN_HEIGHT = (0.06, 0.07), (0.08, 0.10)
BOTTLE_DIAMETER, BOTTLE_HEIGHT = (0.045, 0.055), (0.12, 0.15)
BOX_YAW_MAX = 0.6  # rad, either way: boxes lie turned, cylinders need not
OBJECT_GAP = 0.12  # m, least distance between object centres, at the start and where one is placed
SPOT_X = (0.48, 0.70)  # m, the band of the table objects stand on
SPOT_Y = (-0.30, 0.30)  # m
SPOT_TRIES = 500  # draws per gap before a crowded table relaxes the gap
SPOT_GAP_RELAX = (0.85, 0.7, 0.55)  # the gap's fractions tried in turn on a crowded table

# -- grasping and releasing (AgibotWorld.step)
GRASP_RADIUS = 0.025  # m, grasp point to object centre (xy) within which closing fingers catch it
GRASP_CONTACT_MM = 1.0  # a finger touches this far outside the object's width
GRASP_CATCH_MM = 2.0  # and catches it when the opening passed within this of the contact in one step
GRASP_ABOVE_BOTTOM = 0.005  # m, the grasp point must be at least this above the object's bottom
STACK_OVERLAP = 0.8  # a released object rests on another closer than this share of their mean footprint

# -- robot body drawn in the scene (m): boxes as (centre, half extents)
FLOOR_HALF = 8.0  # m, half side of the floor square
TORSO_CENTER, TORSO_HALF = (-0.08, 0.0, 1.0), (0.09, 0.17, 0.30)
HEAD_BOX_CENTER, HEAD_BOX_HALF = (0.04, 0.0, 1.46), (0.07, 0.08, 0.08)
UPPER_ARM_THICK, FOREARM_THICK = 0.075, 0.055
WRIST_HALF_WIDTH = 0.028
ELBOW_HINT_BACK, ELBOW_HINT_DOWN = -0.2, -0.35  # the elbow bends outward, a little back and down

# -- the scripted episode (player.simulate_episode)
FIRST_TASK_ID = 351
FIRST_EPISODE_ID = 648642
EPISODE_ID_STEP = 17  # episode ids of a run are this far apart, as in a real release
EPISODES_PER_TASK = 4
TIMESTAMP_BASE_NS = 1_725_000_000_000_000_000
EPISODE_TIME_STEP_NS = 1_000_000_000_000  # an episode's clock starts this far after the previous id's
# fractions of frames_per_object spent in each phase, and each phase's minimum length (frames)
PHASES = (
    ("approach", 0.20, 6),
    ("descend", 0.13, 4),
    ("close", 0.09, 4),
    ("lift", 0.12, 4),
    ("move", 0.18, 5),
    ("lower", 0.12, 4),
    ("open", 0.06, 3),
    ("retreat", 0.10, 3),
)
MIN_FRAMES_PER_OBJECT = 36
# 14 s per pick-and-place: a pick and a place segment of about 7 s each, as real AgiBot
# segments last seconds (the card's example spans frames 8-218), so MSTH's horizons fit.
FRAMES_PER_OBJECT = 420
LEAD_FRAMES = 3  # frames recorded before the first move
ARM_SIDE_Y = 0.05  # m: an object beyond this on one side is taken by that side's arm, else by either
SIDE_OF_TABLE_Y = 0.08  # m: a place beyond this is "on the left/right side of the table"
GRASP_MIN_HALF_HEIGHT = 0.03  # m: a flat object is still grasped this high above the table
HOVER_ABOVE_GRASP, LIFT_ABOVE_GRASP = 0.10, 0.12  # m
PLACE_Y = ((-0.05, 0.30), (-0.30, 0.05))  # m, where the left and the right arm put objects down
PLACE_CLEARANCE = 0.004  # m, a placed object is let go this high above the table
RETREAT_RISE = 0.10  # m, the gripper rises this far after letting go
SETTLE_TOLERANCE = 0.003  # m, the gripper is at its target when this close
SETTLE_MAX_FRAMES = 12
CLOSE_EXTRA_FRAMES = 12  # frames the gripper may keep closing past the close phase
JOINT_CURRENT_NOISE = 0.002  # rad, std of the measured joint values around the positions

# -- the recorded files (recorder)
VIDEO_CRF = 20
SPARSE_ACTIONS_P = 0.15  # share of drawn episodes with actions at every 2nd frame only
COPIES_STATE_P = 0.3  # share whose joint and end actions copy the state (Beta)
CAMERA_FOLDER_ONLY_P = 0.25  # share with camera files in camera/ instead of parameters/camera/
EXTRINSICS_P = {"aligned": 0.7, "single": 0.2, "unaligned": 0.1}
COMMAND_SILENT_START = (2, 6)  # frames (numpy integers' low, high) before the operator's first command
COMMAND_SILENT_END = (3, 10)  # frames after the last
COMMAND_PAUSE_PARTS = 25  # the one pause in commanding lasts 1/25 of the episode (at least 2 frames)
DEXHAND_MAX_RAD = np.array([1.4, 1.5, 1.5, 1.5, 1.5, 1.1])  # per finger joint, fully closed
