"""The mask annotator registry: names to annotator classes, kept outside the classes it builds.

As segment-anything's ``build_sam.py`` keeps ``sam_model_registry`` apart from the models,
this module maps each name to the class that implements it, as a dotted path, so that
choosing or versioning an annotator never imports another one's heavy dependencies (SAM
pulls in torch). The registry is the only state here, and it is read-only after import.
``build_annotator("classical")``, ``build_annotator("sam", checkpoint=..., model_type="vit_b")``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from goalframe.annotators.annotator import Annotator

# name -> "module:Class"; a class with a ``from_options`` classmethod is built through it
ANNOTATORS: dict[str, str] = {
    "classical": "goalframe.annotators.classical:ClassicalAnnotator",
    "sam": "goalframe.annotators.sam:SamAnnotator",
}


def _annotator_class(name: str) -> type:
    try:
        path = ANNOTATORS[name]
    except KeyError:
        raise ValueError(f"unknown annotator {name!r}; choose one of {', '.join(ANNOTATORS)}") from None
    module, cls = path.split(":")
    return getattr(import_module(module), cls)


def annotator_version(name: str) -> str:
    """The version string of a registered annotator, without building it (no weights loaded)."""
    return _annotator_class(name).version


def build_annotator(name: str, **options: Any) -> Annotator:
    """An annotator by registry name; unknown names and bad options are one-line ValueErrors."""
    cls = _annotator_class(name)
    return getattr(cls, "from_options", cls)(**options)
