"""A real Label Studio server for tests: 127.0.0.1, a free port, stopped by its own PID.

Starting Label Studio on a fresh data dir runs its migrations (about 25 s). The first
start migrates into a template data dir kept in the pytest cache (keyed by the installed
label-studio version); every later start copies that template and is up in about 3 s.
Nothing here installs anything: the ``test`` extra brings ``label-studio``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

USERNAME = "reviewer@goalframe.test"
PASSWORD = "goalframe-test-password"
TOKEN = "gftesttoken0123456789abcdef"  # legacy API token, fixed when the template is made
STARTUP_TIMEOUT_S = 120.0

# The server reads LABEL_STUDIO_X, then HEARTEX_X, then bare X: a stray PORT, HOST,
# USERNAME... in the caller's environment would be picked up.
_SCRUBBED = {
    "PORT",
    "HOST",
    "USERNAME",
    "PASSWORD",
    "USER_TOKEN",
    "DATA_DIR",
    "BASE_DATA_DIR",
    "DATABASE",
    "DJANGO_DB",
    "DEBUG",
    "LOG_LEVEL",
    "INTERNAL_HOST",
    "LOCAL_FILES_SERVING_ENABLED",
    "LOCAL_FILES_DOCUMENT_ROOT",
    "DISABLE_SIGNUP_WITHOUT_LINK",
    "ENABLE_LEGACY_API_TOKEN",
    "CERT_FILE",
    "KEY_FILE",
}


def label_studio_executable() -> str | None:
    """The ``label-studio`` script next to this interpreter, else on PATH; None when not installed."""
    beside = Path(sys.executable).parent / "label-studio"
    if beside.exists():
        return str(beside)
    return shutil.which("label-studio")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(data_dir: Path, document_root: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _SCRUBBED and not key.startswith(("LABEL_STUDIO_", "HEARTEX_"))
    }
    env.update(
        {
            "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
            "LABEL_STUDIO_USERNAME": USERNAME,
            "LABEL_STUDIO_PASSWORD": PASSWORD,
            "LABEL_STUDIO_USER_TOKEN": TOKEN,
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED": "true",
            "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT": str(document_root),
            "LATEST_VERSION_CHECK": "false",
            "COLLECT_ANALYTICS": "false",
            "SENTRY_DSN": "",
            "FRONTEND_SENTRY_DSN": "",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@dataclass
class LabelStudioServer:
    url: str
    token: str
    document_root: Path
    data_dir: Path
    log_path: Path
    process: subprocess.Popen
    startup_s: float
    from_template: bool

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """SIGTERM to our own process group (the server and its workers), SIGKILL after 10 s."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200 and b"UP" in response.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _die_with_parent() -> None:
    """Linux: SIGTERM the server when the test process dies without stopping it."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _launch(
    executable: str, data_dir: Path, document_root: Path, log_path: Path
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [executable, "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port)],
            env=server_env(data_dir, document_root),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() signals exactly it
            preexec_fn=_die_with_parent,
        )
    return process, url


def _wait_healthy(server: LabelStudioServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"label-studio exited with {server.process.returncode}; log"
                f" {server.log_path}:\n{server.log()[-3000:]}"
            )
        if _healthy(server.url):
            return
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(
        f"label-studio did not answer /health within {timeout:.0f} s; log"
        f" {server.log_path}:\n{server.log()[-3000:]}"
    )


def _start(
    executable: str, data_dir: Path, document_root: Path, log_path: Path, from_template: bool
) -> LabelStudioServer:
    started = time.monotonic()
    process, url = _launch(executable, data_dir, document_root, log_path)
    server = LabelStudioServer(url, TOKEN, document_root, data_dir, log_path, process, 0.0, from_template)
    _wait_healthy(server, STARTUP_TIMEOUT_S)
    server.startup_s = time.monotonic() - started
    return server


def template_dir(cache_root: Path, executable: str, document_root: Path) -> Path:
    """An already-migrated data dir with the test user, org and legacy token (built once, atomically)."""
    version = metadata.version("label-studio")
    template = cache_root / f"label-studio-{version}"
    if (template / "READY").exists():
        return template
    cache_root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="building-", dir=cache_root))
    server = _start(
        executable, building / "data", document_root, building / "server.log", from_template=False
    )
    server.stop()
    (building / "data" / "READY").write_text(version)
    try:
        os.rename(building / "data", template)
    except OSError:  # another session finished first: use theirs
        pass
    shutil.rmtree(building, ignore_errors=True)
    return template


def start_server(cache_root: Path, workdir: Path, document_root: Path) -> LabelStudioServer:
    """A running server on a copy of the template; the caller stops it with ``.stop()``."""
    executable = label_studio_executable()
    if executable is None:
        raise RuntimeError("label-studio is not installed (pip install -e '.[test]')")
    template_existed = (cache_root / f"label-studio-{metadata.version('label-studio')}" / "READY").exists()
    template = template_dir(cache_root, executable, document_root)
    data_dir = workdir / "label-studio-data"
    shutil.copytree(template, data_dir)
    return _start(
        executable, data_dir, document_root, workdir / "label-studio.log", from_template=template_existed
    )
