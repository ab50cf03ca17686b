"""The voice engines through real `/ws/call/` calls: how soon the agent answers the caller's last
word, how soon a barge-in is heard, and the CPU an engine's calls cost the server.

One daphne serves three personas of tenant `bench`, one per engine: the cascade (offline
speech-to-text, the offline agent, eSpeak NG), PersonaPlex against the emulator (served by this
process, its echo `ECHO_STEPS` steps late, so that the caller can speak while the agent's voice,
the echo, still plays) and Gemini Live against the local fake of the Live API (this process too,
over TLS with a certificate made for the run). A caller streams 20 ms frames of PCM16 at real-time
pace, silence between espeak-ng phrases, and times what comes back on arrival:

- answer: from the caller's last loud frame sent to the first loud agent audio received after it;
  for PersonaPlex, whose answer is the echo, to the last loud audio of the echo, less the echo's
  configured delay (what the bridge adds to the echo of the last word);
- barge-in: from the first loud frame of a phrase said while the agent speaks to `interrupt`;
- CPU: daphne's, with its speech-to-text workers, per call-minute (psutil), one call at a time
  for each engine, then `CONCURRENT` cascade calls at once.

Figures are printed, never judged. A step that does not happen in time is noted and skipped.
"""

import asyncio
import contextlib
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import numpy as np
from aiohttp import WSMsgType
from django.conf import settings

from bench.processes import BenchError, ChildProcesses
from bench.resources import Watched, cpu_used, machine_busy
from bench.server import Server, daphne_start
from bench.speech import speak
from bench.tenant import ORIGIN, BenchTenant, bench_tenant_prepare
from tenants_app.db import tenant_schema
from tenants_app.models import Tenant
from voice.audio.base import FULL_SCALE, PCM_RATE
from voice.engines.names import EngineName
from voice.engines.voices import DEFAULT_VOICES
from voice.models import KnowledgeItem, Persona, WidgetKey
from voice.services import widget_key_create
from voice.sidecar.emulator import EmulatorConfig, running_emulator

# The fake Live API needs no test-only package (aiohttp, cryptography: runtime dependencies). It
# is imported by name, so that the type check stays off the test code, as mypy is configured.
live_fake = importlib.import_module("voice.tests.fake_gemini_live")

VOICE = "en-us+f5"  # the caller's espeak-ng voice
QUESTION = "what are your opening hours"
BARGE = "sorry what are your hours"
ANSWER = "Open every day from 9 to 5."
TURNS = 5  # questions per call; `BARGE_TURNS` of them are barged in on
BARGE_TURNS = (1, 3)
CONCURRENT = 3  # cascade calls at once, for CPU (a tenant's default calls per client)
STAGGER_SECONDS = 0.5  # between their connects: the server has counted out the calls before
ECHO_STEPS = 25  # the emulator's echo: 25 steps of 80 ms late
FRAME = PCM_RATE // 50
LOUD = 0.01 * FULL_SCALE  # a sample above this (-40 dBFS) is voice, not silence or codec noise
QUIET_SECONDS = 0.8  # of no loud agent audio: the agent's turn is over
BARGE_AFTER_SECONDS = 0.8  # into the agent's answer, the caller speaks over it
WAIT_SECONDS = 20.0  # for a step of the call: the machine may be busy
GREETING_SECONDS = 6.0  # PersonaPlex's emulator does not greet: waited for in vain


def _say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


@dataclass
class _Utterance:
    first_loud: float | None = None  # loop time its first / last loud frame was sent
    last_loud: float | None = None
    sent: bool = False


