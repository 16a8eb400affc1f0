"""What ``goalframe verify`` reports: each finding (:class:`Damage`), per episode and in all."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

CHECKSUM_OK = "ok"
CHECKSUM_MISMATCH = "mismatch"
RAW_ABSENT = "raw files absent"
NOT_RECORDED = "raw file list not recorded"
NOT_CHECKED = "not checked"


@dataclass
class Damage:
    kind: str  # metadata missing-array missing-chunk chunk shape checksum table mask review-image
    message: str
    episode: str | None = None
    array: str | None = None
    where: str | None = None  # "frames 64-127", "chunk c/0", a table row...

    def line(self) -> str:
        parts = [p for p in (self.episode, self.array, self.where) if p]
        return f"{self.kind}: {' '.join(parts)}: {self.message}" if parts else f"{self.kind}: {self.message}"


@dataclass
class EpisodeCheck:
    episode_id: str
    arrays: int = 0
    chunks: int = 0
    frames: int = 0
    checksum: str = NOT_CHECKED
    damage: list[Damage] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class VerifyReport:
    dataset: str
    episodes: list[EpisodeCheck]
    damage: list[Damage]  # all of it: the episodes' and the dataset-level ones
    notes: list[str]
    tables: dict[str, int]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.damage

    def checksum_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for check in self.episodes:
            counts[check.checksum] = counts.get(check.checksum, 0) + 1
        return counts

    def summary(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "ok": self.ok,
            "episodes": len(self.episodes),
            "arrays": sum(c.arrays for c in self.episodes),
            "chunks": sum(c.chunks for c in self.episodes),
            "frames": sum(c.frames for c in self.episodes),
            "checksums": self.checksum_counts(),
            "tables": self.tables,
            "damage": len(self.damage),
            "seconds": round(self.seconds, 2),
        }

    def to_dict(self) -> dict[str, Any]:
        return self.summary() | {
            "damage_found": [asdict(d) | {"line": d.line()} for d in self.damage],
            "notes": self.notes,
            "per_episode": [{k: v for k, v in asdict(c).items() if k != "damage"} for c in self.episodes],
        }


def one_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    if "computed checksum do not match" in text:
        return "CRC32C checksum mismatch: the stored bytes changed"
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__
