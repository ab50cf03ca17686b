"""A call clock moved by hand: audio placed on a call's timeline without waiting for it."""

from voice.call.clock import CallClock


class HandClock(CallClock):
    """Reads `now_ms`, which the caller sets."""

    def __init__(self) -> None:
        super().__init__()
        self.now_ms = 0

    def ms(self) -> int:
        return self.now_ms
