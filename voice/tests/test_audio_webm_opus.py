"""WebM/Opus from MediaRecorder: one demuxer thread per call, fed chunk by chunk."""

import contextlib
import threading

import numpy as np
import pytest

from bench.signals import dominant_frequency, tone
from voice.audio import PCM_RATE, AudioDecodeError, caller_decoder
from voice.tests.audio_fixtures import mediarecorder_webm

pytestmark = pytest.mark.timeout(30)  # a hanging demuxer must fail the test, not stall the run


def random_chunks(data: bytes, seed: int = 11) -> list[bytes]:
    rng = np.random.default_rng(seed)
    chunks, position = [], 0
    while position < len(data):
        size = int(rng.integers(1, 900))
        chunks.append(data[position : position + size])
        position += size
    return chunks


def demuxer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "webm-demuxer"]


def test_webm_in_random_chunks_gives_the_tone_back_as_it_arrives():
    # Given one second of 440 Hz recorded as live WebM/Opus
    data = mediarecorder_webm(tone(440, 1.0, 48_000))
    assert data.startswith(b"\x1a\x45\xdf\xa3")
    decoder = caller_decoder("webm-opus", PCM_RATE)

    # When it arrives in random chunks
    parts = [decoder.decode(chunk) for chunk in random_chunks(data)]
    tail = decoder.flush()

    # Then the audio came back from the calls that fed it, not only at the end
    streamed = sum(map(len, parts))
    assert streamed >= PCM_RATE - 2 * 480
    # and it is one second of 440 Hz at 24 kHz
    decoded = np.concatenate([*parts, tail])
    assert abs(len(decoded) - PCM_RATE) <= 480
    assert dominant_frequency(decoded) == pytest.approx(440, abs=2)


def test_garbage_raises_instead_of_hanging_and_a_new_recording_recovers():
    garbage = np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    decoder = caller_decoder("webm-opus", PCM_RATE)

    for _ in range(2):  # the decoder keeps saying so, chunk after chunk
        with pytest.raises(AudioDecodeError, match="EBML"):
            decoder.decode(garbage)
    with pytest.raises(AudioDecodeError, match="invalid WebM"):  # looks like WebM, is not
        decoder.decode(b"\x1a\x45\xdf\xa3" + garbage)
        for _ in range(100):  # FFmpeg may read on for a while (here ~160 kB) before it gives up
            decoder.decode(garbage)

    recording = mediarecorder_webm(tone(440, 0.5, 48_000))
    decoded = np.concatenate([decoder.decode(chunk) for chunk in random_chunks(recording)])
    decoder.close()
    assert dominant_frequency(decoded) == pytest.approx(440, abs=2)


def test_garbage_inside_a_stream_does_not_hang():
    data = mediarecorder_webm(tone(440, 1.0, 48_000))
    middle = len(data) // 2
    decoder = caller_decoder("webm-opus", PCM_RATE)

    first = decoder.decode(data[:middle])
    # the demuxer may resynchronize by itself or report the damage; either way the call returns
    with contextlib.suppress(AudioDecodeError):
        decoder.decode(b"\x00" * 300)
    decoder.decode(data[middle:])
    decoder.close()

    assert dominant_frequency(first) == pytest.approx(440, abs=2)


def test_close_stops_the_demuxer_thread():
    before = len(demuxer_threads())
    decoder = caller_decoder("webm-opus", PCM_RATE)
    decoder.decode(mediarecorder_webm(tone(440, 0.2, 48_000))[:500])
    assert len(demuxer_threads()) == before + 1

    decoder.close()

    assert len(demuxer_threads()) == before
