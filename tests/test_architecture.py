"""The import direction of ../shared/DESIGN.md, checked on the source (no module is imported).

Every module under goalframe/ is parsed with ``ast``; each ``import goalframe.X...`` or
``from goalframe.X... import`` it holds (inside functions too: a lazy import is still a
dependency) must point at a layer at or below its own. The table is by top-level package
(or top-level module, e.g. ``goalframe/pipeline.py``), not by today's file list, so modules
that move between files keep being checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import goalframe

PACKAGE = Path(goalframe.__file__).parent

#: Layer of each top-level name under goalframe; a module may import its own layer's and
#: lower layers' modules. ``sources`` (raw-format readers) and ``sim`` (the generators and
#: closed-loop worlds) sit below storage: "sources and sim feed storage and training".
LAYERS = {
    "__init__": 0,  # goalframe/__init__.py: the version string only
    "schemas": 0,
    "media": 1,
    "sources": 2,
    "sim": 2,
    "storage": 3,
    "annotators": 4,
    "sampling": 4,
    "training": 4,
    "pipeline": 5,
    "interop": 5,  # other tools' formats (LeRobot export): reads storage and the loaders' vectors
    "viewing": 5,  # looking at a dataset (Rerun recording, overlay video, report): reads storage and tables
    "toolkit": 6,
}

#: Imports between different packages of one layer, all others being refused. Layer 2: the
#: generators write the raw formats the readers read, and the format registry names each
#: format's generator, so sources and sim use each other. Layer 4: the trainer reads the
#: torch datasets of sampling; annotators and sampling import no sibling, and training does
#: not import annotators (mask geometry it shares with them lives in goalframe.media).
SIBLINGS = {("sources", "sim"), ("sim", "sources"), ("training", "sampling")}

#: Known upward imports that another part of issue 16 removes, each with the item that
#: removes it. The test also fails when one of them is gone, so the entry is deleted then.
PENDING: dict[tuple[str, str], str] = {}  # (module, imported package) -> why it is still allowed


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    """The top-level name under goalframe that ``module`` belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def goalframe_imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) of every absolute or relative import of goalframe in a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.append((node.lineno, target))
    return [(line, name) for line, name in found if name == "goalframe" or name.startswith("goalframe.")]


def allowed(source: str, target: str) -> bool:
    if source == target:
        return True
    if target == "toolkit":  # nothing imports the command line
        return False
    if LAYERS[source] == LAYERS[target]:
        return (source, target) in SIBLINGS
    return LAYERS[target] < LAYERS[source]


def test_every_top_level_name_has_a_layer():
    names = {p.stem for p in PACKAGE.glob("*.py")} | {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    unknown = sorted(names - set(LAYERS))
    assert not unknown, (
        f"goalframe/{unknown[0]} has no layer: add it to LAYERS in tests/test_architecture.py (see DESIGN.md)"
    )


def test_no_layer_imports_upward():
    violations, pending_seen = [], set()
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        source = layer_of(module)
        for line, imported in goalframe_imports(path):
            target = layer_of(imported)
            if target not in LAYERS or allowed(source, target):
                continue  # an unknown target is the other test's finding
            key = (module, ".".join(imported.split(".")[:2]))
            if key in PENDING:
                pending_seen.add(key)
                continue
            violations.append(f"{module} (line {line}) imports {imported}: {source} may not import {target}")
    assert not violations, "upward imports:\n" + "\n".join(violations)
    gone = sorted(set(PENDING) - pending_seen)
    assert not gone, f"{gone[0][0]} no longer imports {gone[0][1]}: delete its PENDING entry"
