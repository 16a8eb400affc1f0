"""The VPT world's numbers in one place: frame, window, camera, player and GUI sizes with their units."""

from __future__ import annotations

import math

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
