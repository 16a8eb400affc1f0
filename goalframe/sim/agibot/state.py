"""What the AgiBot world holds: table objects, the world state per frame, step events."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np


@dataclass
class TableObject:
    """One object on the table; ``position`` is its centre, ``yaw`` about z."""

    id: int
    shape: str  # "box" or "cylinder"
    kind: str  # cube, block, can, bottle
    color: str
    size: tuple[float, float, float]  # box: (x, y, z) extents; cylinder: (2r, 2r, height)
    position: np.ndarray
    yaw: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.color} {self.kind}"

    @property
    def height(self) -> float:
        return self.size[2]

    def width_across(self, yaw: float) -> float:
        """Extent (m) between two fingers that close along the gripper y axis at ``yaw``."""
        if self.shape == "cylinder":
            return self.size[0]
        a = yaw - self.yaw  # gripper y axis in the object frame: (sin a, -cos a)
        return abs(math.sin(a)) * self.size[0] + abs(math.cos(a)) * self.size[1]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.name,
            "shape": self.shape,
            "kind": self.kind,
            "color": self.color,
            "size_m": [round(float(s), 4) for s in self.size],
        }


@dataclass
class WorldState:
    """Everything that changes over time (a snapshot: :meth:`AgibotWorld.get_state`)."""

    frame: int
    ee: np.ndarray  # (2, 3) palm centres
    yaw: np.ndarray  # (2,)
    opening: np.ndarray  # (2,) mm
    command: np.ndarray  # (2,) last gripper command, 0 open 1 closed
    held: list[int | None]  # object id per arm
    hold_offset: np.ndarray  # (2, 3) object centre minus palm centre while held
    positions: np.ndarray  # (n, 3)
    yaws: np.ndarray  # (n,)

    def copy(self) -> WorldState:
        return replace(
            self,
            ee=self.ee.copy(),
            yaw=self.yaw.copy(),
            opening=self.opening.copy(),
            command=self.command.copy(),
            held=list(self.held),
            hold_offset=self.hold_offset.copy(),
            positions=self.positions.copy(),
            yaws=self.yaws.copy(),
        )


@dataclass
class StepEvent:
    kind: str  # "grasp" or "release"
    arm: str
    frame: int  # first frame whose state shows the change
    object_id: int
