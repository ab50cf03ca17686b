"""A local fake of Gemini's Live API (`BidiGenerateContent`), for running the real google-genai
SDK against it in tests.

The SDK reaches the Live API at `wss://{base_url host}/ws/google.ai.generativelanguage.v1beta.
GenerativeService.BidiGenerateContent` (always TLS), so the fake serves a self-signed
certificate: write one with `write_certificate(directory)` and point `SSL_CERT_FILE` at it
before the SDK client is built. The fake speaks the wire format: the client's `setup` first
(checked: model, audio out, a voice, the system instruction, function declarations, both
transcriptions, session resumption), answered with `setupComplete`; then the caller's
`realtimeInput` audio (16 kHz PCM), `clientContent` turns and `toolResponse`s in, and
`serverContent` (24 kHz audio, transcriptions, `interrupted`, `generationComplete`,
`turnComplete`), `toolCall`s, `sessionResumptionUpdate`s and `goAway` out.

Behaviour is scripted: `script(ModelTurn(...), ...)` queues what the model does, one turn each
time the caller's turn ends (an energy detector on the incoming audio: speech, then
`END_QUIET_SECONDS` of quiet) or the client sends `clientContent` with `turnComplete`. A turn
sends what it heard of the caller (`inputTranscription`), may call a tool (and waits for its
response, whose values its words may quote: `"{result[slots][0]}"`), then speaks: a tone of
`frequency` at `speed` times real time, with its words as `outputTranscription` pieces. A caller
who speaks over a turn that is still being sent stops it (`interrupted`). After a turn the fake
may ask the client to leave (`goAway`, then it closes) or drop the connection; it then expects
a setup that resumes with the last handle it gave. A malformed or unexpected message is
recorded in `problems`, and the context manager fails the test on exit, as does a scripted turn
left unused.

    async with fake_gemini_live(tls_dir) as fake:
        fake.script(ModelTurn(words=("Hello!",)), ModelTurn(heard="Hi", words=("How can I help?",)))
        client = genai.Client(api_key=API_KEY, http_options={"base_url": fake.base_url})
"""

import asyncio
import base64
import binascii
import json
import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from aiohttp import WSMsgType, web

from voice.tests.certificates import write_certificate as write_certificate
from voice.tests.fake_gemini import API_KEY, _field, decoded_bytes

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
CALLER_MIME = "audio/pcm;rate=16000"
CALLER_RATE = 16_000
AGENT_MIME = "audio/pcm;rate=24000"
AGENT_RATE = 24_000
AGENT_CHUNK_SECONDS = 0.1
SPEECH_RMS = 0.02  # of full scale (-34 dBFS): louder 10 ms windows are speech
START_SECONDS = 0.2  # of loud audio before the fake takes it as the caller speaking
END_QUIET_SECONDS = 0.5  # of quiet after speech: the caller's turn is over
WINDOW = CALLER_RATE // 100
REPLY_TIMEOUT = 30.0  # for a tool response, a setup, a client leaving after goAway
GO_AWAY_SECONDS = 2
_SETUP_KEYS = {
    "model", "generationConfig", "systemInstruction", "tools", "realtimeInputConfig",
    "inputAudioTranscription", "outputAudioTranscription", "sessionResumption",
    "contextWindowCompression",
}  # fmt: skip


@dataclass(frozen=True)
class ToolUse:
    """A function the model calls; `cancel_after`: it cancels the call after that many seconds
    instead of waiting for the response."""

    name: str
    args: dict[str, Any]
    cancel_after: float | None = None


@dataclass(frozen=True)
class ModelTurn:
    """What the model does in one turn: hear, maybe call a tool, speak, then maybe end the
    session (`go_away`: ask the client to leave; `drop`: close without warning)."""

    heard: str = ""  # the caller's words, sent as inputTranscription pieces first
    tool: ToolUse | None = None
    words: tuple[str, ...] = ()  # outputTranscription pieces; may quote the tool's response
    frequency: float = 440.0
    seconds: float = 1.0
    after: Literal["go_away", "drop"] | None = None


