"""CPU time and private memory (USS) of the processes under test, read with psutil.

`Watched` follows one process and its descendants (daphne's: speech-to-text workers);
`machine_busy` counts every process, ours or not. CPU is user + system seconds; a child's CPU
counts from zero when it first appears, and a child that exits between two snapshots loses what
it used since the first one.
"""

from dataclasses import dataclass

import psutil

MB = 1024 * 1024


@dataclass(frozen=True)
class CpuSnapshot:
    own: float  # seconds
    children: dict[int, float]  # pid -> seconds


@dataclass(frozen=True)
class CpuUsed:
    own: float
    children: float


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


class Watched:
    """A process, with its descendants unless `descendants` is False (the benchmark itself,
    whose children are the processes under test)."""

    def __init__(self, pid: int, *, descendants: bool = True) -> None:
        self.process = psutil.Process(pid)
        self._descendants = descendants

    def _children(self) -> list[psutil.Process]:
        return self.process.children(recursive=True) if self._descendants else []

    def cpu(self) -> CpuSnapshot:
        children = {}
        for child in self._children():
            try:
                children[child.pid] = _cpu_seconds(child)
            except psutil.NoSuchProcess:
                continue
        return CpuSnapshot(_cpu_seconds(self.process), children)

    def uss(self) -> int:
        """The process's own private memory, in bytes."""
        return self.process.memory_full_info().uss

    def children_uss(self) -> list[int]:
        """The private memory of each descendant, in bytes."""
        sizes = []
        for child in self._children():
            try:
                sizes.append(child.memory_full_info().uss)
            except psutil.NoSuchProcess:
                continue
        return sizes


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all processes, all CPUs) since boot, as
    /proc/stat counts them."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def cpu_total(watched: "dict[str, Watched]") -> float:
    """CPU seconds the watched processes and their descendants have used so far."""
    snapshots = [w.cpu() for w in watched.values()]
    return sum(s.own + sum(s.children.values()) for s in snapshots)


def cpu_used(before: CpuSnapshot, after: CpuSnapshot) -> CpuUsed:
    children = sum(t - before.children.get(pid, 0.0) for pid, t in after.children.items())
    return CpuUsed(after.own - before.own, children)
