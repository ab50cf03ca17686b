"""A PersonaPlex stand-in, faithful on the wire (docs: PERSONAPLEX.md), that needs no GPU.

It serves `GET /api/chat` like `moshi/moshi/server.py` of NVIDIA/personaplex: the same query
keys, one conversation per process (or `sessions` at once, as servers such as vLLM-Omni's port
of PersonaPlex hold; a client beyond them waits in silence), a prompt loading time during which
client messages are discarded, the `b"\\x00"` handshake, then one Ogg page out per 80 ms of audio
in, silence included.

Its "model" (`EchoModel`) echoes the caller's audio back `echo_delay_steps` steps later (default
3 = 240 ms). While the echoed audio is speech (frame RMS above `speech_rms`) it "says" the word
piece `SPOKEN_WORD` (" echo"): on the 1st, (1+k)th, (1+2k)th... step of every run of speech steps
(k = `text_every_steps`, default 4), sent just before that step's audio page.

One deliberate difference: after the handshake a non-binary frame ends the session (the protocol
calls it an error), where the real server logs it and carries on. A client that passes here is
therefore also correct there.

Run it with `python manage.py run_sidecar` or `python -m voice.sidecar.emulator`; in tests,
`async with running_emulator(config) as url:` serves it in-process on a free port.
"""

import argparse
import asyncio
import logging
import ssl
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import sphn
from aiohttp import WSCloseCode, WSMsgType, web

from voice.audio.base import PCM_RATE
from voice.sidecar.protocol import HANDSHAKE, STEP_SAMPLES, MessageKind, encode
from voice.sidecar.voices import VOICE_IDS

logger = logging.getLogger(__name__)

SAMPLE_RATE = PCM_RATE  # PersonaPlex speaks 24 kHz, the rate of PCM inside Nexus
FRAME_SAMPLES = STEP_SAMPLES  # one model step: 80 ms at 24 kHz
SPOKEN_WORD = " echo"
POLL_SECONDS = 0.001  # sphn decodes on its own thread; poll it like the real server does


@dataclass(frozen=True)
class EmulatorConfig:
    """Timings and behaviour of the emulator; tests use tiny load times."""

    load_base_seconds: float = 1.0
    load_per_word_seconds: float = 0.02  # the real server steps once per prompt token
    echo_delay_steps: int = 3
    text_every_steps: int = 4
    speech_rms: float = 0.01
    sessions: int = 1  # conversations held at once

    def __post_init__(self) -> None:
        if self.echo_delay_steps < 0 or self.text_every_steps < 1 or self.sessions < 1:
            raise ValueError("echo_delay_steps must be >= 0, text_every_steps and sessions >= 1")

    def load_seconds(self, text_prompt: str) -> float:
        """How long loading the prompts takes before the handshake."""
        return self.load_base_seconds + self.load_per_word_seconds * len(text_prompt.split())


class EchoModel:
    """One step per 80 ms frame in, one frame out: the input delayed, plus the words it says."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        silence = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        self._delay_line = deque([silence] * config.echo_delay_steps)
        self._speech_steps = 0  # length of the current run of speech steps

    def step(self, frame: np.ndarray) -> tuple[np.ndarray, str | None]:
        """The frame to play now and the text piece to send with it, if any."""
        self._delay_line.append(frame)
        out = self._delay_line.popleft()
        if float(np.sqrt(np.mean(np.square(out)))) <= self._config.speech_rms:
            self._speech_steps = 0
            return out, None
        text = SPOKEN_WORD if self._speech_steps % self._config.text_every_steps == 0 else None
        self._speech_steps += 1
        return out, text


_CONFIG = web.AppKey("config", EmulatorConfig)
_SESSIONS = web.AppKey("sessions", asyncio.Semaphore)
_SOCKETS = web.AppKey("sockets", set[web.WebSocketResponse])


def create_app(config: EmulatorConfig | None = None) -> web.Application:
    """The emulator's aiohttp application: one route, `sessions` conversations at a time."""
    app = web.Application()
    app[_CONFIG] = config or EmulatorConfig()
    app[_SESSIONS] = asyncio.Semaphore(app[_CONFIG].sessions)
    app[_SOCKETS] = set()
    app.router.add_get("/api/chat", _handle_chat)
    app.on_shutdown.append(_close_sockets)
    return app


async def _close_sockets(app: web.Application) -> None:
    for ws in app[_SOCKETS].copy():
        await ws.close(code=WSCloseCode.GOING_AWAY)


