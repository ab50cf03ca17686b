"""Milliseconds since the call started: the time base of transcript offsets and metrics."""

import time


class CallClock:
    def __init__(self) -> None:
        self._start = time.monotonic()

    def ms(self) -> int:
        return int((time.monotonic() - self._start) * 1000)
