"""The review images a local dataset serves to Label Studio, with the sha256 of each.

``review push`` writes each frame it sends for review as a PNG under
``DS.zarr/review/images`` (Label Studio serves them from there) and records, per image, the
digest and the frame it shows in ``review/images.sha256.json``. A damaged image would be
reviewed as a damaged frame: ``verify`` names it, and the next push renders it again from
the frames instead of serving it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

REVIEW_IMAGES = "review/images"
DIGESTS = "review/images.sha256.json"


@dataclass(frozen=True)
class ReviewImage:
    """What one review image shows, and the digest of its bytes when written."""

    episode: str
    camera: str
    frame: int
    sha256: str


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_digests(dataset: str | Path) -> dict[str, ReviewImage]:
    """Recorded review images by file name; an unreadable record reads as none recorded."""
    try:
        record = json.loads((Path(dataset) / DIGESTS).read_bytes())
        return {name: ReviewImage(**entry) for name, entry in record["images"].items()}
    except FileNotFoundError:
        return {}
    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
        return {}  # every image is then rendered again and recorded anew


def save_digests(dataset: str | Path, digests: dict[str, ReviewImage]) -> None:
    """Replace the record atomically."""
    path = Path(dataset) / DIGESTS
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps({"images": {name: asdict(image) for name, image in sorted(digests.items())}}, indent=1)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(data)
    os.replace(temporary, path)


def write_image(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def image_matches(path: Path, expected: ReviewImage | None) -> bool:
    """Whether the file exists with the recorded bytes (an unrecorded file never matches)."""
    if expected is None or not path.is_file():
        return False
    return sha256_of(path.read_bytes()) == expected.sha256


def image_problems(dataset: str | Path) -> list[tuple[str, str]]:
    """(relative path, problem) for every recorded review image that is missing or damaged."""
    folder = Path(dataset) / REVIEW_IMAGES
    problems = []
    for name, image in sorted(load_digests(dataset).items()):
        path = folder / name
        shows = f"episode {image.episode} {image.camera} frame {image.frame}"
        if not path.is_file():
            problems.append(
                (f"{REVIEW_IMAGES}/{name}", f"missing ({shows}; `goalframe review push` renders it again)")
            )
        elif sha256_of(path.read_bytes()) != image.sha256:
            problems.append(
                (
                    f"{REVIEW_IMAGES}/{name}",
                    f"checksum mismatch ({shows}; `goalframe review push` renders it again)",
                )
            )
    return problems


def unrecorded_images(dataset: str | Path) -> list[str]:
    """Review images without a recorded digest (written by an older goalframe)."""
    folder = Path(dataset) / REVIEW_IMAGES
    if not folder.is_dir():
        return []
    recorded = load_digests(dataset)
    return sorted(p.name for p in folder.glob("*.png") if p.name not in recorded)
