"""The benchmark's child processes: each in its own session, all stopped together at the end.

A child gets its own session, so a Ctrl+C in the terminal reaches only the benchmark, which then
stops its children; and the kernel sends it SIGTERM if the benchmark dies first
(`PR_SET_PDEATHSIG`), so even a killed benchmark leaves no daphne or sidecar farm behind.
Stopping sends SIGTERM, waits, then SIGKILLs the child and the descendants it had (e.g. daphne's
speech-to-text workers), by process id.
"""

import contextlib
import ctypes
import signal
import socket
import subprocess
from pathlib import Path

import psutil
from django.conf import settings

PR_SET_PDEATHSIG = 1
STOP_SECONDS = 10.0
LOG_TAIL_LINES = 20


class BenchError(RuntimeError):
    """The benchmark could not set up what it measures."""


def _terminate_with_parent() -> None:
    """In the child, before exec: the kernel sends SIGTERM when the benchmark dies."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def log_tail(path: Path) -> str:
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    return "\n".join(lines[-LOG_TAIL_LINES:])


class ChildProcesses:
    """Started children, their output in log files under `log_dir`."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._children: list[tuple[str, subprocess.Popen]] = []

    def start(
        self, name: str, command: list[str], *, env: dict[str, str] | None = None
    ) -> subprocess.Popen:
        """Start `command` with its output in `<log_dir>/<name>.log`."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log(name).open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_terminate_with_parent,  # started before any thread exists
            )
        self._children.append((name, process))
        return process

    def log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def failed(self, name: str, process: subprocess.Popen, what: str) -> BenchError:
        """The error for a child that did not come up, with the end of its log."""
        state = f"exited with {process.returncode}" if process.poll() is not None else "running"
        log = self.log(name)
        return BenchError(f"{name} {what} ({state}); the end of {log}:\n{log_tail(log)}")

    def stop(self, name: str) -> None:
        """Stop the child called `name` as `stop_all` stops them all."""
        self._stop([child for child in self._children if child[0] == name])

    def stop_all(self) -> None:
        """SIGTERM every child, wait, then SIGKILL what is left of each (descendants too)."""
        self._stop(self._children)

    def _stop(self, children: list[tuple[str, subprocess.Popen]]) -> None:
        running = [(name, p, _descendants(p)) for name, p in children if p.poll() is None]
        for _, process, _ in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for name, process, descendants in running:
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop within {STOP_SECONDS:g} s: killing it.")
                process.kill()
                process.wait()
            for left in descendants:
                with contextlib.suppress(psutil.NoSuchProcess):
                    if left.is_running():  # checks the pid was not reused since
                        left.kill()
        self._children = [child for child in self._children if child not in children]


def _descendants(process: subprocess.Popen) -> list[psutil.Process]:
    try:
        return psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
