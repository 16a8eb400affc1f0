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
