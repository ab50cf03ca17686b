"""Raw PCM16 caller audio at any rate becomes PCM24k; agent audio leaves as 24 kHz s16le."""

import numpy as np
import pytest

from bench.signals import dominant_frequency, tone
from voice.audio import PCM_RATE, caller_decoder, caller_encoder


def odd_chunks(data: bytes, seed: int = 7) -> list[bytes]:
    """Split ``data`` into random chunks, most of them an odd number of bytes."""
    rng = np.random.default_rng(seed)
    chunks, position = [], 0
    while position < len(data):
        size = int(rng.integers(1, 700)) | 1
        chunks.append(data[position : position + size])
        position += size
    return chunks


@pytest.mark.parametrize("rate", [8_000, 16_000, 24_000, 44_100, 48_000])
def test_tone_at_any_rate_comes_out_at_24k(rate):
    # Given one second of 440 Hz at the caller's rate, cut into odd byte counts
    data = tone(440, 1.0, rate).astype("<i2").tobytes()
    decoder = caller_decoder("pcm16", rate)

    # When it is decoded chunk by chunk
    parts = [decoder.decode(chunk) for chunk in odd_chunks(data)]
    pcm = np.concatenate([*parts, decoder.flush()])

    # Then one second of 440 Hz comes out at 24 kHz
    assert pcm.dtype == np.int16
    assert abs(len(pcm) - PCM_RATE) <= 480
    assert dominant_frequency(pcm) == pytest.approx(440, abs=2)
    # and chunking changes nothing: the resampler is streaming, so there is no click to find
    oneshot = caller_decoder("pcm16", rate)
    whole = np.concatenate([oneshot.decode(data), oneshot.flush()])
    assert len(whole) == len(pcm)
    assert np.abs(whole.astype(np.int32) - pcm).max() <= 1


def test_odd_byte_is_carried_to_the_next_chunk():
    samples = np.array([1000, -2000, 32767], dtype="<i2").tobytes()
    decoder = caller_decoder("pcm16", PCM_RATE)

    first = decoder.decode(samples[:3])
    second = decoder.decode(samples[3:])

    assert first.tolist() == [1000]
    assert second.tolist() == [-2000, 32767]


@pytest.mark.parametrize("rate", [7_999, 48_001])
def test_rate_out_of_range_is_refused(rate):
    with pytest.raises(ValueError, match=r"8000\.\.48000"):
        caller_decoder("pcm16", rate)


def test_unknown_formats_are_refused():
    with pytest.raises(ValueError, match="unsupported"):
        caller_decoder("mp3", PCM_RATE)
    with pytest.raises(ValueError, match="unsupported"):
        caller_encoder("webm-opus")


def test_pcm16_output_is_24k_little_endian_bytes():
    pcm = tone(440, 0.1)
    encoder = caller_encoder("pcm16")

    messages = encoder.encode(pcm)

    assert messages == [pcm.astype("<i2").tobytes()]
    assert encoder.encode(np.zeros(0, dtype=np.int16)) == []
    assert encoder.flush() == []


@pytest.mark.parametrize(("rate", "frame_ms"), [(16_000, 20), (16_000, 40), (48_000, 20)])
def test_every_frame_comes_out_whole_at_once(rate, frame_ms):
    # Given frames of a caller's audio, resampled to 24 kHz
    samples = rate * frame_ms // 1000
    data = tone(440, 0.4, rate).astype("<i2").tobytes()
    decoder = caller_decoder("pcm16", rate)

    # Then each frame gives its whole length at once, the first one included (the filter's delay
    # comes out as silence before it), so an encoder of frames as long never waits for the next
    lengths = [decoder.decode(data[i : i + 2 * samples]) for i in range(0, len(data), 2 * samples)]
    assert {len(pcm) for pcm in lengths} == {PCM_RATE * frame_ms // 1000}
