"""A local fake of Gemini's REST API, for running the real google-genai SDK in tests.

It serves ``POST /v1beta/models/{model}:generateContent`` and ``:streamGenerateContent?alt=sse``
on 127.0.0.1, answering from a queue of scripted responses (text in several chunks, function
calls, JSON text, generated speech, Google-style errors, a hang). It checks every request the
way the real API would (API key header, ``contents``/``tools``/``generationConfig`` shapes,
speech generation only from a ``-tts`` model, with a prebuilt voice) and records it; a
malformed request, an unexpected one or a scripted response left unused makes the context
manager fail the test on exit, even when the code under test swallowed the error.

    async with fake_gemini() as fake:
        fake.script(text_reply("Hello", " there"))
        client = genai.Client(api_key=API_KEY, http_options={"base_url": fake.base_url})
"""

import asyncio
import base64
import binascii
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiohttp import web

from voice.engines.voices import GEMINI_VOICES

API_KEY = "test-gemini-key"
_PATH = re.compile(
    r"^/v1beta/models/(?P<model>[\w.\-]+):(?P<action>generateContent|streamGenerateContent)$"
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
_REQUEST_KEYS = {"contents", "systemInstruction", "tools", "toolConfig", "generationConfig"}
_PART_KINDS = {"text", "inlineData", "functionCall", "functionResponse"}
_MODALITIES = {"TEXT", "IMAGE", "AUDIO"}
_VOICE_NAMES = {voice.id for voice in GEMINI_VOICES}
_ERROR_STATUS = {
    400: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


@dataclass(frozen=True)
class Scripted:
    """One scripted answer: response chunks (streamed one SSE event each), or an error status."""

    chunks: tuple[dict[str, Any], ...] = ()
    status: int = 200
    hang_seconds: float = 0.0


@dataclass(frozen=True)
class Recorded:
    """One request as the fake received it."""

    model: str
    stream: bool
    headers: dict[str, str]
    body: dict[str, Any]

    def texts(self, role: str | None = None) -> list[str]:
        """The text parts of ``contents`` (of one role, when given), in order."""
        return [
            part["text"]
            for content in self.body["contents"]
            if role is None or content["role"] == role
            for part in content["parts"]
            if "text" in part
        ]

    @property
    def system_text(self) -> str:
        return " ".join(part["text"] for part in self.body["systemInstruction"]["parts"])

    @property
    def voice_name(self) -> str:
        """The prebuilt voice a speech-generation request asks for."""
        return _voice_name(_field(self.body["generationConfig"], "speechConfig"))


def _chunk(*parts: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "modelVersion": "fake-gemini"}


def text_reply(*pieces: str) -> Scripted:
    """A text answer streamed in ``pieces`` (one chunk each; joined for generateContent)."""
    last = len(pieces) - 1
    return Scripted(
        tuple(
            _chunk({"text": p}, finish="STOP" if i == last else None) for i, p in enumerate(pieces)
        )
    )


def json_reply(value: Any) -> Scripted:
    """A structured-output answer: ``value`` as JSON text (or ``value`` itself when a str)."""
    return text_reply(value if isinstance(value, str) else json.dumps(value))


def function_call_reply(name: str, args: dict[str, Any], call_id: str | None = None) -> Scripted:
    call: dict[str, Any] = {"name": name, "args": args} | ({"id": call_id} if call_id else {})
    return Scripted((_chunk({"functionCall": call}, finish="STOP"),))


def audio_reply(pcm: np.ndarray, rate: int = 24_000) -> Scripted:
    """A speech-generation answer: ``pcm`` (int16) as inline little-endian PCM16 at ``rate``."""
    data = base64.b64encode(np.asarray(pcm, dtype="<i2").tobytes()).decode()
    audio = {"inlineData": {"mimeType": f"audio/L16;codec=pcm;rate={rate}", "data": data}}
    return Scripted((_chunk(audio, finish="STOP"),))


def error_reply(status: int) -> Scripted:
    return Scripted(status=status)


def hang_reply(seconds: float) -> Scripted:
    """An answer that starts only after ``seconds`` (to trip the client's timeout)."""
    return Scripted(text_reply("too late").chunks, hang_seconds=seconds)


def _field(message: dict[str, Any], name: str) -> Any:
    """A field by its JSON name; like Google's proto-JSON parser, accept its snake_case form."""
    return message.get(name, message.get(re.sub(r"([A-Z])", r"_\1", name).lower()))


def decoded_bytes(data: str) -> bytes:
    """A proto-JSON bytes field: base64, standard or URL-safe (the SDK sends URL-safe)."""
    return base64.b64decode(data.replace("-", "+").replace("_", "/"), validate=True)


def _check_part(part: Any, where: str) -> list[str]:
    if not isinstance(part, dict) or len(_PART_KINDS & part.keys()) != 1:
        return [f"{where}: a part holds exactly one of {sorted(_PART_KINDS)}: {part!r:.200}"]
    if "inlineData" in part:
        data = part["inlineData"]
        try:
            decoded_bytes(data["data"])
        except (KeyError, TypeError, binascii.Error):
            return [f"{where}: inlineData needs base64 data: {data!r:.200}"]
        if not _field(data, "mimeType"):
            return [f"{where}: inlineData needs a mimeType"]
    if "functionResponse" in part:
        response = part["functionResponse"]
        if not response.get("name") or not isinstance(response.get("response"), dict):
            return [f"{where}: functionResponse needs a name and a response object: {response!r}"]
    return []


def _voice_name(speech: Any) -> Any:
    voice = _field(speech or {}, "voiceConfig") or {}
    return _field(_field(voice, "prebuiltVoiceConfig") or {}, "voiceName")


def _check_speech(model: str, body: dict[str, Any]) -> list[str]:
    """Speech generation: audio out from a TTS model only, text in, a prebuilt voice."""
    config = body.get("generationConfig", {})
    modalities = _field(config, "responseModalities") or ["TEXT"]
    if not set(modalities) <= _MODALITIES:
        return [f"unknown responseModalities {modalities!r}"]
    if ("AUDIO" in modalities) != model.endswith("-tts"):
        return [f"model {model} does not support the response modalities {modalities!r}"]
    speech = _field(config, "speechConfig")
    if "AUDIO" not in modalities:
        return ["speechConfig without the AUDIO response modality"] if speech else []
    problems = []
    if _voice_name(speech) not in _VOICE_NAMES:
        problems.append(f"speechConfig needs a prebuilt Gemini voice: {speech!r:.200}")
    if any("text" not in part for content in body["contents"] for part in content["parts"]):
        problems.append("speech generation takes text only")
    return problems


def _check_body(model: str, body: Any) -> list[str]:
    """What the real API would reject (or what the SDK should never send)."""
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    problems = [f"unknown request field {key!r}" for key in body.keys() - _REQUEST_KEYS]
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return [*problems, "contents must be a non-empty list"]
    for i, content in enumerate(contents):
        if content.get("role") not in ("user", "model") or not content.get("parts"):
            problems.append(f"contents[{i}] needs role user/model and parts: {content!r:.200}")
            continue
        for j, part in enumerate(content["parts"]):
            problems += _check_part(part, f"contents[{i}].parts[{j}]")
    if "systemInstruction" in body:
        parts = body["systemInstruction"].get("parts") or [{}]
        if not all(isinstance(p.get("text"), str) for p in parts):
            problems.append("systemInstruction must be text parts")
    for tool in body.get("tools", []):
        for declaration in tool.get("functionDeclarations") or [None]:
            if (
                not isinstance(declaration, dict)
                or not _NAME.match(declaration.get("name", ""))
                or not isinstance(declaration.get("description"), str)
                or not isinstance(_field(declaration, "parametersJsonSchema"), dict)
            ):
                problems.append(f"bad function declaration {declaration!r}")
    config = body.get("generationConfig", {})
    if config.get("responseMimeType") == "application/json" and not (
        isinstance(config.get("responseJsonSchema"), dict)
    ):
        problems.append("JSON output requested without a responseJsonSchema")
    return problems or _check_speech(model, body)  # which needs well-formed contents


def _error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": _ERROR_STATUS.get(status)}}


@dataclass
class FakeGemini:
    """The running fake: script answers, then read ``requests`` and ``problems``."""

    base_url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    _queue: list[Scripted] = field(default_factory=list)
    _always: Scripted | None = None

    def script(self, *answers: Scripted) -> None:
        """Answer the next requests with ``answers``, in order."""
        self._queue.extend(answers)

    def always(self, answer: Scripted) -> None:
        """Answer every request with ``answer`` once the scripted queue is empty."""
        self._always = answer

    async def handle(self, request: web.Request) -> web.StreamResponse:
        match = _PATH.match(request.path)
        stream = bool(match) and match["action"] == "streamGenerateContent"
        if not match or (stream and request.query.get("alt") != "sse"):
            return self._refuse(404, f"unexpected request {request.method} {request.path_qs}")
        if request.headers.get("x-goog-api-key") != API_KEY:
            return self._refuse(400, "missing or wrong x-goog-api-key header")
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return self._refuse(400, "the body is not JSON")
        self.requests.append(Recorded(match["model"], stream, dict(request.headers), body))
        if problems := _check_body(match["model"], body):
            return self._refuse(400, "; ".join(problems))
        if not self._queue and self._always is None:
            return self._refuse(400, "no scripted response left")
        answer = self._queue.pop(0) if self._queue else self._always
        assert answer is not None
        await asyncio.sleep(answer.hang_seconds)
        if request.transport is None or request.transport.is_closing():
            return web.Response(status=499)  # the client gave up waiting: nobody to answer
        if answer.status != 200:
            message = f"fake gemini scripted error {answer.status}"
            return web.json_response(_error_body(answer.status, message), status=answer.status)
        if not stream:
            return web.json_response(_merged(answer.chunks))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for chunk in answer.chunks:
            await response.write(f"data: {json.dumps(chunk)}\r\n\r\n".encode())
            await asyncio.sleep(0.01)  # separate network reads, as the real stream has
        await response.write_eof()
        return response

    def _refuse(self, status: int, message: str) -> web.Response:
        self.problems.append(message)
        return web.json_response(_error_body(status, f"fake gemini: {message}"), status=status)


def _merged(chunks: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    """The chunks of a stream as one generateContent response (adjacent text parts joined)."""
    parts: list[dict[str, Any]] = []
    for chunk in chunks:
        for part in chunk["candidates"][0]["content"]["parts"]:
            if parts and "text" in part and "text" in parts[-1]:
                parts[-1] = {"text": parts[-1]["text"] + part["text"]}
            else:
                parts.append(part)
    return _chunk(*parts, finish="STOP")


@asynccontextmanager
async def fake_gemini() -> AsyncIterator[FakeGemini]:
    """Serve a FakeGemini on a free port of 127.0.0.1; fail on exit if anything went wrong."""
    fake = FakeGemini()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.base_url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()
    assert not fake.problems, f"fake Gemini saw bad requests: {fake.problems}"
    assert not fake._queue, f"scripted responses never requested: {fake._queue}"
