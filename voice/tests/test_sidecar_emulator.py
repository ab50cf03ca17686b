"""The PersonaPlex emulator on a real port, driven by a raw aiohttp client."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import numpy as np
import pytest

from voice.sidecar.emulator import SPOKEN_WORD, EchoModel, EmulatorConfig, running_emulator
from voice.sidecar.protocol import HANDSHAKE, MessageKind, encode
from voice.tests.sidecar_audio import (
    decode_pages,
    dominant_frequency,
    is_header_page,
    ogg_pages,
    rms,
    silence,
    tone,
)

FAST = EmulatorConfig(load_base_seconds=0.01, load_per_word_seconds=0.0)
CLOSED = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)


@asynccontextmanager
async def chat(url: str, **query: str) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """A raw WebSocket to `/api/chat`; by default a valid voice and an empty prompt."""
    query = {"voice_prompt": "NATF0.pt", "text_prompt": ""} | query
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{url}/api/chat", params=query) as ws,
    ):
        yield ws


async def send_audio(ws: aiohttp.ClientWebSocketResponse, pages: list[bytes]) -> None:
    for page in pages:
        await ws.send_bytes(encode(MessageKind.AUDIO, page))


async def receive_audio_pages(ws: aiohttp.ClientWebSocketResponse, count: int) -> list[bytes]:
    """The payloads of the next `count` audio messages (text messages are skipped)."""
    pages = []
    while len(pages) < count:
        message = await ws.receive(timeout=5)
        assert message.type == aiohttp.WSMsgType.BINARY, message
        if message.data[0] == MessageKind.AUDIO:
            pages.append(message.data[1:])
    return pages


async def assert_quiet(ws: aiohttp.ClientWebSocketResponse, seconds: float = 0.3) -> None:
    with pytest.raises(TimeoutError):
        message = await ws.receive(timeout=seconds)
        pytest.fail(f"expected nothing, got {message}")


async def assert_closed_without_message(ws: aiohttp.ClientWebSocketResponse) -> None:
    message = await ws.receive(timeout=5)
    assert message.type in CLOSED, message


async def test_handshake_comes_after_the_load_delay_and_early_messages_are_discarded():
    config = EmulatorConfig(load_base_seconds=0.2, load_per_word_seconds=0.1)
    loop = asyncio.get_running_loop()
    async with running_emulator(config) as url, chat(url, text_prompt="one two three") as ws:
        started = loop.time()
        # Given a client that sends a whole stream, a text frame and a control before the handshake
        await send_audio(ws, ogg_pages(tone(10)))
        await ws.send_str("too early")
        await ws.send_bytes(encode(MessageKind.CONTROL, b"\x00"))

        # Then the handshake comes after 0.2 + 3 words * 0.1 s
        assert (await ws.receive(timeout=5)).data == HANDSHAKE
        assert loop.time() - started >= 0.5
        # and only the two header pages follow: the early stream was discarded
        headers = await receive_audio_pages(ws, 2)
        assert all(is_header_page(page) for page in headers)
        await assert_quiet(ws)

        # When a new stream starts, it is decoded from scratch: 5 frames in, 5 pages out
        await send_audio(ws, ogg_pages(silence(5)))
        pages = await receive_audio_pages(ws, 5)
        assert not any(is_header_page(page) for page in pages)
        await assert_quiet(ws)


async def test_echoes_the_caller_three_steps_later_and_speaks_while_it_echoes_sound():
    async with running_emulator(FAST) as url, chat(url) as ws:
        assert (await ws.receive(timeout=5)).data == HANDSHAKE
        # Given 10 steps of a 440 Hz tone then 10 steps of silence, sent faster than real time
        await send_audio(ws, ogg_pages(np.concatenate((tone(10), silence(10)))))

        # Then: header pages, one page per step, and " echo" before the pages of steps 3, 7, 11
        pages, text_before_step = [], {}
        while len(pages) < 22:
            message = await ws.receive(timeout=5)
            kind, payload = message.data[0], message.data[1:]
            if kind == MessageKind.TEXT:
                text_before_step[len(pages) - 2] = payload.decode()
            else:
                pages.append(payload)
        await assert_quiet(ws)

    assert text_before_step == {3: SPOKEN_WORD, 7: SPOKEN_WORD, 11: SPOKEN_WORD}
    pcm, sample_rate = decode_pages(pages)
    step = sample_rate * 80 // 1000
    steps = pcm.reshape(20, step)
    assert max(rms(frame) for frame in steps[:3]) < 0.001  # the echo delay: silence
    assert min(rms(frame) for frame in steps[4:12]) > 0.15
    assert dominant_frequency(pcm[4 * step : 12 * step], sample_rate) == pytest.approx(440, abs=3)
    assert max(rms(frame) for frame in steps[15:]) < 0.001  # silence still flows, page by page
    onset = int(np.argmax(np.abs(pcm) > 0.05))
    assert 3 * step <= onset <= 3 * step + sample_rate * 20 // 1000  # + Opus codec delay


async def test_one_output_page_per_80_ms_of_input_and_nothing_without_input():
    async with running_emulator(FAST) as url, chat(url) as ws:
        assert (await ws.receive(timeout=5)).data == HANDSHAKE
        assert all(is_header_page(page) for page in await receive_audio_pages(ws, 2))
        await assert_quiet(ws)

        # 25 steps of audio sent as 100 pages of 20 ms: the emulator steps per 1920 samples
        await send_audio(ws, ogg_pages(silence(25), packet_samples=480))

        pages = await receive_audio_pages(ws, 25)
        await assert_quiet(ws)
    assert not any(is_header_page(page) for page in pages)


async def test_one_conversation_per_process_the_second_client_waits_silently():
    async with running_emulator(FAST) as url, chat(url) as first:
        assert (await first.receive(timeout=5)).data == HANDSHAKE
        async with chat(url) as second:  # accepted...
            await assert_quiet(second, 0.4)  # ...but no handshake while the first talks

            await first.close()

            assert (await second.receive(timeout=5)).data == HANDSHAKE


async def test_a_text_frame_after_the_handshake_closes_the_socket():
    async with running_emulator(FAST) as url, chat(url) as ws:
        assert (await ws.receive(timeout=5)).data == HANDSHAKE
        await receive_audio_pages(ws, 2)

        await ws.send_str("hello")

        await assert_closed_without_message(ws)


@pytest.mark.parametrize(
    "payloads",
    [
        pytest.param([b"OggS" + bytes(100)], id="corrupt page"),
        pytest.param(ogg_pages(tone(3))[1:], id="no OpusHead first"),
        pytest.param(ogg_pages(tone(3))[:3] + ogg_pages(tone(3)), id="second stream"),
    ],
)
async def test_a_malformed_ogg_stream_closes_the_socket(payloads):
    async with running_emulator(FAST) as url, chat(url) as ws:
        assert (await ws.receive(timeout=5)).data == HANDSHAKE
        await receive_audio_pages(ws, 2)

        await send_audio(ws, payloads)

        # Pages decoded before the fault may still come out; then the socket closes.
        while (message := await ws.receive(timeout=5)).type == aiohttp.WSMsgType.BINARY:
            assert message.data[0] == MessageKind.AUDIO
        assert message.type in CLOSED


async def test_bytes_without_an_ogg_capture_pattern_are_skipped_like_upstream():
    # sphn's Ogg reader resynchronises on "OggS": stray bytes produce nothing but no error.
    async with running_emulator(FAST) as url, chat(url) as ws:
        assert (await ws.receive(timeout=5)).data == HANDSHAKE
        await receive_audio_pages(ws, 2)

        await send_audio(ws, [b"not ogg at all" * 10])
        await assert_quiet(ws)
        await send_audio(ws, ogg_pages(silence(2)))

        assert len(await receive_audio_pages(ws, 2)) == 2


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"voice_prompt": "NOPE.pt"}, id="unknown voice"),
        pytest.param({"voice_prompt": None}, id="missing voice_prompt"),
        pytest.param({"text_prompt": None}, id="missing text_prompt"),
    ],
)
async def test_a_bad_query_is_accepted_then_dropped_with_no_message(query):
    params = {"voice_prompt": "NATF0.pt", "text_prompt": ""} | query
    params = {key: value for key, value in params.items() if value is not None}
    async with (
        running_emulator(FAST) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{url}/api/chat", params=params) as ws,
    ):
        await assert_closed_without_message(ws)


async def test_a_seed_is_logged_as_a_warning(caplog):
    with caplog.at_level(logging.INFO, logger="voice.sidecar.emulator"):
        async with running_emulator(FAST) as url, chat(url, seed="42") as ws:
            assert (await ws.receive(timeout=5)).data == HANDSHAKE

    assert any(r.levelno == logging.WARNING and "seed" in r.message for r in caplog.records)


def test_echo_model_delays_frames_and_says_a_word_every_n_speech_steps():
    model = EchoModel(EmulatorConfig(echo_delay_steps=2, text_every_steps=2))
    loud, quiet = tone(1), silence(1)
    inputs = [loud, loud, loud, quiet, loud, quiet, quiet, quiet]

    outputs = [model.step(frame) for frame in inputs]

    assert [rms(audio) > 0.1 for audio, _ in outputs] == [0, 0, 1, 1, 1, 0, 1, 0]
    assert [text for _, text in outputs] == [
        None,
        None,
        " echo",
        None,
        " echo",
        None,
        " echo",
        None,
    ]
