"""The caller's pages go to the sidecar a model step (80 ms) at a time, each step at once."""

import time

import sphn

from bench.signals import tone
from voice.audio.formats import OggOpusStreamEncoder
from voice.sidecar.protocol import STEP_SAMPLES
from voice.sidecar.steps import StepBatch


def test_pages_are_held_until_they_complete_a_step_then_sent_together():
    encoder, batch = OggOpusStreamEncoder(), StepBatch()
    signal = tone(440, 0.4)
    sent = []
    for start in range(0, len(signal), 480):  # 20 ms frames
        pages = encoder.encode(signal[start : start + 480])
        sent.append(batch.add(pages, encoder.encoded_samples))

    # every fourth frame completes a step: its pages and the three before go as one message
    assert [data is not None for data in sent] == [False, False, False, True] * 5
    # and a step's message holds whole pages, which the sidecar's reader decodes to the step
    reader = sphn.OpusStreamReader(24_000)
    reader.append_bytes(sent[3])
    decoded, deadline = 0, time.monotonic() + 10  # the reader decodes on a thread of its own
    while decoded < STEP_SAMPLES and time.monotonic() < deadline:
        decoded += len(reader.read_pcm())
        time.sleep(0.01)
    assert decoded == STEP_SAMPLES


def test_frames_longer_than_a_step_go_at_once():
    encoder, batch = OggOpusStreamEncoder(frame_ms=60), StepBatch()
    signal = tone(440, 0.36)

    sent = [
        batch.add(encoder.encode(signal[start : start + 1440]), encoder.encoded_samples)
        for start in range(0, len(signal), 1440)
    ]

    # 60 ms frames: a step completes within frames 2, 3, 4 and 6 (at 80, 160, 240, 320 ms)
    assert [data is not None for data in sent] == [False, True, True, True, False, True]
