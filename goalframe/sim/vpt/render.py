"""Drawing a VptWorld: the low-resolution ray-cast ground, block and mob faces, the hand,
the HUD hotbar and the GUI screens, each pixel with the id of the object it shows.

The renderer keeps only drawing caches (face arrays, HUD and panel images); everything it
draws it reads from the world it was given."""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from goalframe.sim.vpt.art import (
    _CURSOR,
    _ICONS,
    _TEXTURES,
    _draw_count,
    _paste,
)
from goalframe.sim.vpt.blocks import (
    BLOCK_CODE,
    BLOCKS,
)
from goalframe.sim.vpt.constants import (
    CRACK_DARKEN,
    CX,
    CY,
    DEATH_TICKS,
    DUG_GROUND_SHADE,
    FACE_CULL,
    FOCAL,
    FOG_END,
    FOG_START,
    GROUND_Y,
    GUI_ID_BASE,
    HEIGHT,
    LOW_H,
    LOW_W,
    NEAR,
    REGION,
    SKY_HORIZON,
    SKY_ZENITH,
    SWING_TICKS,
    WIDTH,
    WINDOW_H,
)
from goalframe.sim.vpt.geometry import (
    _FACE_AXIS,
    _FACE_CORNERS,
    _FACE_OFFSETS,
    _FACE_SHADE,
    _FACE_SIGN,
    _jitter,
    camera_basis,
)
from goalframe.sim.vpt.gui import (
    _PANELS,
    _SLOT_RECTS,
    GUI_LEFT,
    GUI_PANEL_H,
    GUI_PANEL_W,
    GUI_TOP,
    HOTBAR_X,
    HOTBAR_Y,
    SLOT_CRAFT0,
    SLOT_HUD0,
    SLOT_OUTPUT,
    gui_object_id,
)


