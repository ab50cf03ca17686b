"""The server under test: one daphne process serving `nexus_project.asgi`, with the sidecar pool
and the speech-to-text it is given, and a Celery worker beside it.

It listens on a free port of 127.0.0.1, with `PERSONAPLEX_URLS` naming the sidecar farm, and is
ready once it answers an HTTP request (any status).
"""

import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from bench.processes import ChildProcesses, free_port

HOST = "127.0.0.1"
START_SECONDS = 60.0
CELERY = "celery-worker"


@dataclass(frozen=True)
class Server:
    pid: int
    port: int
    name: str  # among the benchmark's child processes

    def call_url(self, query: str) -> str:
        return f"ws://{HOST}:{self.port}/ws/call/?{query}"


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # any status: Django answered
    except OSError:
        return False


def daphne_start(
    processes: ChildProcesses,
    *,
    sidecar_urls: list[str],
    speech_to_text: str | None = None,
    label: str = "",
) -> Server:
    """Start daphne as one of `processes`, with `NEXUS_SPEECH_TO_TEXT=speech_to_text` if given
    and `label` in its log's name; return once it answers HTTP."""
    port = free_port(HOST)
    env = {**os.environ, "PERSONAPLEX_URLS": ",".join(sidecar_urls)}
    if speech_to_text is not None:
        env["NEXUS_SPEECH_TO_TEXT"] = speech_to_text
    name = f"daphne-stt-{env.get('NEXUS_SPEECH_TO_TEXT', 'offline')}"
    if label:
        name += f"-{label}"
    command = [sys.executable, "-m", "nexus_project.serve", "-b", HOST, "-p", str(port)]
    process = processes.start(name, [*command, "nexus_project.asgi:application"], env=env)
    deadline = time.monotonic() + START_SECONDS
    while not _answers(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise processes.failed(name, process, f"did not answer within {START_SECONDS:g} s")
        time.sleep(0.1)
    return Server(pid=process.pid, port=port, name=name)


def celery_start(processes: ChildProcesses) -> int:
    """Start a Celery worker as the product runs it (post-call analysis, slow tools); return its
    pid once it is ready."""
    command = [sys.executable, "-m", "celery", "-A", "nexus_project", "worker", "--purge"]
    options = ["--pool", "threads", "--concurrency", "4", "--loglevel", "INFO"]
    process = processes.start(CELERY, [*command, *options])
    deadline = time.monotonic() + START_SECONDS
    while " ready." not in processes.log(CELERY).read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise processes.failed(CELERY, process, f"not ready within {START_SECONDS:g} s")
        time.sleep(0.1)
    return process.pid
