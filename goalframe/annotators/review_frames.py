"""Serving frames to Label Studio: each task's image, the stored frame as a lossless PNG.

Served by the server's local-files storage when its document root contains the export
folder ``DS.zarr/review/images``, else uploaded to the project.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import numpy as np

from goalframe.annotators.review_server import ReviewError, Server
from goalframe.storage.dataset import Dataset
from goalframe.storage.layout import safe_name
from goalframe.storage.review_images import (
    REVIEW_IMAGES,
    ReviewImage,
    image_matches,
    image_problems,
    save_digests,
    sha256_of,
    write_image,
)


def png_bytes(frame: np.ndarray) -> bytes:
    import cv2

    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(frame[:, :, ::-1]))
    if not ok:
        raise ReviewError("could not encode a frame as PNG")
    return encoded.tobytes()


def image_name(episode: str, camera: str, frame: int) -> str:
    return safe_name(f"{episode}.{camera}.{frame:06d}") + ".png"


def repair_review_images(ds: Dataset, digests: dict[str, ReviewImage]) -> int:
    """Render again every recorded review image that is missing or damaged; how many were."""
    folder = Path(ds.path) / REVIEW_IMAGES
    damaged = [Path(where).name for where, _problem in image_problems(ds.path)]
    for name in damaged:
        image = digests[name]
        data = png_bytes(ds.read_frames(image.episode, image.frame, image.frame + 1, image.camera)[0])
        write_image(folder / name, data)
        digests[name] = ReviewImage(image.episode, image.camera, image.frame, sha256_of(data))
    if damaged:
        save_digests(ds.path, digests)
    return len(damaged)


def _ancestors(path: Path) -> list[Path]:
    return list(path.parents)


UPLOAD_BATCH = 50  # files per multipart request (Django refuses more than 100)


class FrameServer:
    """Serves PNG frames to the editor: local-files storage when possible, upload otherwise."""

    def __init__(
        self,
        server: Server,
        project_id: int,
        export_dir: Path,
        allow_local: bool,
        digests: dict[str, ReviewImage],
    ):
        self.server, self.project_id, self.export_dir = server, project_id, export_dir
        self.allow_local = allow_local
        self.digests = digests  # the dataset's record, updated in place for every image written
        self.mode: str | None = None
        self.document_root: Path | None = None

    def write(self, ds: Dataset, episode: str, camera: str, frame: int) -> Path:
        """The image of one frame, rendered unless a file with the recorded digest is already there."""
        name = image_name(episode, camera, frame)
        path = self.export_dir / name
        if not image_matches(path, self.digests.get(name)):
            data = png_bytes(ds.read_frames(episode, frame, frame + 1, camera)[0])
            write_image(path, data)
            self.digests[name] = ReviewImage(episode, camera, int(frame), sha256_of(data))
        return path

    def _local_storage(self) -> bool:
        """A local-files storage on the export folder exists or can be made (the server shares our disk)."""
        from label_studio_sdk.core.api_error import ApiError

        folder = str(self.export_dir)
        with self.server.errors("listing local storages"):
            storages = list(self.server.client.import_storage.local.list(project=self.project_id))
        if any(os.path.normpath(s.path or "") == os.path.normpath(folder) for s in storages):
            return True
        with self.server.errors("creating a local-files storage"):
            try:
                self.server.client.import_storage.local.create(
                    project=self.project_id,
                    path=folder,
                    title="goalframe frames",
                    use_blob_urls=True,
                    description=(
                        "frames exported by goalframe review push (never sync: tasks come from goalframe)"
                    ),
                )
            except ApiError as exc:
                if exc.status_code == 400:  # outside its document root, or local files serving disabled
                    return False
                raise
        return True

    def _probe_root(self, sample: Path) -> Path | None:
        """The server's document root: the ancestor under which /data/local-files serves ``sample``."""
        size = sample.stat().st_size
        candidates = []
        for name in ("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", "LOCAL_FILES_DOCUMENT_ROOT"):
            if os.environ.get(name):
                candidates.append(Path(os.path.abspath(os.environ[name])))
        candidates += [p for p in _ancestors(self.export_dir) if p not in candidates]
        for root in candidates:
            try:
                relative = sample.relative_to(root)
            except ValueError:
                continue
            response = self.server.request(
                "GET", "/data/local-files/", "probing local-files serving", params={"d": relative.as_posix()}
            )
            if response.status_code == 200 and len(response.content) == size:
                return root
        return None

    def prepare(self, sample: Path) -> str:
        if self.mode is None:
            self.mode = "upload"
            if self.allow_local and self._local_storage():
                self.document_root = self._probe_root(sample)
                if self.document_root is not None:
                    self.mode = "local-files"
        return self.mode

    def local_url(self, path: Path) -> str:
        assert self.document_root is not None
        return f"/data/local-files/?d={quote(path.relative_to(self.document_root).as_posix())}"

    def upload(self, paths: Sequence[Path]) -> dict[Path, str]:
        """Upload files without creating tasks; returns each file's /data/upload/... URL."""
        urls: dict[Path, str] = {}
        for start in range(0, len(paths), UPLOAD_BATCH):
            batch = paths[start : start + UPLOAD_BATCH]
            files = {p.name: (p.name, p.read_bytes(), "image/png") for p in batch}
            response = self.server.request(
                "POST",
                f"/api/projects/{self.project_id}/import",
                "uploading frames",
                params={"commit_to_project": "false"},
                files=files,
            )
            with self.server.errors("uploading frames"):
                response.raise_for_status()
            ids = response.json().get("file_upload_ids") or []
            listing = self.server.request(
                "GET",
                f"/api/projects/{self.project_id}/file-uploads",
                "listing uploaded frames",
                params={"ids": json.dumps(ids)},
            )
            with self.server.errors("listing uploaded frames"):
                listing.raise_for_status()
            stored = [item["file"] for item in listing.json()]
            for p in batch:
                match = [f for f in stored if f.rsplit("/", 1)[-1].split("-", 1)[-1] == p.name]
                if not match:
                    raise ReviewError(
                        f"uploaded {p.name} to project {self.project_id} but the server does not list it"
                    )
                urls[p] = "/data/" + match[-1].lstrip("/")
        return urls
