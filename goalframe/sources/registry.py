"""The raw formats goalframe reads, by name: a registry of readers and generators.

Modules are imported on first use, so ``goalframe --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any, Callable


@dataclass(frozen=True)
class SourceFormat:
    name: str
    reader_module: str
    synth_module: str
    synth_function: str
    description: str

    @property
    def reader(self) -> Any:
        return import_module(self.reader_module)

    def discover(self, raw: Any) -> list[Any]:
        return self.reader.discover(raw)

    @property
    def read(self) -> Callable[[Any], Any]:
        return self.reader.read

    @property
    def synthesize(self) -> Callable[..., Any]:
        return getattr(import_module(self.synth_module), self.synth_function)


FORMATS: dict[str, SourceFormat] = {
    "vpt": SourceFormat(
        "vpt",
        "goalframe.sources.vpt",
        "goalframe.sim.vpt.synth",
        "synthesize_vpt",
        "OpenAI VPT Minecraft contractor data: mp4 + jsonl + options.json",
    ),
    "agibot": SourceFormat(
        "agibot",
        "goalframe.sources.agibot",
        "goalframe.sim.agibot.synth",
        "synthesize_agibot",
        "AgiBot World: an mp4 per camera + proprio_stats.h5 + task_info json",
    ),
}


def get_format(name: str) -> SourceFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown raw format {name!r}; choose one of {', '.join(FORMATS)}") from None
