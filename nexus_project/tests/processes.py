"""The production image's commands as real processes, for tests: started with an environment of
their own, waited for until they answer, stopped with SIGTERM (killed if they will not go).

The commands are read from the image itself (docker/Dockerfile's CMD, docker/compose.yaml's
worker command), so a test runs what production runs. `production_env()` is production's
environment pointing at the test's PostgreSQL database and Redis: rows a test commits are what
these processes read.
"""

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import yaml
from django.conf import settings
from django.db import connection

from nexus_project.celery import app as celery_app

BASE_DIR = Path(settings.BASE_DIR)
DOCKERFILE = BASE_DIR / "docker" / "Dockerfile"
COMPOSE = BASE_DIR / "docker" / "compose.yaml"
START_SECONDS = 120.0  # a busy 2-core machine may take long to import everything
STOP_SECONDS = 60.0
OUTPUT_TAIL = 6000  # characters of a process's output shown when it fails


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ProcessFailed(AssertionError):
    """A process did not start, or died; the message ends with its output."""


class Process:
    """A command started with `env` (and nothing else of the test's environment), its output
    (stdout and stderr) kept in `log`."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log = log
        self.popen: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("wb") as output:
            self.popen = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=BASE_DIR,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl+C of the test run is not sent to it as well
            )

    def output(self, tail: int | None = OUTPUT_TAIL) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-tail:] if tail else text

    def lines_matching(
        self, pattern: str, count: int = 1, timeout: float = START_SECONDS
    ) -> list[str]:
        """The lines of its output matching `pattern`, once there are `count` (it writes them
        when it gets there: polled); ProcessFailed if they do not come in time."""
        found: list[str] = []

        def enough() -> bool:
            found[:] = [line for line in self.output(None).splitlines() if re.search(pattern, line)]
            return len(found) >= count

        self.wait_until(enough, f"{count} line(s) matching {pattern!r} written", timeout)
        return found

    def failure(self, what: str) -> ProcessFailed:
        return ProcessFailed(f"{self.name}: {what}\n--- its output ---\n{self.output()}")

    def wait_until(
        self, ready: Callable[[], bool], what: str, timeout: float = START_SECONDS
    ) -> None:
        """Poll `ready()` until it holds; ProcessFailed if the process exits or time runs out."""
        assert self.popen is not None
        deadline = time.monotonic() + timeout
        while not ready():
            if self.popen.poll() is not None:
                raise self.failure(f"exited with {self.popen.returncode} before {what}")
            if time.monotonic() > deadline:
                raise self.failure(f"not {what} after {timeout:.0f} s")
            time.sleep(0.2)

    def stop(self, timeout: float = STOP_SECONDS) -> int | None:
        """SIGTERM, then wait for the exit code; killed (None returned) if it outlives `timeout`."""
        if self.popen is None or self.popen.poll() is not None:
            return None if self.popen is None else self.popen.returncode
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)  # its own children too
            self.popen.wait(10)


@contextlib.contextmanager
def running(process: Process, ready: Callable[[], bool], what: str) -> Iterator[Process]:
    """Start `process`, wait until `ready()`, and stop it on the way out, whatever happens."""
    process.start()
    try:
        process.wait_until(ready, what)
        yield process
    finally:
        try:
            process.stop()
        finally:
            process.kill()


@contextlib.asynccontextmanager
async def running_async(
    process: Process, ready: Callable[[], bool], what: str
) -> AsyncIterator[Process]:
    """`running`, for a test whose event loop must go on meanwhile (it serves a sidecar)."""
    process.start()
    try:
        await asyncio.to_thread(process.wait_until, ready, what)
        yield process
    finally:
        try:
            await asyncio.to_thread(process.stop)
        finally:
            process.kill()


# The image's commands.


def _dockerfile_instruction(name: str) -> list[str]:
    """The JSON arguments of the Dockerfile's last `name` instruction (CMD, HEALTHCHECK)."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())  # continuation lines joined
    lines = [line for line in text.splitlines() if line.startswith(f"{name} ")]
    assert lines, f"no {name} in {DOCKERFILE}"
    return json.loads(lines[-1][lines[-1].index("[") :])


def web_command(port: int) -> list[str]:
    """The image's CMD, on 127.0.0.1:`port`, with this Python."""
    command = _dockerfile_instruction("CMD")
    assert command[:3] == ["python", "-m", "nexus_project.serve"], command
    replaced = {"0.0.0.0": "127.0.0.1", "8000": str(port)}
    return [sys.executable, *(replaced.get(part, part) for part in command[1:])]


def healthcheck_command(port: int) -> list[str]:
    """The image's HEALTHCHECK command, aimed at `port` instead of 8000."""
    command = _dockerfile_instruction("HEALTHCHECK")
    assert command[0] == "python", command
    return [sys.executable, *(part.replace(":8000/", f":{port}/") for part in command[1:])]


def worker_command(node_name: str) -> list[str]:
    """compose's worker command with this Python, named `node_name`, logging its tasks."""
    command = yaml.safe_load(COMPOSE.read_text())["services"]["worker"]["command"]
    assert command[:4] == ["celery", "-A", "nexus_project", "worker"], command
    return [sys.executable, "-m", *command, "-n", node_name, "--loglevel", "INFO"]


# Production's environment, on the test's services.


def production_env(secret_key: str = "", **extra: str) -> dict[str, str]:
    """What production's processes get, aimed at the test database and Redis: DEBUG off, a
    secret key, hosts, behind a proxy that ends TLS (X-Forwarded-Proto believed); nothing of
    the test run's own environment but PATH and HOME."""
    database = connection.settings_dict  # the test database, once pytest-django set it up
    socket_dir = database["HOST"] or database["OPTIONS"].get("host", "")
    user = database["USER"]
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "nexus_project.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secret_key or secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "localhost,.localhost,127.0.0.1",
        "DJANGO_TLS_PROXY_HEADER": "1",
        "DATABASE_URL": f"postgres://{user}@/{database['NAME']}?host={quote(socket_dir)}",
        "REDIS_URL": settings.REDIS_URL,
        "NEXUS_TOOL_MODULES": "examples.tenants.joes.tools",
        "NEXUS_DRAIN_SECONDS": "5",
        "LOG_LEVEL": "INFO",
        **extra,
    }


def answers_health(port: int) -> Callable[[], bool]:
    """Whether the web process on `port` answers `/healthz` with 200."""

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                return reply.status == 200
        except OSError:
            return False

    return ready


def answers_ping(node_name: str) -> Callable[[], bool]:
    """Whether the Celery worker `node_name` answers a ping over the broker."""

    def ready() -> bool:
        return bool(celery_app.control.ping(destination=[node_name], timeout=1.0))

    return ready


def web_process(port: int, env: dict[str, str], log_dir: Path, name: str = "web") -> Process:
    return Process(name, web_command(port), env, log_dir / f"{name}.log")


def worker_process(env: dict[str, str], log_dir: Path) -> tuple[Process, str]:
    """The worker process and its node name. Tasks queued by earlier tests are dropped first:
    it runs only what this test sends."""
    celery_app.control.purge()
    node_name = f"nexus-test-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    return Process("worker", worker_command(node_name), env, log_dir / "worker.log"), node_name


def collectstatic(env: dict[str, str]) -> subprocess.CompletedProcess:
    """The image's build step: `collectstatic` into `env["STATIC_ROOT"]`."""
    return subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
