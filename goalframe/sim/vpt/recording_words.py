"""Words the recorder writes: the alias of a contractor file stem and the characters keys type.

A stem reads ``{adjective}-{middle}-{noun}-{session}-{date}-{time}`` as real VPT file names do
(``cheeky-cornflower-setter-...``).
"""

from __future__ import annotations

KEY_CHARS = {
    "key.keyboard.space": " ",
    **{f"key.keyboard.{c}": c for c in "abcdefghijklmnopqrstuvwxyz0123456789"},
}

ALIAS_ADJECTIVES = [
    "cheeky",
    "brave",
    "quiet",
    "sunny",
    "lucky",
    "gentle",
    "rapid",
    "mellow",
    "witty",
    "fuzzy",
    "proud",
    "clever",
    "eager",
    "jolly",
    "noble",
    "breezy",
]
ALIAS_MIDDLES = [
    "cornflower",
    "amber",
    "cobalt",
    "saffron",
    "olive",
    "crimson",
    "ivory",
    "teal",
    "maple",
    "juniper",
    "coral",
    "slate",
    "hazel",
    "indigo",
]
ALIAS_NOUNS = [
    "setter",
    "otter",
    "falcon",
    "badger",
    "heron",
    "lynx",
    "marmot",
    "gecko",
    "puffin",
    "ibex",
    "tapir",
    "wombat",
    "pika",
    "newt",
]