async def _handle_chat(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    # Like the real handler, read the query only after accepting: a missing key or an unknown
    # voice raises here, and the client sees the socket drop with no message.
    voice_prompt = request.query["voice_prompt"]
    if voice_prompt not in VOICE_IDS:
        raise FileNotFoundError(f"voice prompt {voice_prompt!r} not found")
    text_prompt = request.query["text_prompt"]
    if "seed" in request.query:
        logger.warning("seed=%r received: the real server mis-reads it", request.query["seed"])
    logger.info("voice prompt %s, text prompt of %d characters", voice_prompt, len(text_prompt))
    config = request.app[_CONFIG]
    request.app[_SOCKETS].add(ws)
    try:
        async with request.app[_SESSIONS]:
            if await _load_prompts(ws, config.load_seconds(text_prompt)):
                await ws.send_bytes(HANDSHAKE)
                await _converse(ws, config)
    finally:
        request.app[_SOCKETS].discard(ws)
        await ws.close()
    return ws


async def _load_prompts(ws: web.WebSocketResponse, seconds: float) -> bool:
    """Wait `seconds`, reading and discarding every message; False if the client left."""
    deadline = asyncio.get_running_loop().time() + seconds
    while (remaining := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            message = await ws.receive(timeout=remaining)
        except TimeoutError:
            break
        if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            return False
    return True


async def _converse(ws: web.WebSocketResponse, config: EmulatorConfig) -> None:
    """Full duplex until the client leaves, sends a bad frame, or breaks its Ogg stream."""
    reader = sphn.OpusStreamReader(SAMPLE_RATE)
    writer = sphn.OpusStreamWriter(SAMPLE_RATE)
    # The real server's send loop ships the OpusHead and OpusTags pages at once, input or not.
    await _send_pages(ws, writer)
    tasks = [
        asyncio.create_task(_receive_audio(ws, reader)),
        asyncio.create_task(_run_steps(ws, reader, writer, EchoModel(config))),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        reader.close()
    for result in results:
        if isinstance(result, Exception):
            logger.warning("session ended: %r", result)


async def _receive_audio(ws: web.WebSocketResponse, reader: sphn.OpusStreamReader) -> None:
    async for message in ws:
        if message.type != WSMsgType.BINARY:
            logger.error("unexpected %s frame: ending the session", message.type.name)
            return
        if not message.data:
            logger.warning("empty message")
        elif message.data[0] == MessageKind.AUDIO:
            # Raises once the reader has died on a malformed stream.
            reader.append_bytes(message.data[1:])
        else:
            logger.info("ignoring message kind 0x%02x", message.data[0])


async def _run_steps(
    ws: web.WebSocketResponse,
    reader: sphn.OpusStreamReader,
    writer: sphn.OpusStreamWriter,
    model: EchoModel,
) -> None:
    buffered = np.zeros(0, dtype=np.float32)
    while True:
        pcm = reader.read_pcm()
        if pcm is None:
            logger.error("the Ogg/Opus reader stopped: malformed stream")
            return
        if pcm.size == 0:
            await asyncio.sleep(POLL_SECONDS)
            continue
        buffered = np.concatenate((buffered, pcm))
        while buffered.size >= FRAME_SAMPLES:
            frame, buffered = buffered[:FRAME_SAMPLES], buffered[FRAME_SAMPLES:]
            audio, text = model.step(frame)
            if text is not None:
                await ws.send_bytes(encode(MessageKind.TEXT, text.encode()))
            writer.append_pcm(audio)
            await _send_pages(ws, writer)


async def _send_pages(ws: web.WebSocketResponse, writer: sphn.OpusStreamWriter) -> None:
    # read_bytes() returns one Ogg page per call; each page is its own message.
    while page := writer.read_bytes():
        await ws.send_bytes(encode(MessageKind.AUDIO, page))


def server_ssl_context(ssl_dir: str | Path) -> ssl.SSLContext:
    """TLS from `cert.pem` and `key.pem` in `ssl_dir`, as the real server's `--ssl DIR`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(Path(ssl_dir) / "cert.pem", Path(ssl_dir) / "key.pem")
    return context


@asynccontextmanager
async def running_emulator(
    config: EmulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_dir: str | Path | None = None,
) -> AsyncIterator[str]:
    """Serve the emulator in this event loop; yields its base URL, e.g. `ws://127.0.0.1:40123`."""
    runner = web.AppRunner(create_app(config))
    await runner.setup()
    ssl_context = server_ssl_context(ssl_dir) if ssl_dir is not None else None
    try:
        await web.TCPSite(runner, host, port, ssl_context=ssl_context).start()
        bound_port = runner.addresses[0][1]
        yield f"{'wss' if ssl_context else 'ws'}://{host}:{bound_port}"
    finally:
        await runner.cleanup()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command-line options, shared by `run_sidecar` and `python -m`."""
    defaults = EmulatorConfig()
    parser.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    parser.add_argument("--port", type=int, default=8998, help="default: %(default)s")
    parser.add_argument("--ssl", metavar="DIR", help="serve wss:// with DIR/cert.pem, DIR/key.pem")
    parser.add_argument(
        "--load-base-seconds",
        type=float,
        default=defaults.load_base_seconds,
        help="prompt loading time before the handshake (default: %(default)s)",
    )
    parser.add_argument(
        "--load-per-word-seconds",
        type=float,
        default=defaults.load_per_word_seconds,
        help="extra loading time per word of text_prompt (default: %(default)s)",
    )
    parser.add_argument(
        "--sessions",
        type=int,
        default=defaults.sessions,
        help="conversations held at once (default: %(default)s, as upstream PersonaPlex)",
    )
    parser.add_argument(
        "--echo-delay-steps",
        type=int,
        default=defaults.echo_delay_steps,
        help="echo delay in 80 ms steps (default: %(default)s)",
    )


def serve(options: dict[str, Any]) -> None:
    """Run the emulator until interrupted, from parsed `add_arguments` options."""
    logging.basicConfig(level=logging.INFO)  # a no-op when the host (Django) configured logging
    config_names = {field.name for field in fields(EmulatorConfig)}
    config = EmulatorConfig(**{k: v for k, v in options.items() if k in config_names})
    ssl_context = server_ssl_context(options["ssl"]) if options.get("ssl") else None
    web.run_app(
        create_app(config), host=options["host"], port=options["port"], ssl_context=ssl_context
    )


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description="A PersonaPlex emulator (echo model, no GPU).")
    add_arguments(cli)
    serve(vars(cli.parse_args()))
