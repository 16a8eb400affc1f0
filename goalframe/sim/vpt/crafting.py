"""Shaped crafting recipes and matching a crafting grid against them."""

from __future__ import annotations

from typing import Any

# shaped recipes: rows of item names (None = empty), result, count
RECIPES: list[tuple[list[list[str | None]], str, int]] = [
    ([["oak_log"]], "oak_planks", 4),
    ([["oak_planks"], ["oak_planks"]], "stick", 4),
    ([["oak_planks", "oak_planks"], ["oak_planks", "oak_planks"]], "crafting_table", 1),
    ([["coal"], ["stick"]], "torch", 4),
    ([["oak_planks"] * 3, [None, "stick", None], [None, "stick", None]], "wooden_pickaxe", 1),
    ([["cobblestone"] * 3, [None, "stick", None], [None, "stick", None]], "stone_pickaxe", 1),
    ([["oak_planks"], ["oak_planks"], ["stick"]], "wooden_sword", 1),
    ([["cobblestone"] * 3, ["cobblestone", None, "cobblestone"], ["cobblestone"] * 3], "furnace", 1),
]

# ----------------------------------------------------------------------------- mobs


def match_recipe(grid: list[list[Any] | None], size: int) -> tuple[str, int] | None:
    """Result (item, count) of the shaped recipe in a crafting grid (3x3 list of [item, n])."""
    cells = [(j // 3, j % 3) for j in range(9) if (j // 3) < size and (j % 3) < size and grid[j]]
    if not cells:
        return None
    r0, r1 = min(r for r, _ in cells), max(r for r, _ in cells)
    c0, c1 = min(c for _, c in cells), max(c for _, c in cells)
    shape = [
        [(grid[r * 3 + c][0] if grid[r * 3 + c] else None) for c in range(c0, c1 + 1)]
        for r in range(r0, r1 + 1)
    ]
    for pattern, result, count in RECIPES:
        if shape == pattern or shape == [row[::-1] for row in pattern]:
            return result, count
    return None


# ----------------------------------------------------------------------------- the world