@dataclass
class _Line:
    """One call's socket: a microphone sending frames in real time, and what comes back."""

    ws: aiohttp.ClientWebSocketResponse
    agent_loud: list[float] = field(default_factory=list)  # arrival of loud agent audio
    messages: list[tuple[float, dict]] = field(default_factory=list)
    _frames: deque[tuple[np.ndarray, _Utterance, bool]] = field(default_factory=deque)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def say(self, pcm: np.ndarray) -> _Utterance:
        utterance = _Utterance()
        starts = range(0, len(pcm), FRAME)
        for start in starts:
            self._frames.append((pcm[start : start + FRAME], utterance, start == starts[-1]))
        return utterance

    async def microphone(self) -> None:
        loop = asyncio.get_running_loop()
        began, sent = loop.time(), 0
        while not self.ws.closed:
            await asyncio.sleep(max(0.0, began + sent * 0.02 - loop.time()))
            frame = np.zeros(FRAME, dtype=np.int16)
            if self._frames:
                pcm, utterance, last = self._frames.popleft()
                frame[: len(pcm)] = pcm
                if np.abs(pcm.astype(np.int32)).max(initial=0) > LOUD:
                    utterance.first_loud = utterance.first_loud or loop.time()
                    utterance.last_loud = loop.time()
                utterance.sent = last
            with contextlib.suppress(ConnectionError, aiohttp.ClientError):
                await self.ws.send_bytes(frame.tobytes())
            sent += 1
            self._changed.set()

    async def listen(self) -> None:
        loop = asyncio.get_running_loop()
        async for message in self.ws:
            if message.type == WSMsgType.BINARY:
                samples = np.frombuffer(message.data, dtype="<i2")
                if np.abs(samples.astype(np.int32)).max(initial=0) > LOUD:
                    self.agent_loud.append(loop.time())
            elif message.type == WSMsgType.TEXT:
                self.messages.append((loop.time(), json.loads(message.data)))
            self._changed.set()

    async def until(self, holds: Callable[[], bool], seconds: float = WAIT_SECONDS) -> bool:
        """Wait until `holds()` (checked at every frame either way); False after `seconds`."""
        deadline = asyncio.get_running_loop().time() + seconds
        while not holds():
            self._changed.clear()
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        return True

    def message_at(self, kind: str, after: float = 0.0) -> float | None:
        return next((t for t, m in self.messages if m["type"] == kind and t >= after), None)

    def loud_after(self, moment: float) -> float | None:
        return next((t for t in self.agent_loud if t > moment), None)

    def quiet_since(self, moment: float, seconds: float = QUIET_SECONDS) -> bool:
        last = max([moment, *self.agent_loud[-1:]])
        return asyncio.get_running_loop().time() - last >= seconds


@dataclass
class _Conversation:
    answers: list[float] = field(default_factory=list)  # seconds
    barge_ins: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0  # from connecting to `ended`
    moves: list[dict] = field(default_factory=list)  # `mode` messages


@dataclass(frozen=True)
class _Engine:
    name: EngineName
    title: str
    key: str
    echo_delay: float | None = None  # the answer is the caller's echo, this late
    before: Callable[[str], None] = lambda phrase: None  # told each phrase before it is said


async def _turn(
    line: _Line, engine: _Engine, result: _Conversation, *, turn: int, barge: bool
) -> None:
    """A question, its answer timed; with `barge`, the caller then speaks over the answer."""
    engine.before(QUESTION)
    question = line.say(speak(QUESTION, voice=VOICE))
    await line.until(lambda: question.sent)
    said = question.last_loud or 0.0
    if not await line.until(lambda: line.loud_after(said) is not None):
        result.notes.append(f"turn {turn + 1}: no answer within {WAIT_SECONDS:g} s")
        return
    onset = line.loud_after(said) or said
    if engine.echo_delay is None:
        result.answers.append(onset - said)
    elif not barge and await line.until(lambda: line.quiet_since(onset, 0.5)):  # the echo's end
        result.answers.append(line.agent_loud[-1] - said - engine.echo_delay)
    if barge:
        await line.until(lambda: asyncio.get_running_loop().time() >= onset + BARGE_AFTER_SECONDS)
        if line.quiet_since(onset, 0.2):
            result.notes.append(f"turn {turn + 1}: the answer ended before the barge-in")
        else:
            engine.before(BARGE)
            over = line.say(speak(BARGE, voice=VOICE))
            await line.until(lambda: over.first_loud is not None)
            spoke = over.first_loud or 0.0
            if await line.until(lambda: line.message_at("interrupt", spoke) is not None):
                result.barge_ins.append((line.message_at("interrupt", spoke) or spoke) - spoke)
            else:
                result.notes.append(f"turn {turn + 1}: no `interrupt` within {WAIT_SECONDS:g} s")
            await line.until(lambda: over.sent)
            said = over.last_loud or said
            await line.until(lambda: line.loud_after(said) is not None, 5.0)
    await line.until(lambda: line.quiet_since(said))


async def _conversation(
    session: aiohttp.ClientSession,
    server: Server,
    engine: _Engine,
    turns: int,
    barges: bool,
    delay: float,
) -> _Conversation:
    await asyncio.sleep(delay)
    result = _Conversation()
    query = urlencode({"key": engine.key, "format": "pcm16", "rate": PCM_RATE})
    began = time.monotonic()
    try:
        ws = await session.ws_connect(server.call_url(query), headers={"Origin": ORIGIN})
    except (aiohttp.ClientError, OSError) as error:
        result.notes.append(f"connect failed: {type(error).__name__}")
        return result
    line = _Line(ws)
    tasks = [asyncio.create_task(line.microphone()), asyncio.create_task(line.listen())]
    try:
        if not await line.until(lambda: line.message_at("ready") is not None):
            result.notes.append(f"no `ready` ({ws.close_code})")
            return result
        ready = line.message_at("ready") or 0.0
        if await line.until(lambda: line.loud_after(ready) is not None, GREETING_SECONDS):
            await line.until(lambda: line.quiet_since(ready))
        for turn in range(turns):
            await _turn(line, engine, result, turn=turn, barge=barges and turn in BARGE_TURNS)
        hung_up = asyncio.get_running_loop().time()
        await ws.send_str(json.dumps({"type": "end"}))
        if not await line.until(lambda: line.message_at("ended", hung_up) is not None):
            result.notes.append("no `ended` after the hang-up")
    finally:
        result.seconds = time.monotonic() - began
        result.moves = [message for _, message in line.messages if message["type"] == "mode"]
        await ws.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return result


