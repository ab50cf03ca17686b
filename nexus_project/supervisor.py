"""The child processes of `make run`: helpers are restarted when they die, the server is not.

Each child runs in its own process group, so stopping it stops whatever it started too. A
helper (the Celery worker and beat, the sidecar emulator) that dies is started again, with a
message, while the web server goes on serving; one that keeps dying (`MAX_RESTARTS` within
`RESTART_WINDOW_SECONDS`) is given up on. `watch()` returns when a child that is not restarted
(the web server) exits.
"""

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

POLL_SECONDS = 0.5
MAX_RESTARTS = 5
RESTART_WINDOW_SECONDS = 60.0
STOP_SECONDS = 10.0


@dataclass
class Child:
    name: str
    command: tuple[str, ...]
    restart: bool
    process: subprocess.Popen
    restarts: list[float] = field(default_factory=list)  # when it was restarted


class Supervisor:
    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.children: list[Child] = []

    def start(self, name: str, *command: str, restart: bool) -> None:
        self.children.append(Child(name, command, restart, self._spawn(command)))

    def _spawn(self, command: tuple[str, ...]) -> subprocess.Popen:
        return subprocess.Popen(command, cwd=self.cwd, start_new_session=True)

    def watch(self) -> str:
        """Restart helpers as they die; return the name of the first other child to exit."""
        while True:
            for child in self.children:
                code = child.process.poll()
                if code is None:
                    continue
                if not child.restart or not self._may_restart(child):
                    return child.name
                print(f"{child.name} stopped (exit code {code}): starting it again.", flush=True)
                child.process = self._spawn(child.command)
            time.sleep(POLL_SECONDS)

    def _may_restart(self, child: Child) -> bool:
        now = time.monotonic()
        child.restarts = [at for at in child.restarts if now - at < RESTART_WINDOW_SECONDS]
        if len(child.restarts) >= MAX_RESTARTS:
            print(f"{child.name} keeps stopping: giving up on it.", flush=True)
            return False
        child.restarts.append(now)
        return True

    def stop_all(self) -> None:
        """SIGTERM every child's process group; SIGKILL those still there after a while."""
        for child in self.children:
            if child.process.poll() is None:
                os.killpg(child.process.pid, signal.SIGTERM)
        for child in self.children:
            try:
                child.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                print(f"{child.name} did not stop in time: killing it.", flush=True)
                os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
