"""A farm of PersonaPlex emulators in one process: `python -m bench.sidecar_farm N FILE`.

It serves N emulator applications on N free ports of 127.0.0.1 (each holds one conversation at a
time, like a real PersonaPlex server, and loads its prompts in `LOAD_SECONDS`), writes their URLs
to FILE as a JSON list once all of them listen, and serves until SIGTERM or SIGINT.
`sidecar_farm_start` runs it as a child of the benchmark and returns the URLs.
"""

import asyncio
import contextlib
import json
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.processes import ChildProcesses
from voice.sidecar.emulator import EmulatorConfig, running_emulator

LOAD_SECONDS = 0.05
START_SECONDS = 30.0
NAME = "sidecar-farm"


@dataclass(frozen=True)
class SidecarFarm:
    pid: int
    urls: list[str]


async def _serve(count: int, urls_file: Path) -> None:
    config = EmulatorConfig(load_base_seconds=LOAD_SECONDS, load_per_word_seconds=0.0)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        urls = [await stack.enter_async_context(running_emulator(config)) for _ in range(count)]
        partial = urls_file.with_suffix(".part")
        partial.write_text(json.dumps(urls))
        partial.replace(urls_file)  # whole or absent: the benchmark never reads half a list
        await stop.wait()


def sidecar_farm_start(processes: ChildProcesses, count: int) -> SidecarFarm:
    """Start the farm as one of `processes`; return once all its emulators serve."""
    urls_file = processes.log_dir / "sidecar-urls.json"
    urls_file.unlink(missing_ok=True)
    command = [sys.executable, "-m", "bench.sidecar_farm", str(count), str(urls_file)]
    process = processes.start(NAME, command)
    deadline = time.monotonic() + START_SECONDS
    while not urls_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise processes.failed(NAME, process, f"did not serve within {START_SECONDS:g} s")
        time.sleep(0.05)
    return SidecarFarm(process.pid, json.loads(urls_file.read_text()))


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]), Path(sys.argv[2])))