@dataclass(frozen=True)
class EngineFigures:
    title: str
    calls: int
    answers: list[float]  # seconds, every turn of every call
    barge_ins: list[float]
    cpu_per_call_minute: tuple[float, float] | None  # daphne, its children
    notes: list[str]


async def _measured(
    server: Server, engine: _Engine, *, calls: int, turns: int, barges: bool
) -> EngineFigures:
    watched = Watched(server.pid)
    before = watched.cpu()
    async with aiohttp.ClientSession() as session:
        results = await asyncio.gather(
            *(
                _conversation(session, server, engine, turns, barges, STAGGER_SECONDS * index)
                for index in range(calls)
            )
        )
    used = cpu_used(before, watched.cpu())
    minutes = sum(result.seconds for result in results) / 60
    counted = Counter(note for result in results for note in result.notes)
    notes = [f"{n} x {note}" if n > 1 else note for note, n in sorted(counted.items())]
    for move in {json.dumps(m) for result in results for m in result.moves}:
        notes.append(f"the call moved: {move} (the figures are not {engine.name}'s alone)")
    return EngineFigures(
        title=engine.title,
        calls=calls,
        answers=[seconds for result in results for seconds in result.answers],
        barge_ins=[seconds for result in results for seconds in result.barge_ins],
        cpu_per_call_minute=(used.own / minutes, used.children / minutes) if minutes else None,
        notes=notes,
    )


def _engine_keys(tenant: BenchTenant) -> dict[EngineName, str]:
    """A persona per engine in tenant `bench`, with a key for the bench's origin (idempotent)."""
    keys = {}
    tenant_row = Tenant.objects.get(schema_name=tenant.schema)
    with tenant_schema(tenant.schema):
        for name in EngineName:
            persona, _ = Persona.objects.update_or_create(
                slug=f"bench-{name.value.replace('_', '-')}",
                defaults={
                    "name": "Bench agent",
                    "system_prompt": "You answer the phone for a benchmark. Be brief.",
                    "greeting": "Hello, benchmark line.",
                    "voice_provider": name,
                    "voice_id": DEFAULT_VOICES[name],
                },
            )
            KnowledgeItem.objects.update_or_create(
                persona=persona, title="Opening hours", defaults={"content": ANSWER}
            )
            key = WidgetKey.objects.filter(persona=persona, is_active=True, label="bench").first()
            if key is None or key.allowed_origins != [ORIGIN]:
                key = widget_key_create(
                    tenant=tenant_row, persona=persona, allowed_origins=[ORIGIN], label="bench"
                )
            keys[name] = key.key
    return keys


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """`values` in this process's environment while a child starts with it."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.asynccontextmanager
async def _gemini_live_fake(folder: Path, notes: list[str]) -> AsyncIterator[Any]:
    """The fake Live API, serving; what it found wrong goes to `notes` (it does not fail)."""
    try:
        live_fake.write_certificate(folder)
        async with live_fake.fake_gemini_live(folder) as fake:
            yield fake
    except AssertionError as error:  # the fake's verdict on exit: a bad message, a turn unused
        notes.append(f"Gemini Live fake: {error}")


def _fake_script(fake: Any) -> Callable[[str], None]:
    """Before each phrase the caller says, the fake's next turn: a tone as long as an answer."""
    seconds = {QUESTION: 2.5, BARGE: 1.0}

    def before(phrase: str) -> None:
        fake.script(live_fake.ModelTurn(words=("Open every day.",), seconds=seconds[phrase]))

    return before


