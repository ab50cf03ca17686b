"""Finding the echoes of the callers' bursts in the agent audio, and pairing them with the bursts.

The emulator echoes the caller's audio `ECHO_DELAY` later. A burst's echo begins where the agent
audio (PCM16, 24 kHz) turns loud after at least `QUIET_SECONDS` of quiet. Each burst is paired
with the first echo onset that follows it within `PAIRING_WINDOW`; its latency is the time between
sending the burst's first chunk and receiving the message with the echo's first loud sample, minus
`ECHO_DELAY`. A further onset paired with the same burst means the echo had a gap: audio of the
burst went missing, or silence was put in its middle.

The emulator steps once per 80 ms of input, so an onset waits for the rest of its step before its
echo can leave. The agent audio arrives one message per step, so where the onset sits in its
message tells how much of the step came after it; the caller sends whole chunks, starting with the
onset's, so the step was complete once the chunk holding its last sample was sent: 0-80 ms after
the onset's, a whole number of chunks. `EchoLatency.unframed` leaves that wait out (what remains
includes the codecs' own delay).

`echo_account` accounts for every burst the callers sent: one whose echo never came back within
the pairing window is lost, and counts in the percentiles as infinitely late, never as absent.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from voice.audio.base import FULL_SCALE, PCM_RATE

ECHO_DELAY = 0.240  # the emulator's 3 steps of 80 ms
QUIET_SECONDS = 0.3
LOUD = 0.05 * FULL_SCALE  # a sample above this is the tone (it peaks near 0.3 of full scale)
PAIRING_WINDOW = (0.2, 2.0)  # seconds after a burst: an onset then is that burst's echo


@dataclass(frozen=True)
class EchoOnset:
    arrived: float  # event-loop time the message arrived
    samples_after: int  # samples of that message from the onset to its end


@dataclass(frozen=True)
class EchoLatency:
    raw: float  # seconds, ECHO_DELAY already subtracted
    unframed: float  # raw, less the wait for the emulator's step to fill


class EchoOnsetDetector:
    """Fed the agent audio message by message; returns the burst onsets it contains."""

    def __init__(self) -> None:
        self._position = 0  # samples seen so far
        self._last_loud = -(10**9)

    def feed(self, data: bytes, arrived: float) -> list[EchoOnset]:
        samples = np.frombuffer(data, dtype="<i2", count=len(data) // 2)
        loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > LOUD) + self._position
        onsets = []
        if loud.size:
            before = np.concatenate(([self._last_loud], loud[:-1]))
            for at in loud[loud - before > QUIET_SECONDS * PCM_RATE]:
                onsets.append(EchoOnset(arrived, int(self._position + len(samples) - at)))
            self._last_loud = int(loud[-1])
        self._position += len(samples)
        return onsets


@dataclass(frozen=True)
class EchoPairing:
    latencies: list[EchoLatency]  # one per burst whose echo came back
    broken: int  # further onsets within an echo: gaps of `QUIET_SECONDS` or more inside it


def step_wait(samples_after: int, chunk_seconds: float) -> float:
    """Seconds from sending the chunk an onset starts to sending the chunk that completes its
    emulator step, `samples_after` samples of the step being the onset and what follows it."""
    chunk = max(1, round(chunk_seconds * PCM_RATE))
    return max(0, samples_after - 1) // chunk * chunk / PCM_RATE


def echo_pairing(
    bursts_sent: list[float], echoes: list[EchoOnset], chunk_seconds: float
) -> EchoPairing:
    """Pair each burst with the first echo onset in its window; count the onsets after it."""
    latencies = []
    paired: set[int] = set()
    broken = 0
    sent = np.asarray(bursts_sent)
    low, high = PAIRING_WINDOW
    for echo in echoes:
        burst = int(np.searchsorted(sent, echo.arrived - low, side="right")) - 1
        if burst < 0 or echo.arrived - sent[burst] > high:
            continue
        if burst in paired:
            broken += 1
            continue
        paired.add(burst)
        raw = echo.arrived - sent[burst] - ECHO_DELAY
        latencies.append(EchoLatency(raw, raw - step_wait(echo.samples_after, chunk_seconds)))
    return EchoPairing(latencies, broken)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0-100): always one of `values`, `inf` included."""
    ranked = sorted(values)
    return ranked[max(0, math.ceil(share / 100 * len(ranked)) - 1)]


@dataclass(frozen=True)
class EchoAccount:
    sent: int  # bursts
    returned: int  # bursts whose echo came back
    broken: int  # gaps inside echoes
    raw: list[float]  # seconds, one per burst sent; `inf` for a lost burst
    unframed: list[float]

    @property
    def lost(self) -> int:
        return self.sent - self.returned

    @property
    def share(self) -> float:
        return self.returned / self.sent if self.sent else 0.0


def echo_account(
    calls: Iterable[tuple[list[float], list[EchoOnset]]], *, chunk_seconds: float
) -> EchoAccount:
    """Every burst of every call, given as (bursts sent, echo onsets received), the callers
    sending chunks of `chunk_seconds`."""
    raw: list[float] = []
    unframed: list[float] = []
    sent = returned = broken = 0
    for bursts, echoes in calls:
        pairing = echo_pairing(bursts, echoes, chunk_seconds)
        lost = [math.inf] * (len(bursts) - len(pairing.latencies))
        raw += [float(latency.raw) for latency in pairing.latencies] + lost
        unframed += [float(latency.unframed) for latency in pairing.latencies] + lost
        sent += len(bursts)
        returned += len(pairing.latencies)
        broken += pairing.broken
    return EchoAccount(sent, returned, broken, raw, unframed)
