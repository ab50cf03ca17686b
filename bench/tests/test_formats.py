"""The callers' formats: every burst starts a frame, the WebM stream is cut as MediaRecorder cuts
it and decodes back to the tone, and the codec work is timed in the order the server meets it."""

import numpy as np
import pytest

from bench.codec_baseline import timeline
from bench.formats import FORMATS
from bench.options import options_parse
from bench.signals import dominant_frequency
from bench.tenant import call_limit
from bench.tones import FREQUENCY, PERIOD_MS, caller_chunks
from voice.audio.base import PCM_RATE, join_pcm
from voice.audio.webm import EBML_MAGIC


@pytest.mark.parametrize("frame_ms", [10, 20, 40, 60])
def test_every_burst_starts_a_pcm16_frame_whatever_its_length(frame_ms):
    chunks = caller_chunks(2 * PERIOD_MS / 1000, rate=16_000, frame_ms=frame_ms)
    samples = np.frombuffer(b"".join(chunk for chunk, _ in chunks), dtype="<i2")

    assert len(chunks) == 2 * PERIOD_MS // frame_ms
    assert {len(chunk) for chunk, _ in chunks} == {16 * frame_ms * 2}
    starts = [index * frame_ms * 16 for index, (_, burst) in enumerate(chunks) if burst]
    assert starts == [0, PERIOD_MS * 16]
    for start in starts:  # silence just before, the tone from the first sample on
        assert samples[start - 1] == 0 if start else True
        assert np.abs(samples[start : start + 16]).max() > 0


@pytest.mark.parametrize(("frame_ms", "chunk_ms"), [(10, 20), (20, 20), (40, 40), (60, 60)])
def test_webm_comes_in_timeslice_chunks_that_decode_back_to_the_tone_as_they_arrive(
    frame_ms, chunk_ms
):
    webm = FORMATS["webm-opus"]
    chunks = webm.chunks(2 * PERIOD_MS / 1000, frame_ms)
    decoder = webm.decoder()

    decoded = [decoder.decode(chunk).pcm for chunk, _ in chunks]
    decoder.close()

    assert webm.chunk_ms(frame_ms) == chunk_ms
    assert chunks[0][0].startswith(EBML_MAGIC)
    assert not any(chunk.startswith(EBML_MAGIC) for chunk, _ in chunks[1:])
    assert [index for index, (_, burst) in enumerate(chunks) if burst] == [
        0,
        PERIOD_MS // chunk_ms,
    ]
    # Each chunk's audio comes back from the call that fed it, a timeslice of it.
    assert [len(pcm) for pcm in decoded[1:10]] == [PCM_RATE * chunk_ms // 1000] * 9
    burst = join_pcm(decoded)[PCM_RATE // 10 : PCM_RATE]
    assert dominant_frequency(burst) == pytest.approx(FREQUENCY, abs=2.0)


def test_the_codec_work_follows_the_server_frame_by_frame_and_step_by_step():
    frames = [0.0, 0.04, 0.08, 0.12, 0.16]
    steps = [0.08, 0.16]

    assert timeline(frames, steps) == [(0, 0), (0, 1), (0, 2), (1, 0), (0, 3), (0, 4), (1, 1)]


def test_formats_and_frames_are_chosen_on_the_command_line():
    default = options_parse([])
    chosen = options_parse(["--formats", "webm-opus,pcm16-16k", "--frame-ms", "20"])

    assert default.formats == ("pcm16-16k", "pcm16-24k", "webm-opus")
    assert default.frame_ms == 40
    assert chosen.formats == ("webm-opus", "pcm16-16k")
    assert chosen.frame_ms == 20
    assert FORMATS["pcm16-24k"].query(40) == {"format": "pcm16", "rate": 24_000, "frame_ms": 40}
    assert FORMATS["webm-opus"].query(40) == {"format": "webm-opus", "frame_ms": 40}
    with pytest.raises(SystemExit):
        options_parse(["--formats", "mp3"])
    with pytest.raises(SystemExit):
        options_parse(["--frame-ms", "30"])


def test_the_tenant_leaves_room_for_calls_still_being_released():
    assert call_limit(4) == 10
    assert call_limit(40) == 82