async def _run(
    keys: dict[EngineName, str], processes: ChildProcesses, notes: list[str]
) -> list[EngineFigures]:
    echo = EmulatorConfig(
        load_base_seconds=0.05, load_per_word_seconds=0.0, echo_delay_steps=ECHO_STEPS
    )
    with tempfile.TemporaryDirectory() as folder:
        async with (
            running_emulator(echo) as sidecar,
            _gemini_live_fake(Path(folder), notes) as fake,
        ):
            fake.script(live_fake.ModelTurn(words=("Hello, benchmark line.",)))  # the greeting
            environment = {
                "NEXUS_AGENT": "offline",
                "NEXUS_TEXT_TO_SPEECH": "offline",  # not Gemini's, whose key is set for Live
                "GEMINI_API_KEY": live_fake.API_KEY,
                "GEMINI_BASE_URL": fake.base_url,
                "SSL_CERT_FILE": str(Path(folder) / "cert.pem"),  # the fake's own certificate
            }
            with _environment(environment):
                server = await asyncio.to_thread(daphne_start, processes, sidecar_urls=[sidecar])
            cascade = _Engine(EngineName.CASCADE, "cascade (offline)", keys[EngineName.CASCADE])
            engines = [
                cascade,
                _Engine(
                    EngineName.PERSONAPLEX,
                    f"PersonaPlex, the emulator (echo {ECHO_STEPS * 80} ms late)",
                    keys[EngineName.PERSONAPLEX],
                    echo_delay=ECHO_STEPS * 0.08,
                ),
                _Engine(
                    EngineName.GEMINI_LIVE,
                    "Gemini Live, the local fake of the Live API",
                    keys[EngineName.GEMINI_LIVE],
                    before=_fake_script(fake),
                ),
            ]
            _say("engines: warm-up cascade calls (speech-to-text workers, eSpeak NG)")
            await _measured(server, cascade, calls=CONCURRENT, turns=1, barges=False)
            figures = []
            for engine in engines:
                _say(f"engines: {engine.title}, 1 call, {TURNS} turns")
                figures.append(await _measured(server, engine, calls=1, turns=TURNS, barges=True))
            _say(f"engines: {CONCURRENT} cascade calls at once, 2 turns each")
            at_once = await _measured(server, cascade, calls=CONCURRENT, turns=2, barges=False)
            figures.append(at_once)
    return figures


def _ms(seconds: list[float]) -> str:
    if not seconds:
        return "none measured"
    p50, p99 = np.percentile(seconds, (50, 99)) * 1000
    return f"p50 {p50:.0f}  p99 {p99:.0f} ms  ({len(seconds)})"


def engines_render(figures: list[EngineFigures], notes: list[str], load: str) -> str:
    rows: list[tuple[str, str] | str] = []
    for figure in figures:
        rows.append(f"{figure.title}, {figure.calls} call{'s' if figure.calls > 1 else ''}")
        rows.append(("  caller's last word -> agent's first audio", _ms(figure.answers)))
        if figure.calls == 1:
            rows.append(("  barge-in: caller's speech onset -> `interrupt`", _ms(figure.barge_ins)))
        if figure.cpu_per_call_minute is not None:
            own, children = figure.cpu_per_call_minute
            cpu = f"{own + children:.2f} CPU s per call-minute"
            rows.append(("  CPU: daphne + its speech-to-text workers", cpu))
            rows.append(("    of which the workers", f"{children:.2f}"))
        rows += [f"  {note}" for note in figure.notes]
    width = max(len(row[0]) for row in rows if isinstance(row, tuple))
    lines = [
        "",
        "-- Voice engines through /ws/call/ (bench.engines; figures by arrival at the caller)",
        f"     {load}",
    ]
    for row in rows:
        lines.append(f"   {row}" if isinstance(row, str) else f"   {row[0].ljust(width)}  {row[1]}")
    lines += [f"   {note}" for note in notes]
    lines += [
        "     answer: the cascade's holds the caller's end-of-turn wait (VAD), speech-to-text,",
        "     the agent and its first sentence's speech; Gemini Live's the fake's 0.5 s wait for",
        "     the caller's turn to end; PersonaPlex's is the echo of the last word, less the",
        "     echo's delay (the emulator steps every 80 ms: to within one step). p99 of a few",
        "     turns is their worst. CPU: over the calls, connect to `ended`, per call-minute.",
    ]
    return "\n".join(lines)


def _load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def engine_bench_main(*, calls: int, tenant: BenchTenant | None = None) -> int:
    """Measure the engines and print their figures; the exit status of the benchmark."""
    processes = ChildProcesses(Path(settings.DATA_DIR) / "logs" / "engines")
    notes: list[str] = []
    began, busy = time.monotonic(), machine_busy()
    load_before = _load_average()
    try:
        if tenant is None or calls < CONCURRENT:  # the tenant's limit must allow the calls
            _say("setting up: migrations, platform, tenant `bench` and its keys")
            tenant = bench_tenant_prepare(calls=max(calls, CONCURRENT))
        figures = asyncio.run(_run(_engine_keys(tenant), processes, notes))
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        processes.stop_all()
    wall = time.monotonic() - began
    load = (
        f"before: {load_before}; during: {(machine_busy() - busy) / wall:.2f} CPUs busy "
        f"on average over {wall:.0f} s; logs: {processes.log_dir}"
    )
    print(engines_render(figures, notes, load))
    return 0
