from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# tests/ helpers (simple_source, fixture writers) import as top-level modules.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def label_studio(request, tmp_path_factory):
    """A real Label Studio server on 127.0.0.1 (free port) for the whole session, stopped by its PID.

    Its LOCAL_FILES_DOCUMENT_ROOT is ``server.document_root``: datasets built under it get
    their frames served by local-files storage, datasets elsewhere get them uploaded.
    """
    import labelstudio_server

    if labelstudio_server.label_studio_executable() is None:
        message = "label-studio is not installed: pip install -e '.[test]'"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        cache_root = request.config.cache.mkdir("label-studio")
    except AttributeError:  # pytest run with -p no:cacheprovider
        cache_root = tmp_path_factory.mktemp("label-studio-cache")
    workdir = tmp_path_factory.mktemp("label-studio")
    document_root = tmp_path_factory.mktemp("label-studio-docroot")
    server = labelstudio_server.start_server(Path(cache_root), workdir, document_root)
    yield server
    server.stop()
