"""Block and item kinds of the VPT world: what each is called, looks like, drops and stacks to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BlockDef:
    name: str
    top: tuple[int, int, int]
    side: tuple[int, int, int]
    ticks_hand: int  # ticks of holding attack to mine by hand
    ticks_tool: int  # ... with the right tool
    tool: str | None  # "pickaxe" or None
    drop: str | None  # item picked up
    needs_tool: bool  # drops nothing without the tool
    spot: tuple[int, int, int] | None = None  # inner square colour on every face (ores)
    top_spot: tuple[int, int, int] | None = None  # inner square on the top face only


BLOCKS: list[BlockDef] = [
    BlockDef("air", (0, 0, 0), (0, 0, 0), 0, 0, None, None, False),
    BlockDef("grass_block", (98, 158, 56), (128, 100, 66), 18, 18, None, "dirt", False, top_spot=None),
    BlockDef("dirt", (134, 96, 67), (134, 96, 67), 15, 15, None, "dirt", False),
    BlockDef("sand", (219, 207, 163), (214, 201, 156), 15, 15, None, "sand", False),
    BlockDef("gravel", (136, 126, 126), (130, 121, 121), 18, 18, None, "gravel", False),
    BlockDef("stone", (125, 125, 125), (120, 120, 120), 150, 12, "pickaxe", "cobblestone", True),
    BlockDef("cobblestone", (112, 112, 112), (106, 106, 106), 200, 15, "pickaxe", "cobblestone", True),
    BlockDef(
        "coal_ore", (122, 122, 122), (118, 118, 118), 300, 24, "pickaxe", "coal", True, spot=(34, 34, 34)
    ),
    BlockDef(
        "iron_ore",
        (128, 124, 120),
        (124, 120, 116),
        300,
        30,
        "pickaxe",
        "iron_ore",
        True,
        spot=(214, 172, 140),
    ),
    BlockDef(
        "oak_log", (176, 142, 88), (104, 82, 50), 40, 20, None, "oak_log", False, top_spot=(150, 116, 66)
    ),
    BlockDef("oak_leaves", (58, 122, 34), (52, 114, 30), 6, 6, None, None, False),
    BlockDef("oak_planks", (164, 132, 80), (158, 127, 76), 30, 15, None, "oak_planks", False),
    BlockDef(
        "crafting_table",
        (150, 112, 66),
        (128, 96, 58),
        30,
        15,
        None,
        "crafting_table",
        False,
        top_spot=(96, 66, 40),
    ),
]
BLOCK_CODE = {b.name: i for i, b in enumerate(BLOCKS)}
PLACEABLE = {
    "dirt",
    "sand",
    "gravel",
    "stone",
    "cobblestone",
    "oak_log",
    "oak_planks",
    "crafting_table",
    "grass_block",
}

ITEMS: list[str] = [
    "air",
    "grass_block",
    "dirt",
    "sand",
    "gravel",
    "stone",
    "cobblestone",
    "coal_ore",
    "iron_ore",
    "oak_log",
    "oak_leaves",
    "oak_planks",
    "crafting_table",
    "coal",
    "stick",
    "wooden_pickaxe",
    "stone_pickaxe",
    "wooden_sword",
    "torch",
    "porkchop",
    "beef",
    "leather",
    "rotten_flesh",
    "oak_sapling",
    "apple",
    "iron_ingot",
    "furnace",
    "wooden_axe",
    "bread",
]
ITEM_INDEX = {n: i for i, n in enumerate(ITEMS)}
ITEM_COLORS: dict[str, tuple[int, int, int]] = {
    "coal": (40, 40, 40),
    "stick": (120, 90, 50),
    "wooden_pickaxe": (150, 118, 70),
    "stone_pickaxe": (130, 130, 130),
    "wooden_sword": (150, 118, 70),
    "torch": (240, 200, 80),
    "porkchop": (232, 140, 140),
    "beef": (190, 60, 50),
    "leather": (150, 90, 50),
    "rotten_flesh": (120, 80, 60),
    "oak_sapling": (70, 140, 40),
    "apple": (210, 30, 30),
    "iron_ingot": (220, 220, 220),
    "furnace": (110, 110, 110),
    "wooden_axe": (150, 118, 70),
    "bread": (200, 150, 70),
}
FOOD = {"porkchop", "beef", "apple", "bread", "rotten_flesh"}
TOOLS = {
    "wooden_pickaxe": ("pickaxe", 2),
    "stone_pickaxe": ("pickaxe", 3),
    "wooden_sword": ("sword", 4),
    "wooden_axe": ("axe", 3),
}
STACK_ONE = set(TOOLS)
