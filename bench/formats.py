"""The callers' wire formats the benchmark loads the bridge with, each as a browser sends it."""

from dataclasses import dataclass

from bench.tones import Chunks, caller_chunks
from bench.webm import mediarecorder_chunks, timeslice_ms
from voice.audio.call_decoder import CallerAudioDecoder


@dataclass(frozen=True)
class CallerFormat:
    name: str  # as `--formats` takes it
    title: str  # as the report says it
    wire: str  # the `format` connect parameter
    rate: int  # pcm16: the `rate` connect parameter; Opus: the recording's

    @property
    def opus(self) -> bool:
        return self.wire != "pcm16"

    def query(self, frame_ms: int) -> dict[str, str | int]:
        """The connect parameters that declare this format and its frames."""
        rate = {} if self.opus else {"rate": self.rate}
        return {"format": self.wire, **rate, "frame_ms": frame_ms}

    def chunk_ms(self, frame_ms: int) -> int:
        """How much audio each message holds: MediaRecorder's chunks hold whole Opus packets."""
        return timeslice_ms(frame_ms) if self.opus else frame_ms

    def chunks(self, seconds: float, frame_ms: int) -> Chunks:
        if self.opus:
            return mediarecorder_chunks(seconds, frame_ms)
        return caller_chunks(seconds, rate=self.rate, frame_ms=frame_ms)

    def decoder(self) -> CallerAudioDecoder:
        """A new decoder, as the server makes one per call."""
        return CallerAudioDecoder(self.wire, self.rate)


FORMATS = {
    f.name: f
    for f in (
        CallerFormat("pcm16-16k", "pcm16 16 kHz", "pcm16", 16_000),
        CallerFormat("pcm16-24k", "pcm16 24 kHz", "pcm16", 24_000),
        CallerFormat("webm-opus", "WebM/Opus 48 kHz (MediaRecorder)", "webm-opus", 48_000),
    )
}