def _at(message: Any, *path: str) -> Any:
    """A nested field by its JSON names (camelCase or snake_case, as proto-JSON accepts)."""
    for name in path:
        if not isinstance(message, dict):
            return None
        message = _field(message, name)
    return message


def tone_pcm(frequency: float, seconds: float) -> np.ndarray:
    """A sine at `frequency` as 24 kHz int16, faded in and out over 5 ms (no clicks)."""
    t = np.arange(round(seconds * AGENT_RATE)) / AGENT_RATE
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.005)
    return np.round(0.3 * 32767 * fade * np.sin(2 * np.pi * frequency * t)).astype(np.int16)


def pieces(text: str) -> list[str]:
    """`text` in transcription pieces, as the Live API sends them: a word each, spaces kept."""
    return re.findall(r"\s*\S+", text)


class _TurnDetector:
    """The caller's speech in 16 kHz audio: loud 10 ms windows adding up to `START_SECONDS`
    (quiet gaps within words allowed) start it, `END_QUIET_SECONDS` of quiet ends it (the end
    of the caller's turn)."""

    def __init__(self) -> None:
        self._pending = np.zeros(0, dtype=np.int16)
        self._loud = 0  # loud windows since the last long quiet
        self._quiet = 0  # quiet windows in a row
        self.speaking = False

    def feed(self, samples: np.ndarray) -> list[str]:
        """Events of the windows completed: "start" and "end"."""
        samples = np.concatenate((self._pending, samples))
        usable = len(samples) - len(samples) % WINDOW
        self._pending = samples[usable:]
        windows = samples[:usable].reshape(-1, WINDOW).astype(np.float64) / 32768
        events = []
        for level in np.sqrt(np.mean(windows**2, axis=1)):
            loud = level >= SPEECH_RMS
            self._quiet = 0 if loud else self._quiet + 1
            long_quiet = self._quiet * WINDOW >= END_QUIET_SECONDS * CALLER_RATE
            self._loud = self._loud + 1 if loud else 0 if long_quiet else self._loud
            if not self.speaking and self._loud * WINDOW >= START_SECONDS * CALLER_RATE:
                self.speaking = True
                events.append("start")
            elif self.speaking and long_quiet:
                self.speaking = False
                events.append("end")
        return events


def _setup_problems(setup: Any) -> list[str]:
    """What the real API would refuse in a setup (or what this project must always send)."""
    if not isinstance(setup, dict):
        return [f"setup is not an object: {setup!r:.200}"]
    problems = [f"unknown setup field {key!r}" for key in setup.keys() - _SETUP_KEYS]
    if not str(setup.get("model", "")).startswith("models/"):
        problems.append(f"setup.model must be models/...: {setup.get('model')!r}")
    if _at(setup, "generationConfig", "responseModalities") != ["AUDIO"]:
        problems.append("generationConfig.responseModalities must be ['AUDIO']")
    voice = _at(setup, "generationConfig", "speechConfig", "voiceConfig", "prebuiltVoiceConfig")
    if not isinstance(_at(voice, "voiceName"), str):
        problems.append("generationConfig.speechConfig needs a prebuilt voice name")
    parts = _at(setup, "systemInstruction", "parts") or [{}]
    if not all(isinstance(part.get("text"), str) for part in parts):
        problems.append("systemInstruction must be text parts")
    for tool in setup.get("tools", []):
        for declaration in _at(tool, "functionDeclarations") or [None]:
            if not (
                isinstance(declaration, dict)
                and re.match(r"^[A-Za-z_][\w.\-]{0,63}$", declaration.get("name", ""))
                and isinstance(declaration.get("description"), str)
                and isinstance(_at(declaration, "parametersJsonSchema"), dict)
            ):
                problems.append(f"bad function declaration {declaration!r:.200}")
    for name in ("inputAudioTranscription", "outputAudioTranscription", "sessionResumption"):
        if not isinstance(setup.get(name), dict):
            problems.append(f"setup.{name} must be set (an object)")
    return problems


