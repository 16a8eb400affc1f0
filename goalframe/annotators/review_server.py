"""Label Studio server access: the client, projects, uploads, and one-line errors.

The API key is passed to the client and nowhere else: it is never written, printed or
logged, and error messages are scrubbed of it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from goalframe.annotators.review_results import (
    LABEL_CONFIG,
    MASK_NAME,
    PREVIOUS_LABEL_CONFIGS,
    VISIBILITY_NAME,
    same_config,
)

IMPORT_BATCH = 200  # tasks per import request


class ReviewError(ValueError):
    """A review step that cannot go on; ``str()`` is one line (and never holds the API key)."""


def normalize_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ReviewError(f"--url {url!r}: expected http://HOST:PORT or https://...")
    return url


def resolve_api_key(api_key: str | None) -> str:
    key = api_key or os.environ.get("LABEL_STUDIO_API_KEY") or ""
    if not key.strip():
        raise ReviewError(
            "no Label Studio API key: pass --api-key or set LABEL_STUDIO_API_KEY (Account & Settings > Access"
            " Token)"
        )
    return key.strip()


def _one_line(text: str, secret: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    if secret:
        text = text.replace(secret, "***")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _api_detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        for key in ("detail", "validation_errors", "message"):
            if body.get(key):
                return json.dumps(body[key]) if not isinstance(body[key], str) else body[key]
        return json.dumps(body)
    return str(body or "")


class Server:
    """A Label Studio connection: the SDK client plus a raw HTTP client with the same auth."""

    def __init__(self, url: str, api_key: str | None, timeout: float = 60.0):
        self.url = normalize_url(url)
        self._key = resolve_api_key(api_key)
        self._timeout = timeout
        self._client = None
        self._http = None
        self._users: dict[int, str] = {}

    @contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        """Turn transport and API failures into one-line ReviewErrors without the key."""
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        try:
            yield
        except ReviewError:
            raise
        except httpx.TransportError as exc:
            raise ReviewError(
                _one_line(
                    f"cannot reach Label Studio at {self.url} ({doing}): {exc.__class__.__name__}: {exc}",
                    self._key,
                )
            ) from None
        except ApiError as exc:
            code = exc.status_code
            if code in (401, 403):
                raise ReviewError(
                    f"Label Studio at {self.url} refused the API key (HTTP {code}) while {doing}"
                ) from None
            raise ReviewError(
                _one_line(
                    f"Label Studio at {self.url} answered HTTP {code} while {doing}: {_api_detail(exc)}",
                    self._key,
                )
            ) from None
        except httpx.HTTPStatusError as exc:
            code = exc.response.status_code
            if code in (401, 403):
                raise ReviewError(
                    f"Label Studio at {self.url} refused the API key (HTTP {code}) while {doing}"
                ) from None
            raise ReviewError(
                _one_line(
                    f"Label Studio at {self.url} answered HTTP {code} while {doing}: {exc.response.text}",
                    self._key,
                )
            ) from None

    @property
    def client(self):
        if self._client is None:
            from label_studio_sdk import LabelStudio

            self._client = LabelStudio(base_url=self.url, api_key=self._key, timeout=self._timeout)
        return self._client

    def request(self, method: str, path: str, doing: str, **kwargs: Any) -> Any:
        """A raw HTTP call for what the SDK lacks (multipart upload, file-uploads, local-files),
        with the SDK's auth headers taken per call (a personal access token is refreshed there)."""
        import httpx

        with self.errors(doing):
            if self._http is None:
                self._http = httpx.Client(base_url=self.url, timeout=self._timeout)
            headers = {
                k: v
                for k, v in self.client._client_wrapper.get_headers().items()
                if k.lower() in ("authorization", "x-api-key")
            }
            return self._http.request(method, path, headers=headers, **kwargs)

    def check(self) -> str:
        """Reach the server and check the key; returns the user's email."""
        with self.errors("checking the connection"):
            return self.client.users.whoami(request_options={"max_retries": 0}).email or "?"

    def annotator(self, user_id: Any) -> str:
        if user_id is None:
            return "unknown"
        if isinstance(user_id, dict):
            return str(user_id.get("email") or user_id.get("id"))
        if user_id not in self._users:
            try:
                with self.errors("looking up an annotator"):
                    self._users[user_id] = self.client.users.get(int(user_id)).email or str(user_id)
            except ReviewError:
                self._users[user_id] = str(user_id)
        return self._users[user_id]

    def find_project(self, title: str) -> Any | None:
        with self.errors("listing projects"):
            matches = [p for p in self.client.projects.list(title=title) if p.title == title]
        return min(matches, key=lambda p: p.id) if matches else None

    def project(self, title: str, create: bool) -> Any:
        project = self.find_project(title)
        if project is None:
            if not create:
                raise ReviewError(
                    f"no project titled {title!r} on {self.url}: run `goalframe review push` first"
                )
            with self.errors(f"creating project {title!r}"):
                project = self.client.projects.create(
                    title=title,
                    label_config=LABEL_CONFIG,
                    description="Masks from goalframe: correct the mask, pick the visibility, submit.",
                )
        else:
            check_label_config(project.label_config or "", title)
        return project

    def upgrade_label_config(self, project: Any) -> str:
        """Replace a config an earlier goalframe created; 'current', 'upgraded' or 'edited' (left alone)."""
        config = project.label_config or ""
        if same_config(config, LABEL_CONFIG):
            return "current"
        if not any(same_config(config, previous) for previous in PREVIOUS_LABEL_CONFIGS):
            return "edited"
        with self.errors(f"upgrading the labeling config of project {project.title!r}"):
            self.client.projects.update(project.id, label_config=LABEL_CONFIG)
        return "upgraded"

    def tasks(self, project_id: int, annotations: bool) -> list[Any]:
        with self.errors("listing tasks"):
            return list(self.client.tasks.list(project=project_id, fields="all" if annotations else None))

    def close(self) -> None:
        if self._http is not None:
            self._http.close()


def check_label_config(config: str, title: str) -> None:
    from label_studio_sdk.label_interface import LabelInterface

    try:
        interface = LabelInterface(config)
        brush = interface.get_control(MASK_NAME)
        choices = interface.get_control(VISIBILITY_NAME)
        ok = brush.tag.lower() == "brushlabels" and choices.tag.lower() == "choices"
    except Exception:  # noqa: BLE001 - any parse failure means "not ours"
        ok = False
    if not ok:
        raise ReviewError(
            f"project {title!r} exists with a labeling config that has no BrushLabels {MASK_NAME!r} and"
            f" Choices {VISIBILITY_NAME!r}: pick another --project"
        )
