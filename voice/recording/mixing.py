"""Both sides of a call on one timeline: each side's PCM24k placed at its time, summed.

Sample 0 is the call's start (the time base of transcript offsets). The caller's audio is
placed where it arrived, its frames end to end while they come at the pace they were captured
(network jitter does not cut the caller's voice into pieces); after a pause in what the caller
sends, the next frame starts at its own time. The agent's audio is placed when it is handed to
the caller, end to end while one piece follows the last before it has played out; a barge-in
cuts what was placed beyond that moment (the caller's client drops it too).

Audio older than `HOLD_SAMPLES` is mixed (summed, clipped to 16 bits) and taken out for the
writer, so only the last second or so is ever held here; what neither side said is silence,
counted rather than made of zeros.
"""

import numpy as np

from voice.audio.base import PCM_RATE

HOLD_SAMPLES = PCM_RATE  # a caller frame up to 1 s late is still placed at its time
GAP_SAMPLES = PCM_RATE // 4  # caller audio arriving this much after the last ends: after a pause
AHEAD_SAMPLES = PCM_RATE  # caller audio sent faster than real time runs ahead by at most this
_INT16 = np.iinfo(np.int16)
CALLER, AGENT = 0, 1  # the rows of the tracks


class CallMix:
    def __init__(self) -> None:
        self.taken = 0  # samples handed on so far: the tracks below start there
        self._tracks = np.zeros((2, 0), dtype=np.int32)  # caller and agent, from `taken` on
        self._caller_end = 0
        self._agent_end = 0

    def caller(self, pcm: np.ndarray, *, arrived: int) -> None:
        """The caller's `pcm`, whose frame reached the call at sample `arrived` (its end)."""
        own_start = arrived - len(pcm)
        follows = own_start - GAP_SAMPLES <= self._caller_end <= own_start + AHEAD_SAMPLES
        start = self._caller_end if follows else own_start
        self._caller_end = self._place(CALLER, start, pcm)

    def agent(self, pcm: np.ndarray, *, now: int) -> None:
        """The agent's `pcm`, handed to the caller at sample `now`."""
        self._agent_end = self._place(AGENT, max(self._agent_end, now), pcm)

    def agent_cut(self, *, now: int) -> None:
        """A barge-in at sample `now`: the agent's audio placed beyond it is dropped."""
        if self._agent_end > now:
            self._tracks[AGENT, max(now - self.taken, 0) :] = 0
            self._agent_end = max(now, self.taken)

    def take(self, until: int) -> tuple[np.ndarray, int]:
        """The mix up to sample `until` not taken yet: its audio, then that many samples of
        silence (nothing was placed there)."""
        wanted = until - self.taken
        if wanted <= 0:
            return np.zeros(0, dtype=np.int16), 0
        held = min(wanted, self._tracks.shape[1])
        mixed = np.clip(self._tracks[:, :held].sum(axis=0), _INT16.min, _INT16.max)
        self._tracks = self._tracks[:, held:]
        self.taken = until
        return mixed.astype(np.int16), wanted - held

    def _place(self, track: int, start: int, pcm: np.ndarray) -> int:
        """Add `pcm` to `track` from sample `start` (anything before `taken` is too late: cut);
        return where it ends."""
        end = start + len(pcm)
        if start < self.taken:
            pcm, start = pcm[self.taken - start :], self.taken
        if not len(pcm):
            return end
        offset = start - self.taken
        grow = offset + len(pcm) - self._tracks.shape[1]
        if grow > 0:
            self._tracks = np.concatenate([self._tracks, np.zeros((2, grow), np.int32)], axis=1)
        self._tracks[track, offset : offset + len(pcm)] += pcm
        return end