def _content_problems(content: Any) -> list[str]:
    turns = _at(content, "turns")
    if not isinstance(turns, list) or not isinstance(_at(content, "turnComplete"), bool | None):
        return [f"clientContent needs turns (and turnComplete a bool): {content!r:.200}"]
    return [
        f"clientContent turn must be a user/model turn of text parts: {turn!r:.200}"
        for turn in turns
        if not isinstance(turn, dict)
        or turn.get("role") not in ("user", "model")
        or not turn.get("parts")
        or not all(isinstance(part.get("text"), str) for part in turn["parts"])
    ]


@dataclass
class Recorded:
    """What the fake received: setups (in order), the caller's audio, turns and tool responses."""

    setups: list[dict[str, Any]] = field(default_factory=list)
    client_contents: list[dict[str, Any]] = field(default_factory=list)
    tool_responses: list[dict[str, Any]] = field(default_factory=list)
    caller_audio: bytearray = field(default_factory=bytearray)  # 16 kHz s16le, as received
    caller_turns: int = 0  # caller turns the detector ended
    interruptions: int = 0

    @property
    def audio_seconds(self) -> float:
        return len(self.caller_audio) / 2 / CALLER_RATE

    @property
    def resumed_with(self) -> list[str | None]:
        """Each setup's resumption handle (None: a new session)."""
        return [_at(setup, "sessionResumption", "handle") for setup in self.setups]


@dataclass
class FakeGeminiLive:
    """The running fake: `script` turns, then read `received` and `problems`."""

    base_url: str = ""
    speed: float = 2.0  # audio seconds sent per second while a turn speaks
    received: Recorded = field(default_factory=Recorded)
    problems: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)  # resumption handles given, in order
    _queue: list[ModelTurn] = field(default_factory=list)
    _must_resume: bool = False
    _calls: int = 0
    _sockets: set[web.WebSocketResponse] = field(default_factory=set)

    def script(self, *turns: ModelTurn) -> None:
        """Run `turns`, in order, as the caller's turns end."""
        self._queue.extend(turns)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.path != PATH:
            return self._refuse(404, f"unexpected request {request.method} {request.path_qs}")
        if request.headers.get("x-goog-api-key") != API_KEY:
            return self._refuse(403, "missing or wrong x-goog-api-key header")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            if await self._set_up(ws):
                await _Session(self, ws).serve()
        finally:
            self._sockets.discard(ws)
            await ws.close()
        return ws

    async def _set_up(self, ws: web.WebSocketResponse) -> bool:
        message = await self.receive(ws)
        setup = _at(message, "setup")
        if setup is None:
            return self.problem(f"the first message must be a setup: {message!r:.200}")
        self.received.setups.append(setup)
        if problems := _setup_problems(setup):
            self.problems.extend(problems)
            await ws.close(code=1007, message=b"invalid setup")
            return False
        handle = _at(setup, "sessionResumption", "handle")
        if (self._must_resume or handle is not None) and handle != self.last_handle:
            self.problem(f"resumed with {handle!r}, not the last handle {self.last_handle!r}")
            await ws.close(code=1008, message=b"session not found")
            return False
        self._must_resume = False
        await send(ws, {"setupComplete": {}})
        await self.give_handle(ws)
        return True

    @property
    def last_handle(self) -> str | None:
        return self.handles[-1] if self.handles else None

    async def give_handle(self, ws: web.WebSocketResponse) -> None:
        self.handles.append(f"handle-{len(self.handles) + 1}")
        update = {"newHandle": self.handles[-1], "resumable": True}
        await send(ws, {"sessionResumptionUpdate": update})

    def next_turn(self) -> ModelTurn | None:
        return self._queue.pop(0) if self._queue else None

    def next_call_id(self) -> str:
        self._calls += 1
        return f"call-{self._calls}"

    def expect_resumption(self) -> None:
        self._must_resume = True

    async def receive(self, ws: web.WebSocketResponse) -> Any:
        """The next client message as JSON (None once the client closed)."""
        try:
            message = await ws.receive(timeout=REPLY_TIMEOUT)
        except TimeoutError:
            self.problem("the client sent nothing for a long time")
            return None
        if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            return None
        try:
            return json.loads(message.data)
        except json.JSONDecodeError:
            self.problem(f"a message that is not JSON: {message.data!r:.200}")
            return None

    def problem(self, message: str) -> Literal[False]:
        self.problems.append(message)
        return False

    def _refuse(self, status: int, message: str) -> web.Response:
        self.problem(message)
        return web.json_response({"error": {"code": status, "message": message}}, status=status)

    async def close_sockets(self) -> None:
        for ws in list(self._sockets):
            await ws.close()


