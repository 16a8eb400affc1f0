"""The flat per-frame vectors that policies train on, with a name for every column.

AgiBot's 20-dim state and 22-dim action follow LeRobot's AgiBot port
(``examples/port_datasets/agibot_hdf5/port_agibot.py``): head 2, left arm joints 7, left
gripper, right arm joints 7, right gripper, waist 2 (the action adds the base velocity 2).
OpenDriveLab's converter orders the same columns differently (joints 14, grippers 2, head
2, waist 2), so every consumer should read the order from :data:`AGIBOT_STATE_NAMES` /
:data:`AGIBOT_ACTION_NAMES` rather than assume it.

The layout is defined for the parallel gripper (one opening per arm, mm in the state and
0 open .. 1 closed in the action). Dexterous-hand episodes (six joint angles per hand)
have no column for it: :func:`require_gripper` refuses them with one line.
"""

from __future__ import annotations

ARMS = ("left", "right")

# (array, first column, last column exclusive, names of those columns)
AGIBOT_STATE_LAYOUT: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("states/head/position", 0, 2, ("head.yaw", "head.pitch")),
    ("states/joint/position", 0, 7, tuple(f"left_arm.joint{i}" for i in range(1, 8))),
    ("states/effector/position", 0, 1, ("left_gripper.opening",)),
    ("states/joint/position", 7, 14, tuple(f"right_arm.joint{i}" for i in range(1, 8))),
    ("states/effector/position", 1, 2, ("right_gripper.opening",)),
    ("states/waist/position", 0, 2, ("waist.pitch", "waist.lift")),
)
AGIBOT_ACTION_LAYOUT = tuple(
    (name.replace("states/", "actions/", 1), first, last, names)
    for name, first, last, names in AGIBOT_STATE_LAYOUT
) + (("actions/robot/velocity", 0, 2, ("base.velocity_x", "base.velocity_yaw")),)

AGIBOT_STATE_NAMES = tuple(n for *_, names in AGIBOT_STATE_LAYOUT for n in names)
AGIBOT_ACTION_NAMES = tuple(
    n.replace(".opening", ".command") for *_, names in AGIBOT_ACTION_LAYOUT for n in names
)

VECTOR_UNITS = {
    "head": "rad",
    "arm joints": "rad",
    "gripper opening (state)": "mm",
    "gripper command (action)": "0 open .. 1 closed",
    "waist": "pitch rad, lift m",
    "base velocity": "as recorded in action/robot/velocity",
}


class VectorLayoutError(ValueError):
    """An episode whose arrays do not fit a vector layout; ``str()`` is one line."""


def require_gripper(episode: str, effector: dict | None) -> None:
    """Refuse a dexterous-hand episode for the gripper layout, naming the episode."""
    if isinstance(effector, dict) and effector.get("type") == "dexhand":
        raise VectorLayoutError(
            f"{episode}: a dexterous-hand episode (state/effector/position holds "
            f"{effector.get('width', 12)} joint angles); the 20/22-dim LeRobot vectors are defined "
            "for the parallel gripper only"
        )


def vector_metadata() -> dict:
    """What the columns of AgiBot's state and action vectors are, for metadata records."""
    return {
        "order": "LeRobot port_agibot.py",
        "state": list(AGIBOT_STATE_NAMES),
        "action": list(AGIBOT_ACTION_NAMES),
        "units": dict(VECTOR_UNITS),
    }


__all__ = [
    "AGIBOT_ACTION_LAYOUT",
    "AGIBOT_ACTION_NAMES",
    "AGIBOT_STATE_LAYOUT",
    "AGIBOT_STATE_NAMES",
    "VectorLayoutError",
    "require_gripper",
    "vector_metadata",
]
