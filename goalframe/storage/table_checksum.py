"""The sha256 sidecar of a table (``tables/<name>.parquet.sha256``), wherever its bytes live."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def checksum_record(data: bytes, previous: bytes | None) -> bytes:
    """The sidecar for a table about to be replaced: it keeps the digest of the old bytes
    too, so a writer killed between the sidecar and the table leaves a matching pair."""
    record = {
        "sha256": sha256(data),
        "bytes": len(data),
        "previous": sha256(previous) if previous is not None else None,
    }
    return json.dumps(record).encode()


def parse_record(raw: bytes) -> dict[str, Any]:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {"sha256": None}  # a damaged record: no digest matches it


def checksum_problem(record: dict[str, Any] | None, data: bytes) -> str | None:
    """What is wrong with a table's bytes against its sidecar (None: no sidecar, or they match)."""
    if record is None:
        return None
    digest = sha256(data)
    if digest in (record.get("sha256"), record.get("previous")) and digest is not None:
        return None
    return (
        f"checksum mismatch: the file's sha256 is {digest[:12]}…, it was written as"
        f" {str(record.get('sha256'))[:12]}… (damaged: re-run the step that writes it)"
    )
