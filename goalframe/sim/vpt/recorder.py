"""Writing one VPT recording: env actions as contractor jsonl lines, options.json, file stems."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from goalframe.sim.vpt.choose_target import ChooseTargetPlayer, scenario_same_kind, setup_choose_target
from goalframe.sim.vpt.constants import (
    CAMERA_SCALER,
    GUI_SCALE,
    HEIGHT,
    MS_PER_TICK,
    RECORDING_DAYS,
    SERVER_TICK_DOUBLE_P,
    SERVER_TICK_MS,
    SERVER_TICK_STALL_P,
    TICK_JITTER_MS,
    WIDTH,
    WINDOW_H,
    WINDOW_W,
)
from goalframe.sim.vpt.episode_layout import Layout
from goalframe.sim.vpt.player import ScriptedPlayer
from goalframe.sim.vpt.recording_words import ALIAS_ADJECTIVES, ALIAS_MIDDLES, ALIAS_NOUNS, KEY_CHARS
from goalframe.sim.vpt.world import VptWorld
from goalframe.sources.vpt_actions import BUTTONS, KEYBOARD_BUTTON_MAPPING


def _env_action(inp: dict[str, Any], gui_open: bool) -> dict[str, Any]:
    act: dict[str, Any] = {k: 0 for k in BUTTONS}
    for k in inp["keys"]:
        name = KEYBOARD_BUTTON_MAPPING.get(k)
        if name in act:
            act[name] = 1
    act["attack"] = int(0 in inp["buttons"])
    act["use"] = int(1 in inp["buttons"])
    act["camera"] = np.array([inp["dy"] * CAMERA_SCALER, inp["dx"] * CAMERA_SCALER])
    act["dwheel"] = inp["dwheel"]
    return act


def _options_json(rng: random.Random, layout: Layout) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "version": "2586",
        "autoJump": "false",
        "autoSuggestions": "true",
        "chatColors": "true",
        "enableVsync": "true",
        "entityShadows": "true",
        "forceUnicodeFont": "false",
        "fov": "0.0",
        "fovEffectScale": "1.0",
        "gamma": f"{rng.choice((0.0, 0.5, 1.0))}",
        "renderDistance": str(rng.choice((8, 10, 12))),
        "entityDistanceScaling": "1.0",
        "guiScale": str(GUI_SCALE),
        "particles": "0",
        "maxFps": "260",
        "difficulty": "2",
        "graphicsMode": "1",
        "ao": "2",
        "biomeBlendRadius": "2",
        "renderClouds": '"true"',
        "lang": "en_us",
        "mouseSensitivity": "0.5",
        "invertYMouse": "false",
        "rawMouseInput": "true",
        "mouseWheelSensitivity": "1.0",
        "discrete_mouse_scroll": "false",
        "touchscreen": "false",
        "bobView": "true",
        "toggleCrouch": "false",
        "toggleSprint": "false",
        "fullscreen": "false",
        "soundCategory_master": "1.0",
        "mainHand": '"right"',
        "attackIndicator": "1",
        "key_key.attack": "key.mouse.left",
        "key_key.use": "key.mouse.right",
        "key_key.forward": "key.keyboard.w",
        "key_key.left": "key.keyboard.a",
        "key_key.back": "key.keyboard.s",
        "key_key.right": "key.keyboard.d",
        "key_key.jump": "key.keyboard.space",
        "key_key.sneak": "key.keyboard.left.shift",
        "key_key.sprint": "key.keyboard.left.control",
        "key_key.drop": "key.keyboard.q",
        "key_key.inventory": "key.keyboard.e",
        "key_key.swapOffhand": "key.keyboard.f",
        "key_key.pickItem": "key.mouse.middle",
        **{f"key_key.hotbar.{i}": f"key.keyboard.{i}" for i in range(1, 10)},
    }
    (width, height), (fb_width, fb_height) = layout.window, layout.framebuffer
    opts.update(
        {
            "windowWidth": width,
            "windowHeight": height,
            "framebufferWidth": fb_width,
            "framebufferHeight": fb_height,
            "framebufferToWindowRatio": layout.ratio,
        }
    )
    return opts


def _start_inventory(world: VptWorld, rng: random.Random) -> None:
    r = rng.random()
    if r < 0.3:
        pass
    elif r < 0.7:
        world.give("oak_log", rng.randint(1, 5), slot=rng.randrange(9))
        world.give("dirt", rng.randint(4, 24), slot=rng.randrange(9))
        if rng.random() < 0.3:
            world.give("wooden_sword", 1, slot=rng.randrange(9))
        if rng.random() < 0.4:
            world.give("oak_planks", rng.randint(2, 9))
    else:
        world.give(rng.choice(("stone_pickaxe", "wooden_pickaxe")), 1, slot=0)
        if rng.random() < 0.5:
            world.give("wooden_sword", 1, slot=rng.randrange(1, 9))
        world.give("cobblestone", rng.randint(5, 40), slot=rng.randrange(1, 9))
        world.give("oak_planks", rng.randint(3, 16))
        if rng.random() < 0.5:
            world.give("stick", rng.randint(2, 6))
        if rng.random() < 0.5:
            world.give("porkchop", rng.randint(1, 4), slot=rng.randrange(1, 9))
    if r >= 0.3 and rng.random() < 0.4:
        world.give("crafting_table", 1)
    world.hotbar = rng.randrange(9)


def _start_stats(rng: random.Random) -> dict[str, int]:
    if rng.random() < 0.35:
        return {}
    t = rng.randint(2000, 60000)
    stats = {
        "minecraft.custom:minecraft.play_one_minute": t,
        "minecraft.custom:minecraft.time_since_death": rng.randint(100, t),
        "minecraft.custom:minecraft.time_since_rest": rng.randint(100, t),
        "minecraft.custom:minecraft.walk_one_cm": rng.randint(1000, t * 20),
        "minecraft.custom:minecraft.jump": rng.randint(5, t // 20),
        "minecraft.mine_block:minecraft.oak_log": rng.randint(0, 30),
        "minecraft.mine_block:minecraft.dirt": rng.randint(0, 40),
        "minecraft.pickup:minecraft.oak_log": rng.randint(0, 30),
        "minecraft.craft_item:minecraft.oak_planks": 4 * rng.randint(0, 10),
    }
    return {k: v for k, v in stats.items() if v}


class _Recorder:
    """Turns player inputs and world states into jsonl lines and truth arrays."""

    def __init__(self, rng: random.Random, start: datetime, stuck_attack: bool, layout: Layout) -> None:
        self.rng = rng
        self.layout = layout
        self.paused_ms = 0  # milli runs on through a pause while tick stops
        self.milli0 = int(start.timestamp() * 1000) + rng.randint(0, 999)
        self.server_tick = rng.randint(10000, 900000)
        self.prev_keys: list[str] = []
        self.prev_buttons: set[int] = set()
        self.stuck = stuck_attack
        self.last_milli = self.milli0

    def line(self, t: int, inp: dict[str, Any], w: VptWorld) -> tuple[dict[str, Any], list[int]]:
        rng = self.rng
        buttons = set(inp["buttons"])
        new_buttons = buttons - self.prev_buttons
        real_buttons = set(buttons)
        if self.stuck:
            if t > 0 and 0 in new_buttons:
                self.stuck = False
            else:
                buttons.add(0)
                if t == 0:
                    new_buttons = {0} | new_buttons
        self.prev_buttons = real_buttons
        keys = list(inp["keys"])
        new_keys = [k for k in keys if k not in self.prev_keys]
        self.prev_keys = keys
        chars = "".join(KEY_CHARS.get(k, "") for k in new_keys)
        if t == self.layout.pause_tick:
            self.paused_ms += self.layout.pause_ms
        jitter = rng.randint(-TICK_JITTER_MS, TICK_JITTER_MS)
        milli = max(self.last_milli + 1, self.milli0 + MS_PER_TICK * t + jitter + self.paused_ms)
        self.last_milli = milli
        r = rng.random()
        stall, double = SERVER_TICK_STALL_P, SERVER_TICK_STALL_P + SERVER_TICK_DOUBLE_P
        self.server_tick += 0 if r < stall else 2 if r < double else 1
        # the world's cursor lives in 1280x720; the recorder writes the real window's pixels
        scale = self.layout.window_scale
        mx, my = (float(w.mouse_x), float(w.mouse_y)) if w.gui_open else (WINDOW_W / 2, WINDOW_H / 2)
        mx, my = mx * scale, my * scale
        dx, dy = float(inp["dx"]), float(inp["dy"])
        factor = self.layout.gui_scale_factor
        if w.gui_open:  # the recorder divides GUI-open deltas by the GUI scale factor
            dx, dy = dx * scale / factor, dy * scale / factor
        obj = {
            "mouse": {
                "x": mx,
                "y": my,
                "dx": dx,
                "dy": dy,
                "scaledX": mx / factor,
                "scaledY": my / factor,
                "dwheel": float(inp["dwheel"]),
                "buttons": sorted(buttons),
                "newButtons": sorted(new_buttons),
            },
            "keyboard": {"keys": keys, "newKeys": new_keys, "chars": chars},
            "isGuiOpen": bool(w.gui_open),
            "isGuiInventory": bool(w.gui_open and w.gui_inventory),
            "hotbar": int(w.hotbar),
            "yaw": float(w.yaw),
            "pitch": float(w.pitch),
            "xpos": float(w.x),
            "ypos": float(w.y),
            "zpos": float(w.z),
            "tick": t,
            "milli": milli,
            "inventory": w.inventory_list(),
            "serverTick": self.server_tick,
            "serverTickDurationMs": round(rng.uniform(*SERVER_TICK_MS), 4),
            "stats": dict(sorted(w.stats.items())),
        }
        return obj, sorted(buttons)


def _stem(rng: random.Random, used: set[str]) -> tuple[str, datetime]:
    while True:
        alias = f"{rng.choice(ALIAS_ADJECTIVES)}-{rng.choice(ALIAS_MIDDLES)}-{rng.choice(ALIAS_NOUNS)}"
        session = "".join(rng.choice("0123456789abcdef") for _ in range(12))
        start = datetime(2021, 12, 1, tzinfo=timezone.utc) + timedelta(
            seconds=rng.randint(0, RECORDING_DAYS * 86400)
        )
        stem = f"{alias}-{session}-{start:%Y%m%d}-{start:%H%M%S}"
        if stem not in used:
            used.add(stem)
            return stem, start


def _prompt_point(is_gui: bool, mx: float, my: float) -> tuple[int, int]:
    """(row, col) of the annotation prompt: frame centre, or the cursor when a GUI is open."""
    if is_gui:
        col = min(max(int(mx * HEIGHT / WINDOW_H), 0), WIDTH - 1)
        row = min(max(int(my * HEIGHT / WINDOW_H), 0), HEIGHT - 1)
        return row, col
    return HEIGHT // 2, WIDTH // 2


def _new_world(
    rng: random.Random, scenario: str = "default", item_entities: bool = False
) -> tuple[VptWorld, ScriptedPlayer]:
    """The episode's world, start inventory, start stats and player, drawn from ``rng``; a
    choose-target ``scenario`` clears the scene, places its candidates and plays for the goal
    (the player's ``layout``). ``item_entities``: drops are drawn as item entities."""
    world = VptWorld(item_entities)
    world.reset(rng.randrange(2**31))
    _start_inventory(world, rng)
    world.stats = _start_stats(rng)
    if scenario == "default":
        return world, ScriptedPlayer(world, rng.randrange(2**31))
    layout = setup_choose_target(world, random.Random(rng.randrange(2**31)), scenario_same_kind(scenario))
    return world, ChooseTargetPlayer(world, rng.randrange(2**31), layout)


def _stat_history(
    seed: int, frames: int, scenario: str = "default"
) -> tuple[set[str], list[tuple[int, str]]]:
    """Replay the episode's world and player without rendering: the counters it starts with
    and (tick, stat) of every increase. Rendering does not change the world, so the real run
    makes the same increases."""
    world, player = _new_world(random.Random(seed), scenario)
    start = set(world.stats)
    history = []
    for t in range(frames):
        for ev in world.step(_env_action(player.next_input(), world.gui_open)):
            history.append((t, ev["stat"]))
    return start, history


def _plan_counter_reset(
    seed: int, frames: int, n_valid: int, target: int, scenario: str = "default"
) -> tuple[int, str, int | None] | None:
    """(tick, stat, tick it comes back) for a counter that vanishes and returns, nearest ``target``.

    The counter must be non-zero when it vanishes and increase again on a later line, so that
    the episode shows both halves of the rule: gone means 0, back means counted from 0. Where
    no counter increases twice, a start counter vanishes for good (comes back: None).
    """
    start, history = _stat_history(seed, frames, scenario)
    nonzero_from = {name: 0 for name in start}
    windows = []  # (first tick it may vanish, tick it comes back, stat)
    for t, stat in history:
        if stat.startswith("minecraft.custom:") or t >= n_valid:
            continue
        if stat in nonzero_from and t - nonzero_from[stat] >= 2:
            windows.append((nonzero_from[stat] + 1, t, stat))
        nonzero_from[stat] = t
    if not windows:  # nothing increases twice: a start counter that just vanishes
        still = sorted(
            n for n in start if not n.startswith("minecraft.custom:") and n not in {s for _, s in history}
        )
        return (min(target, n_valid - 1), still[0], None) if still else None
    first, back, stat = min(windows, key=lambda w: (max(w[0] - target, target - (w[1] - 1), 0), w[2]))
    return min(max(target, first), back - 1), stat, back