class _Session:
    """One connection after its setup: the caller's messages in, the scripted turns out."""

    def __init__(self, fake: FakeGeminiLive, ws: web.WebSocketResponse) -> None:
        self._fake = fake
        self._ws = ws
        self._detector = _TurnDetector()
        self._turn: asyncio.Task | None = None
        self._speaking = False  # the turn is sending its audio (a caller can interrupt it)
        self._responses: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def serve(self) -> None:
        try:
            while (message := await self._fake.receive(self._ws)) is not None:
                await self._dispatch(message)
        finally:
            if self._turn is not None:
                self._turn.cancel()
                await asyncio.gather(self._turn, return_exceptions=True)

    async def _dispatch(self, message: Any) -> None:
        kinds = message.keys() if isinstance(message, dict) else ()
        if len(kinds) != 1:
            self._fake.problem(f"a client message holds exactly one kind: {message!r:.200}")
        elif (realtime := _at(message, "realtimeInput")) is not None:
            await self._realtime(realtime)
        elif (content := _at(message, "clientContent")) is not None:
            self._client_content(content)
        elif (response := _at(message, "toolResponse")) is not None:
            self._tool_response(response)
        else:
            self._fake.problem(f"unexpected client message {message!r:.200}")

    async def _realtime(self, realtime: Any) -> None:
        if _at(realtime, "audioStreamEnd") is True:
            return
        audio = _at(realtime, "audio")
        if not isinstance(audio, dict) or len(realtime) != 1:
            self._fake.problem(f"unexpected realtimeInput {realtime!r:.200}")
            return
        if _at(audio, "mimeType") != CALLER_MIME:
            self._fake.problem(f"caller audio must be {CALLER_MIME}, not {_at(audio, 'mimeType')}")
            return
        try:
            data = decoded_bytes(audio["data"])
        except (KeyError, TypeError, binascii.Error):
            self._fake.problem(f"caller audio needs base64 data: {audio!r:.200}")
            return
        if len(data) % 2:
            self._fake.problem("caller audio of an odd number of bytes")
            return
        samples = np.frombuffer(data, dtype="<i2")
        self._fake.received.caller_audio += data
        for event in self._detector.feed(samples):
            if event == "start":
                await self._caller_started()
            else:
                self._fake.received.caller_turns += 1
                self._start_turn()

    async def _caller_started(self) -> None:
        """The caller speaks over a turn still being sent: it stops, and the client is told."""
        if self._turn is not None and self._speaking:
            self._speaking = False
            self._turn.cancel()
            await asyncio.gather(self._turn, return_exceptions=True)
            self._fake.received.interruptions += 1
            await send(self._ws, {"serverContent": {"interrupted": True}})

    def _client_content(self, content: Any) -> None:
        self._fake.received.client_contents.append(content)
        if problems := _content_problems(content):
            self._fake.problems.extend(problems)
        elif _at(content, "turnComplete"):
            self._start_turn()

    def _tool_response(self, response: Any) -> None:
        answers = _at(response, "functionResponses")
        if not isinstance(answers, list) or not answers:
            self._fake.problem(f"toolResponse needs functionResponses: {response!r:.200}")
            return
        for answer in answers:
            self._fake.received.tool_responses.append(answer)
            waiting = self._responses.pop(answer.get("id"), None)
            if waiting is None or waiting.done():
                self._fake.problem(f"a response to no pending call: {answer!r:.200}")
            elif not isinstance(answer.get("response"), dict):
                self._fake.problem(f"a function response must be an object: {answer!r:.200}")
            else:
                waiting.set_result(answer)

    def _start_turn(self) -> None:
        if self._turn is not None and not self._turn.done():
            self._fake.problem("a turn started while the model was still in one")
        elif (turn := self._fake.next_turn()) is not None:
            self._turn = asyncio.create_task(self._perform(turn), name="fake-live-turn")

    async def _perform(self, turn: ModelTurn) -> None:
        for piece in pieces(turn.heard):
            await self._content({"inputTranscription": {"text": piece}})
        words = turn.words
        if turn.tool is not None:
            words = await self._call(turn.tool, words)
        await self._speak(turn, words)
        await self._content({"generationComplete": True})
        await self._content({"turnComplete": True})
        await self._fake.give_handle(self._ws)
        if turn.after is not None:
            self._fake.expect_resumption()
            if turn.after == "go_away":  # the client may leave first: this task is then cancelled
                await send(self._ws, {"goAway": {"timeLeft": f"{GO_AWAY_SECONDS}s"}})
                await asyncio.sleep(GO_AWAY_SECONDS)
            await self._ws.close(code=1001 if turn.after == "go_away" else 1011)

    async def _call(self, tool: ToolUse, words: tuple[str, ...]) -> tuple[str, ...]:
        """Call `tool` and wait for its response; the words, quoting it."""
        call_id = self._fake.next_call_id()
        waiting = asyncio.get_running_loop().create_future()
        self._responses[call_id] = waiting
        await send(self._ws, {"sessionResumptionUpdate": {"resumable": False}})
        call = {"id": call_id, "name": tool.name, "args": tool.args}
        await send(self._ws, {"toolCall": {"functionCalls": [call]}})
        if tool.cancel_after is not None:
            await asyncio.sleep(tool.cancel_after)
            self._responses.pop(call_id, None)  # a response from now on answers no call
            await send(self._ws, {"toolCallCancellation": {"ids": [call_id]}})
            return words
        try:
            answer = await asyncio.wait_for(waiting, REPLY_TIMEOUT)
        except TimeoutError:
            self._fake.problem(f"no response to {call}")
            return words
        if answer.get("name") != tool.name:
            self._fake.problem(f"the response to {tool.name} is named {answer.get('name')!r}")
        try:
            return tuple(word.format(**answer["response"]) for word in words)
        except (KeyError, IndexError) as error:
            self._fake.problem(f"the response lacks {error} to quote: {answer!r:.200}")
            return words

    async def _speak(self, turn: ModelTurn, words: tuple[str, ...]) -> None:
        """The turn's tone in chunks at `speed` times real time, its words spread over them."""
        pcm = tone_pcm(turn.frequency, turn.seconds)
        chunk = round(AGENT_CHUNK_SECONDS * AGENT_RATE)
        starts = range(0, len(pcm), chunk)
        words_before: list[list[str]] = [[] for _ in starts]
        for i, word in enumerate(words):
            words_before[i * len(starts) // len(words)].append(word)
        self._speaking = True
        for start, before in zip(starts, words_before, strict=True):
            for word in before:
                await self._content({"outputTranscription": {"text": word}})
            data = base64.b64encode(pcm[start : start + chunk].tobytes()).decode()
            part = {"inlineData": {"mimeType": AGENT_MIME, "data": data}}
            await self._content({"modelTurn": {"parts": [part]}})
            await asyncio.sleep(AGENT_CHUNK_SECONDS / self._fake.speed)
        self._speaking = False

    async def _content(self, content: dict[str, Any]) -> None:
        await send(self._ws, {"serverContent": content})


async def send(ws: web.WebSocketResponse, message: dict[str, Any]) -> None:
    """A server message, as the Live API sends them: JSON in a binary frame."""
    if not ws.closed:
        await ws.send_bytes(json.dumps(message).encode())


@asynccontextmanager
async def fake_gemini_live(tls_dir: Path, *, port: int = 0) -> AsyncIterator[FakeGeminiLive]:
    """Serve a FakeGeminiLive with TLS (`write_certificate(tls_dir)` first) on 127.0.0.1;
    fail on exit if anything went wrong."""
    fake = FakeGeminiLive()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_dir / "cert.pem", tls_dir / "key.pem")
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    fake.base_url = f"https://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield fake
    finally:
        await fake.close_sockets()
        await runner.cleanup()
    assert not fake.problems, f"fake Gemini Live saw bad messages: {fake.problems}"
    assert not fake._queue, f"scripted turns never run: {fake._queue}"
