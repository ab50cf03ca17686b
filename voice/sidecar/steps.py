"""The caller's Ogg pages, sent to the sidecar a model step at a time.

PersonaPlex runs its model once per `STEP_SAMPLES` of input (80 ms, PERSONAPLEX.md "Audio"):
audio that does not complete a step waits in the sidecar's buffer, whenever it was sent. So the
bridge holds the pages of a step and sends them as one message the moment the step is complete.
The sidecar steps exactly as early as if every page had gone on its own (it decodes each Opus
packet to its whole length, so its steps and the stream's samples line up), and it gets one
message per step instead of one per caller frame: each message costs a wake-up, a write and a
read on both ends.
"""

from voice.sidecar.protocol import STEP_SAMPLES


class StepBatch:
    def __init__(self) -> None:
        self._pages: list[bytes] = []
        self._steps = 0  # steps of the stream sent so far

    def add(self, pages: list[bytes], encoded_samples: int) -> bytes | None:
        """Hold `pages`, which bring the stream's encoded audio to `encoded_samples`; return the
        bytes to send now, once they complete a step (every page held), else None."""
        self._pages += pages
        steps = encoded_samples // STEP_SAMPLES
        if steps == self._steps or not self._pages:
            return None
        self._steps = steps
        data, self._pages = b"".join(self._pages), []
        return data