class WorldRenderer:
    """Renders one world: ``render()`` returns the RGB frame and the per-pixel object ids."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self._hud_cache: tuple[Any, Any] | None = None
        self._panel_cache: tuple[Any, Any] | None = None
        self._faces_stale = True

    def invalidate(self) -> None:
        """Mark the cached block faces stale: the world calls this whenever a block is added or removed."""
        self._faces_stale = True

    def _rebuild_faces(self) -> None:
        centers, axes, signs, corners, colors, ids = [], [], [], [], [], []
        spot_flags = []
        blocks = self.world.blocks
        for (x, y, z), (code, oid) in blocks.items():
            b = BLOCKS[code]
            jit = _jitter(oid)
            base = np.array([x, y, z], np.float64)
            for fd, (dx, dy, dz) in enumerate(_FACE_OFFSETS):
                nb = (x + dx, y + dy, z + dz)
                if nb in blocks or (fd == 3 and y == GROUND_Y):
                    continue
                col = np.array(b.top if fd == 2 else b.side, np.float64) * (_FACE_SHADE[fd] * jit)
                cs = base + _FACE_CORNERS[fd]
                cen = cs.mean(0)
                centers.append(cen)
                axes.append(_FACE_AXIS[fd])
                signs.append(_FACE_SIGN[fd])
                corners.append(cs)
                colors.append(col)
                ids.append(oid)
                spot_flags.append(0.0)
                spot = b.spot if b.spot is not None else (b.top_spot if fd == 2 else None)
                if spot is not None:
                    k = 0.42 if b.spot is not None else 0.62
                    scol = np.array(spot, np.float64) * (_FACE_SHADE[fd] * jit)
                    centers.append(cen)
                    axes.append(_FACE_AXIS[fd])
                    signs.append(_FACE_SIGN[fd])
                    corners.append(cen + (cs - cen) * k)
                    colors.append(scol)
                    ids.append(oid)
                    spot_flags.append(1.0)
        if centers:
            self._f_center = np.array(centers)
            self._f_axis = np.array(axes, np.int64)
            self._f_sign = np.array(signs)
            self._f_corners = np.array(corners)
            self._f_color = np.array(colors)
            self._f_id = np.array(ids, np.int64)
            self._f_spot = np.array(spot_flags)
        else:
            self._f_center = np.zeros((0, 3))
            self._f_axis = np.zeros(0, np.int64)
            self._f_sign = np.zeros(0)
            self._f_corners = np.zeros((0, 4, 3))
            self._f_color = np.zeros((0, 3))
            self._f_id = np.zeros(0, np.int64)
            self._f_spot = np.zeros(0)
        self._faces_stale = False

    @staticmethod
    def _box_faces(boxes: list[tuple[np.ndarray, np.ndarray, tuple]], oid: int, tint: float = 0.0):
        n = len(boxes)
        lo = np.array([b[0] for b in boxes])
        hi = np.array([b[1] for b in boxes])
        col = np.array([b[2] for b in boxes], np.float64)
        if tint:
            col = col * (1 - tint) + np.array([255.0, 40.0, 40.0]) * tint
        corners = lo[:, None, None, :] + _FACE_CORNERS[None] * (hi - lo)[:, None, None, :]  # (n,6,4,3)
        corners = corners.reshape(-1, 4, 3)
        centers = corners.mean(1)
        axes = np.tile(_FACE_AXIS, n)
        signs = np.tile(_FACE_SIGN, n)
        colors = (col[:, None, :] * _FACE_SHADE[None, :, None]).reshape(-1, 3)
        ids = np.full(n * 6, oid, np.int64)
        return centers, axes, signs, corners, colors, ids, np.zeros(n * 6)

    def render(self, cursor: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """RGB frame (360, 640, 3) uint8 and object ids (360, 640) uint16 of the current state.

        ``cursor=False`` leaves the mouse cursor out of GUI frames (the recorder's mp4 has
        none; VPT's loader draws it at ``(mouse.x, mouse.y) * 360/720``).
        """
        eye = self.world.eye
        f, r, u = camera_basis(self.world.yaw, self.world.pitch)
        low = np.empty((LOW_H, LOW_W, 3), np.uint8)
        lids = np.zeros((LOW_H, LOW_W), np.uint16)
        tgt = self.world.target() if not self.world.gui_open else None
        crack_id = self.world._mine_target if (self.world._mine_progress > 0 and tgt is not None) else None
        crack = 0.0
        if crack_id is not None and tgt is not None and tgt.object_id == crack_id:
            crack = min(1.0, self.world._mine_progress / max(1, self.world._ticks_needed(tgt)))
        else:
            crack_id = None
        self._render_ground(low, lids, eye, f, r, u, crack_id, crack)
        self._render_faces(low, lids, eye, f, r, u, crack_id, crack, tgt)
        rgb = cv2.resize(low, (WIDTH, HEIGHT), interpolation=cv2.INTER_NEAREST)
        ids = cv2.resize(lids, (WIDTH, HEIGHT), interpolation=cv2.INTER_NEAREST)
        slots, grid, held, output = self.world._gui_visual
        if not self.world.gui_open:
            self._draw_hand(rgb, ids, slots)
            c0, r0 = WIDTH // 2, HEIGHT // 2
            rgb[r0 - 1 : r0 + 1, c0 - 5 : c0 + 5] = 230
            rgb[r0 - 5 : r0 + 5, c0 - 1 : c0 + 1] = 230
        self._draw_hud(rgb, ids, slots)
        if self.world.gui_open:
            self._draw_gui(rgb, ids, slots, grid, held, output, cursor)
        return rgb, ids

    def _render_ground(self, rgb, ids, eye, f, r, u, crack_id, crack) -> None:
        ey = eye[1]
        b = self.world._b
        dir_y = f[1] - b * u[1]
        elev = dir_y / np.sqrt(1.0 + b * b)
        s = np.clip(elev * 2.2, 0.0, 1.0).astype(np.float32)
        sky = SKY_HORIZON[None, :] * (1 - s[:, None]) + SKY_ZENITH[None, :] * s[:, None]
        rgb[:] = sky.astype(np.uint8)[:, None, :]
        rows = np.nonzero(dir_y < -1e-6)[0]
        if len(rows) == 0:
            return
        r0 = int(rows[0])
        bb = b[r0:].astype(np.float32)[:, None]
        t = ((GROUND_Y - ey) / dir_y[r0:]).astype(np.float32)[:, None]
        a = self.world._a[None, :]
        hx = (eye[0] + t * (np.float32(f[0]) + a * np.float32(r[0]) - bb * np.float32(u[0]))).astype(
            np.float32
        )
        hz = (eye[2] + t * (np.float32(f[2]) + a * np.float32(r[2]) - bb * np.float32(u[2]))).astype(
            np.float32
        )
        dist = t * self.world._norm[r0:]
        fx = np.floor(hx)
        fz = np.floor(hz)
        ci = fx.astype(np.int32) - self.world.origin[0]
        ck = fz.astype(np.int32) - self.world.origin[1]
        inside = (ci >= 0) & (ci < REGION) & (ck >= 0) & (ck < REGION)
        cic = np.clip(ci, 0, REGION - 1)
        ckc = np.clip(ck, 0, REGION - 1)
        gtype, gid, gdepth = self.world.gtype, self.world.gid, self.world.gdepth
        if self.world._ghost_cells:
            gtype, gid, gdepth = gtype.copy(), gid.copy(), gdepth.copy()
            for i, k, code, oid, depth in self.world._ghost_cells:
                gtype[i, k], gid[i, k], gdepth[i, k] = code, oid, depth
        typ = np.where(inside, gtype[cic, ckc], BLOCK_CODE["grass_block"]).astype(np.int32)
        var = self.world.gvariant[cic, ckc].astype(np.int32)
        uu = ((hx - fx) * 16).astype(np.int32)
        vv = ((hz - fz) * 16).astype(np.int32)
        np.clip(uu, 0, 15, out=uu)
        np.clip(vv, 0, 15, out=vv)
        col = _TEXTURES[((typ * 4 + var) * 16 + vv) * 16 + uu].astype(np.float32)
        gids = np.where(inside, gid[cic, ckc], 0)
        depth = np.where(inside, gdepth[cic, ckc], 0)
        if depth.any():
            col *= np.where(depth > 0, DUG_GROUND_SHADE, 1.0).astype(np.float32)[..., None]
        if crack_id is not None and crack_id < GUI_ID_BASE:
            m = gids == crack_id
            if m.any():
                col[m] *= np.float32(1.0 - CRACK_DARKEN * crack)
        fog = np.clip((dist - FOG_START) / (FOG_END - FOG_START), 0.0, 1.0)
        sky_rows = sky[r0:].astype(np.float32)[:, None, :]
        col += (sky_rows - col) * fog[..., None]
        rgb[r0:] = col.astype(np.uint8)
        gids[fog > 0.97] = 0
        ids[r0:] = gids.astype(np.uint16)

    def _render_faces(self, rgb, ids, eye, f, r, u, crack_id, crack, tgt) -> None:
        if self._faces_stale:
            self._rebuild_faces()
        parts = [
            (
                self._f_center,
                self._f_axis,
                self._f_sign,
                self._f_corners,
                self._f_color,
                self._f_id,
                self._f_spot,
            )
        ]
        for pos, code, oid in self.world._ghost_blocks:
            b = BLOCKS[code]
            lo = np.array(pos, np.float64)
            parts.append(self._box_faces([(lo, lo + 1, b.side)], oid))
        for mob in self.world.mobs:
            if (mob.x - eye[0]) ** 2 + (mob.z - eye[2]) ** 2 < FACE_CULL**2:
                parts.append(self._box_faces(mob.boxes(), mob.id, 0.45 if mob.hurt_ticks > 0 else 0.0))
        for mob in self.world.dying:
            parts.append(
                self._box_faces(mob.boxes(0.35 + 0.65 * min(1.0, mob.dead_ticks / DEATH_TICKS)), mob.id, 0.6)
            )
        for item in self.world.items.drawn():
            parts.append(self._box_faces([item.box()], item.id))
        if len(parts) > 1:
            cat = [np.concatenate(x) for x in zip(*parts)]
        else:
            cat = list(parts[0])
        center, axis, sign, corners, color, fid, spot = cat
        if len(center) == 0:
            return
        rel = eye[None, :] - center
        facing = rel[np.arange(len(rel)), axis] * sign > 1e-9
        d2 = (rel * rel).sum(1)
        keep = np.nonzero(facing & (d2 < FACE_CULL * FACE_CULL))[0]
        if len(keep) == 0:
            return
        R = np.stack([r, u, f])  # camera rows
        cc = (corners[keep] - eye[None, None, :]) @ R.T  # (K,4,3)
        zc = cc[..., 2]
        front = zc > NEAR
        anyf = front.any(1)
        allf = front.all(1)
        keep, cc, zc, allf = keep[anyf], cc[anyf], zc[anyf], allf[anyf]
        zs = np.where(zc > NEAR, zc, 1.0)
        px = CX + FOCAL * cc[..., 0] / zs
        py = CY - FOCAL * cc[..., 1] / zs
        onscreen = ~allf | ~((px.max(1) < -1) | (px.min(1) > LOW_W) | (py.max(1) < -1) | (py.min(1) > LOW_H))
        keep, cc, px, py, allf = keep[onscreen], cc[onscreen], px[onscreen], py[onscreen], allf[onscreen]
        if len(keep) == 0:
            return
        d = np.sqrt(d2[keep])
        order = np.argsort(-(d - spot[keep] * 1e-4), kind="stable")
        col = color[keep]
        if crack_id is not None:
            col = col.copy()
            col[fid[keep] == crack_id] *= 1.0 - CRACK_DARKEN * crack
        fog = np.clip((d - FOG_START) / (FOG_END - FOG_START), 0.0, 1.0)[:, None]
        horizon = SKY_HORIZON.astype(np.float64)[None, :]
        col = np.clip(col + (horizon - col) * fog, 0, 255).astype(np.int64)
        pts_all = np.stack([px, py], -1) * 16.0
        np.clip(pts_all, -32000, 32000, out=pts_all)
        pts_all = np.round(pts_all).astype(np.int32)
        cols = col.tolist()
        idl = fid[keep].tolist()
        allfl = allf.tolist()
        outline_id = tgt.object_id if (tgt is not None and tgt.kind == "block") else None
        outlines = []
        fill = cv2.fillConvexPoly
        for j in order.tolist():
            if allfl[j]:
                pts = pts_all[j]
            else:
                pts = self._clip_poly(cc[j])
                if pts is None:
                    continue
            fill(rgb, pts, cols[j], cv2.LINE_8, 4)
            fill(ids, pts, idl[j], cv2.LINE_8, 4)
            if idl[j] == outline_id:
                outlines.append(pts)
        if outlines:
            cv2.polylines(rgb, outlines, True, (20, 20, 20), 1, cv2.LINE_8, 4)

    @staticmethod
    def _clip_poly(cc: np.ndarray) -> np.ndarray | None:
        out = []
        n = len(cc)
        for i in range(n):
            p, q = cc[i], cc[(i + 1) % n]
            pin, qin = p[2] > NEAR, q[2] > NEAR
            if pin:
                out.append(p)
            if pin != qin:
                t = (NEAR - p[2]) / (q[2] - p[2])
                out.append(p + t * (q - p))
        if len(out) < 3:
            return None
        o = np.array(out)
        px = CX + FOCAL * o[:, 0] / o[:, 2]
        py = CY - FOCAL * o[:, 1] / o[:, 2]
        pts = np.clip(np.stack([px, py], -1) * 16.0, -32000, 32000)
        return np.round(pts).astype(np.int32)

    def _draw_hand(self, rgb: np.ndarray, ids: np.ndarray, slots) -> None:
        s = slots[self.world.hotbar]
        ph = self.world._swing / SWING_TICKS
        ox = int(-26 * math.sin(math.pi * ph))
        oy = int(-18 * math.sin(math.pi * ph))
        if s and s[0] in BLOCK_CODE:
            b = BLOCKS[BLOCK_CODE[s[0]]]
            x0, y0 = 548 + ox, 292 + oy
            polys = [
                (
                    np.array([[x0, y0 + 14], [x0 + 34, y0], [x0 + 70, y0 + 12], [x0 + 36, y0 + 28]]),
                    np.array(b.top, float),
                ),
                (
                    np.array([[x0, y0 + 14], [x0 + 36, y0 + 28], [x0 + 36, y0 + 80], [x0, y0 + 66]]),
                    np.array(b.side, float) * 0.8,
                ),
                (
                    np.array(
                        [[x0 + 36, y0 + 28], [x0 + 70, y0 + 12], [x0 + 70, y0 + 64], [x0 + 36, y0 + 80]]
                    ),
                    np.array(b.side, float) * 0.6,
                ),
            ]
        else:
            x0, y0 = 560 + ox, 300 + oy
            polys = [
                (
                    np.array([[x0, y0 + 10], [x0 + 34, y0], [x0 + 80, y0 + 70], [x0 + 40, y0 + 80]]),
                    np.array([199.0, 150.0, 122.0]),
                ),
                (
                    np.array([[x0, y0 + 10], [x0 + 40, y0 + 80], [x0 + 22, y0 + 84], [x0 - 12, y0 + 20]]),
                    np.array([160.0, 118.0, 94.0]),
                ),
            ]
            if s:
                icon, mask = _ICONS[s[0]]
                big = cv2.resize(icon, (40, 40), interpolation=cv2.INTER_NEAREST)
                bmask = cv2.resize(mask.astype(np.uint8), (40, 40), interpolation=cv2.INTER_NEAREST) > 0
        for pts, col in polys:
            p = pts.astype(np.int32)
            cv2.fillConvexPoly(rgb, p, tuple(int(c) for c in col))
            cv2.fillConvexPoly(ids, p, 0)
        if s and s[0] not in BLOCK_CODE:
            _paste(rgb, big, bmask, x0 - 14, y0 - 24)
            _paste(ids, np.zeros((40, 40), np.uint16), bmask, x0 - 14, y0 - 24)

    def _draw_hud(self, rgb: np.ndarray, ids: np.ndarray, slots) -> None:
        key = (self.world.hotbar, tuple(tuple(s) if s else None for s in slots[:9]))
        if self._hud_cache is None or self._hud_cache[0] != key:
            self._hud_cache = (key, self._build_hud(slots))
        img, mask, hid, y0 = self._hud_cache[1]
        region = rgb[y0:]
        np.copyto(region, img, where=mask[..., None])
        np.copyto(ids[y0:], hid, where=mask)

    def _build_hud(self, slots):
        y0 = HOTBAR_Y - 20
        h = HEIGHT - y0
        img = np.zeros((h, WIDTH, 3), np.uint8)
        mask = np.zeros((h, WIDTH), np.uint8)
        hid = np.zeros((h, WIDTH), np.uint16)
        x0, hy = HOTBAR_X, HOTBAR_Y - y0
        cv2.rectangle(img, (x0, hy), (x0 + 181, hy + 21), (30, 30, 30), -1)
        cv2.rectangle(mask, (x0, hy), (x0 + 181, hy + 21), 255, -1)
        for i in range(9):
            sx = x0 + 1 + 20 * i
            cv2.rectangle(img, (sx, hy + 1), (sx + 19, hy + 20), (118, 118, 118), 1)
            cv2.rectangle(img, (sx + 2, hy + 3), (sx + 17, hy + 18), (84, 84, 84), -1)
        sel = x0 - 1 + 20 * self.world.hotbar
        cv2.rectangle(img, (sel, hy - 1), (sel + 23, hy + 22), (240, 240, 240), 2)
        cv2.rectangle(mask, (sel, hy - 1), (sel + 23, hy + 22), 255, 2)
        for i in range(9):
            s = slots[i]
            if not s:
                continue
            ix, iy = x0 + 3 + 20 * i, hy + 3
            icon, imask = _ICONS[s[0]]
            _paste(img, icon, imask, ix, iy)
            hid[iy : iy + 16, ix : ix + 16] = gui_object_id(SLOT_HUD0 + i, s[0])
            _draw_count(img, s[1], ix, iy)
        mask |= (img.max(-1) > 0).astype(np.uint8) * 255
        # hearts, hunger, experience bar
        for i in range(10):
            hx = x0 + 8 * i
            cv2.rectangle(img, (hx, hy - 18), (hx + 7, hy - 11), (20, 0, 0), -1)
            cv2.rectangle(img, (hx + 1, hy - 17), (hx + 6, hy - 12), (214, 20, 20), -1)
            cv2.rectangle(mask, (hx, hy - 18), (hx + 7, hy - 11), 255, -1)
            gx = x0 + 181 - 8 * (i + 1)
            cv2.circle(img, (gx + 4, hy - 14), 3, (140, 90, 40), -1)
            cv2.circle(mask, (gx + 4, hy - 14), 3, 255, -1)
        cv2.rectangle(img, (x0, hy - 7), (x0 + 181, hy - 3), (20, 30, 20), -1)
        cv2.rectangle(img, (x0 + 1, hy - 6), (x0 + 60, hy - 4), (128, 255, 32), -1)
        cv2.rectangle(mask, (x0, hy - 7), (x0 + 181, hy - 3), 255, -1)
        m = mask > 0
        hid[~m] = 0
        return img, m, hid, y0

    def _draw_gui(self, rgb, ids, slots, grid, held, output, cursor: bool) -> None:
        cv2.convertScaleAbs(rgb, dst=rgb, alpha=0.32, beta=6)
        table = not self.world.gui_inventory
        key = (
            table,
            tuple(tuple(s) if s else None for s in slots),
            tuple(tuple(s) if s else None for s in grid),
            output,
        )
        if self._panel_cache is None or self._panel_cache[0] != key:
            self._panel_cache = (key, self._build_panel(table, slots, grid, output))
        pimg, pids = self._panel_cache[1]
        rgb[GUI_TOP : GUI_TOP + GUI_PANEL_H, GUI_LEFT : GUI_LEFT + GUI_PANEL_W] = pimg
        ids[GUI_TOP : GUI_TOP + GUI_PANEL_H, GUI_LEFT : GUI_LEFT + GUI_PANEL_W] = pids
        cx, cy = int(self.world.mouse_x * HEIGHT / WINDOW_H), int(self.world.mouse_y * HEIGHT / WINDOW_H)
        if held:
            icon, imask = _ICONS[held[0]]
            _paste(rgb, icon, imask, cx - 8, cy - 8)
            _draw_count(rgb, held[1], cx - 8, cy - 8)
        if cursor:
            _paste(rgb, _CURSOR[0], _CURSOR[1], cx, cy)

    def _build_panel(self, table: bool, slots, grid, output):
        img = _PANELS[table].copy()
        pids = np.zeros(img.shape[:2], np.uint16)
        rects = _SLOT_RECTS[table]
        contents: dict[int, Any] = {i: slots[i] for i in range(36)}
        for j in range(9):
            if SLOT_CRAFT0 + j in rects:
                contents[SLOT_CRAFT0 + j] = grid[j]
        contents[SLOT_OUTPUT] = list(output) if output else None
        for s, item in contents.items():
            if not item:
                continue
            x, y = rects[s][0] - GUI_LEFT, rects[s][1] - GUI_TOP
            icon, imask = _ICONS[item[0]]
            _paste(img, icon, imask, x, y)
            _draw_count(img, item[1], x, y)
            pids[y : y + 16, x : x + 16] = gui_object_id(s, item[0])
        return img, pids
