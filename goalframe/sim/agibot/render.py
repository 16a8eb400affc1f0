"""Polygon scene building and clipping for the AgiBot cameras."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from goalframe.sim.agibot.constants import (
    AMBIENT_SHADE,
    DIFFUSE_SHADE,
    LIGHT,
)


@dataclass
class _Scene:
    verts: np.ndarray  # (F, M, 3)
    nverts: np.ndarray  # (F,)
    normals: np.ndarray  # (F, 3)
    prim: np.ndarray  # (F,)
    colors: np.ndarray  # (F, 3) uint8, shaded
    ids: np.ndarray  # (F,) uint16
    prim_center: np.ndarray  # (P, 3)
    prim_layer: np.ndarray  # (P,)


# ----------------------------------------------------------------------------- geometry

_BOX_FACES = np.array([[4, 6, 7, 5], [0, 1, 3, 2], [2, 3, 7, 6], [0, 4, 5, 1], [1, 5, 7, 3], [0, 2, 6, 4]])
_BOX_NORMALS = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], float)
_BOX_SIGNS = np.array([[(i >> 2) & 1, (i >> 1) & 1, i & 1] for i in range(8)], float) * 2 - 1
_CYL_K = 12
_MAXV = _CYL_K
_THETA = np.arange(_CYL_K) * 2 * np.pi / _CYL_K
_RING = np.stack([np.cos(_THETA), np.sin(_THETA)], 1)
_MID = np.stack([np.cos(_THETA + np.pi / _CYL_K), np.sin(_THETA + np.pi / _CYL_K)], 1)


def _pad(poly: np.ndarray) -> np.ndarray:
    out = np.empty((_MAXV, 3))
    out[: len(poly)] = poly
    out[len(poly) :] = poly[-1]
    return out


class _Builder:
    def __init__(self) -> None:
        self.verts: list[np.ndarray] = []
        self.nverts: list[int] = []
        self.normals: list[np.ndarray] = []
        self.prim: list[int] = []
        self.colors: list[np.ndarray] = []
        self.ids: list[int] = []
        self.centers: list[np.ndarray] = []
        self.layers: list[int] = []

    def _add(self, faces: np.ndarray, n: int, normals: np.ndarray, rgb, oid: int, center, layer: int) -> None:
        p = len(self.centers)
        self.centers.append(np.asarray(center, float))
        self.layers.append(layer)
        shade = AMBIENT_SHADE + DIFFUSE_SHADE * np.clip(normals @ LIGHT, 0.0, 1.0)
        cols = np.clip(np.asarray(rgb, float)[None] * shade[:, None], 0, 255).astype(np.uint8)
        for f in range(len(faces)):
            self.verts.append(faces[f])
            self.nverts.append(n if np.ndim(n) == 0 else int(n[f]))
            self.normals.append(normals[f])
            self.prim.append(p)
            self.colors.append(cols[f])
            self.ids.append(oid)

    def box(self, center, rot: np.ndarray, half, rgb, oid: int, layer: int = 2) -> None:
        center = np.asarray(center, float)
        corners = center + (_BOX_SIGNS * np.asarray(half, float)) @ rot.T
        faces = np.repeat(corners[_BOX_FACES][:, -1:, :], _MAXV, axis=1)
        faces[:, :4] = corners[_BOX_FACES]
        self._add(faces, 4, _BOX_NORMALS @ rot.T, rgb, oid, center, layer)

    def link(self, a, b, thick: float, rgb, oid: int) -> None:
        a, b = np.asarray(a, float), np.asarray(b, float)
        d = b - a
        length = float(np.linalg.norm(d))
        u = d / max(length, 1e-9)
        ref = np.array([0.0, 0.0, 1.0]) if abs(u[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
        v = np.cross(u, ref)
        v /= np.linalg.norm(v)
        w = np.cross(u, v)
        self.box((a + b) / 2, np.stack([u, v, w], 1), (length / 2, thick / 2, thick / 2), rgb, oid)

    def cylinder(self, center, radius: float, half_h: float, rgb, oid: int) -> None:
        center = np.asarray(center, float)
        ring = np.zeros((_CYL_K, 3))
        ring[:, :2] = _RING * radius
        bottom = center + ring - [0, 0, half_h]
        top = center + ring + [0, 0, half_h]
        nxt = np.roll(np.arange(_CYL_K), -1)
        sides = np.stack([bottom, bottom[nxt], top[nxt], top], 1)  # (K, 4, 3)
        faces = np.repeat(sides[:, -1:, :], _MAXV, axis=1)
        faces[:, :4] = sides
        faces = np.concatenate([faces, top[None], bottom[::-1][None]], 0)
        normals = np.concatenate(
            [np.concatenate([_MID, np.zeros((_CYL_K, 1))], 1), [[0, 0, 1.0]], [[0, 0, -1.0]]]
        )
        n = np.array([4] * _CYL_K + [_CYL_K, _CYL_K])
        self._add(faces, n, normals, rgb, oid, center, 2)

    def quad(self, corners, normal, rgb, oid: int, layer: int) -> None:
        corners = np.asarray(corners, float)
        self._add(np.array([_pad(corners)]), 4, np.asarray([normal], float), rgb, oid, corners.mean(0), layer)

    def build(self) -> _Scene:
        return _Scene(
            verts=np.array(self.verts),
            nverts=np.array(self.nverts),
            normals=np.array(self.normals),
            prim=np.array(self.prim),
            colors=np.array(self.colors, np.uint8),
            ids=np.array(self.ids, np.uint16),
            prim_center=np.array(self.centers),
            prim_layer=np.array(self.layers),
        )


def _clip_near(poly: np.ndarray, near: float) -> np.ndarray:
    out = []
    n = len(poly)
    for i in range(n):
        a, b = poly[i], poly[(i + 1) % n]
        ina, inb = a[2] >= near, b[2] >= near
        if ina:
            out.append(a)
        if ina != inb:
            s = (near - a[2]) / (b[2] - a[2])
            out.append(a + s * (b - a))
    return np.array(out) if out else np.zeros((0, 3))
