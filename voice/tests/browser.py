"""Real-browser test helpers: Debian's Chromium driven by Playwright, and a live Nexus to call.

The live server is daphne serving `nexus_project.asgi:application` in a forked process, so it
shares the test database and the settings in force at the fork (e.g. `PERSONAPLEX_URLS` pointing
at an emulator served by the test's own event loop). Rows it reads must be committed: tests
write them from Channels' DB thread (`database_sync_to_async`), like the call tests do.
"""

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from aiohttp import web
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import override_settings

from bench.speech import silence, speak, write_wav
from tenants_app.db import tenant_schema
from tenants_app.models import Tenant
from voice.models import Call, CallStatus, Persona, TranscriptEntry
from voice.services import widget_key_create
from voice.sidecar.emulator import EmulatorConfig, running_emulator

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
SPEECH_VOICE = "en-us+f5"  # the espeak-ng voice pocketsphinx's English model understands best
# Keep Chromium off the (closed) network, and quiet.
QUIET_FLAGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    """Debian's Chromium; a missing browser fails the test with the way to install it."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the widget's browser tests need Debian's chromium. "
            "`make test` installs it (SYSTEM_PACKAGES), or run `apt-get install -y chromium`.",
            pytrace=False,
        )
    return str(CHROMIUM)


def fake_mic_wav(folder: Path) -> Path:
    """The fake microphone: 1 s of silence, two phrases 1 s apart, 1 s of silence (it loops)."""
    pcm = np.concatenate(
        [
            speak("where are you located", voice=SPEECH_VOICE),
            silence(1.0),
            speak("one two three four five", voice=SPEECH_VOICE),
        ]
    )
    path = folder / "caller.wav"
    write_wav(path, pcm, 24_000, pad_seconds=1.0)
    return path


@contextlib.asynccontextmanager
async def chromium(*, mic_wav: Path | None = None, allow_mic: bool = True) -> AsyncIterator:
    """A headless Chromium with a fake microphone; with `allow_mic=False` getUserMedia is
    refused at once (NotAllowedError), as for a caller who denies the permission."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail(
            "playwright is missing: `make test` installs it (requirements-dev.txt).", pytrace=False
        )
    args = [*QUIET_FLAGS, "--use-fake-device-for-media-stream"]
    if mic_wav is not None:
        args.append(f"--use-file-for-fake-audio-capture={mic_wav}")
    if allow_mic:
        args.append("--use-fake-ui-for-media-stream")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=args
        )
        try:
            yield browser
        finally:
            await browser.close()


def _server_setup() -> None:
    """In the server process, before it serves: undo what the fork copied but did not keep."""
    from asgiref.sync import SyncToAsync

    from nexus_project.serve import stop_gracefully_on_signals

    # Worker threads of the parent did not come along: a fresh one (the speech workers start
    # their own after a fork: `voice.speech`).
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
    # SIGTERM stops the server as production's does: the live calls end first, callers told.
    stop_gracefully_on_signals()


def _server_teardown() -> None:
    """In the server process, once it stopped: no speech-to-text worker may outlive it."""
    from voice.speech import pocketsphinx_stt

    if pocketsphinx_stt._executor is not None:
        pocketsphinx_stt._executor.shutdown(wait=True, cancel_futures=True)


def _application():
    from nexus_project.asgi import application

    return application


class LiveServer:
    """Daphne in a forked process on 127.0.0.1; `url(host)` names a tenant's host on it."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.process = None

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def origin(self, host: str) -> str:
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        from daphne.testing import DaphneProcess

        # The child must not share this process's DB sockets. The test's own connection, in
        # its test transaction, stays open here: the child never touches it (its requests and
        # its DB thread run on threads of their own) and dies without closing it.
        for connection in connections.all(initialized_only=True):
            if not connection.in_atomic_block:
                connection.close()
        self.process = DaphneProcess(
            host="127.0.0.1",
            get_application=_application,
            setup=_server_setup,
            teardown=_server_teardown,
            port=self.port,
        )
        # The child must not free this process's garbage either: PyAV objects of earlier calls
        # (a resampler's filter graph owns native threads) left in reference cycles, freed by
        # the child's collector, wait forever for threads that did not come along (the server
        # hangs, or crashes). Collected here, where their threads are, and the rest frozen:
        # the child's collector never looks at anything it inherited.
        gc.collect()
        gc.freeze()
        try:
            self.process.start()
        finally:
            gc.unfreeze()
        if not await asyncio.to_thread(self.process.ready.wait, 15):
            detail = "" if self.process.errors.empty() else self.process.errors.get(False)[1]
            self.process.terminate()
            raise RuntimeError(f"daphne did not start {detail}")
        self.port = self.process.port.value

    async def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()  # graceful: see _server_setup
            await asyncio.to_thread(self.process.join, 10)
            if self.process.is_alive():
                self.process.kill()
                await asyncio.to_thread(self.process.join, 5)
            self.process = None


@contextlib.asynccontextmanager
async def live_server(**overrides) -> AsyncIterator[LiveServer]:
    """A live Nexus on a free port, with `overrides` in its settings; calls it leaves behind
    are waited for (their sockets closed by the browser) before it stops."""
    server = LiveServer()
    with override_settings(**{"PERSONAPLEX_RETRY_INITIAL": 0.2, **overrides}):
        await server.start()
    try:
        yield server
    finally:
        await active_calls_wait()
        await server.stop()


@contextlib.asynccontextmanager
async def voice_server(config: EmulatorConfig) -> AsyncIterator[LiveServer]:
    """A live Nexus whose sidecar pool is one PersonaPlex emulator with `config`."""
    async with (
        running_emulator(config) as sidecar,
        live_server(PERSONAPLEX_URLS=[sidecar]) as server,
    ):
        yield server


@contextlib.asynccontextmanager
async def web_site(html: str) -> AsyncIterator[str]:
    """Serve one page at http://127.0.0.1:<free port>/ (a business's site); yields its origin."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


class FlakyNetwork:
    """A TCP relay in front of the live server: `drop()` cuts every open connection at once
    (a reset, as a lost network does), while new connections go through as before."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def drop(self) -> None:
        for writer in list(self._open):
            writer.transport.abort()

    async def stop(self) -> None:
        self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._open.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._open.difference_update((writer, up_writer))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.transport.abort()


@database_sync_to_async
def demo_key_create(slug: str, origins: list[str]) -> str:
    """A committed key labelled "demo" for `slug`'s first persona; returns the key."""
    tenant = Tenant.objects.get(slug=slug)
    with tenant_schema(tenant.schema_name):
        persona = Persona.objects.order_by("id").first()
        return widget_key_create(
            tenant=tenant, persona=persona, allowed_origins=origins, label="demo"
        ).key


@database_sync_to_async
def _user_commit(slug: str, username: str, roles: dict[str, bool] | None) -> None:
    """Create the staff user `username` in `slug`'s schema with `roles`; None deletes it."""
    from tenants_app.tests.factories import user_create

    with tenant_schema(Tenant.objects.get(slug=slug).schema_name):
        if roles is None:
            get_user_model().objects.filter(username=username).delete()
        else:
            user_create(username, **roles)


@contextlib.asynccontextmanager
async def staff_user(
    slug: str, username: str, *, superuser: bool = False, support: bool = False
) -> AsyncIterator[str]:
    """A committed staff user in `slug`'s schema while in the block; yields its password.
    It is deleted afterwards: the tests after this one find the tenant's users as they were."""
    from tenants_app.tests.factories import PASSWORD

    await _user_commit(slug, username, {"superuser": superuser, "support": support})
    try:
        yield PASSWORD
    finally:
        await _user_commit(slug, username, None)


def admin_create(slug: str, username: str) -> contextlib.AbstractAsyncContextManager[str]:
    """A committed staff superuser in `slug`'s schema while in the block (`staff_user`)."""
    return staff_user(slug, username, superuser=True)


@database_sync_to_async
def persona_pk(slug: str) -> int:
    with tenant_schema(Tenant.objects.get(slug=slug).schema_name):
        return Persona.objects.order_by("id").values_list("pk", flat=True).first()


@database_sync_to_async
def _active_calls() -> int:
    count = 0
    for tenant in Tenant.objects.exclude(schema_name="public"):
        with tenant_schema(tenant.schema_name):
            count += Call.objects.filter(status=CallStatus.ACTIVE).count()
    return count


async def active_calls_wait(timeout: float = 8) -> None:
    """Wait until the live server has closed every call (the browser has hung up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # polling: the calls end in another process
        if not await _active_calls():
            return
        await asyncio.sleep(0.1)


@database_sync_to_async
def tenant_get(slug: str) -> Tenant:
    return Tenant.objects.get(slug=slug)


@database_sync_to_async
def transcript_has(slug: str, text: str) -> bool:
    """Whether any stored transcript entry of `slug` contains `text`."""
    with tenant_schema(Tenant.objects.get(slug=slug).schema_name):
        return TranscriptEntry.objects.filter(text__icontains=text).exists()


@database_sync_to_async
def call_row(slug: str, call_id: str) -> Call | None:
    tenant = Tenant.objects.get(slug=slug)
    with tenant_schema(tenant.schema_name):
        return Call.objects.select_related("widget_key").filter(pk=call_id).first()


async def call_ended_wait(slug: str, call_id: str, timeout: float = 20) -> Call:
    """The call row once the server has closed it (its end reason and metrics stored)."""
    deadline = time.monotonic() + timeout
    while True:
        row = await call_row(slug, call_id)
        if (row and row.status == CallStatus.ENDED) or time.monotonic() > deadline:
            return row
        await asyncio.sleep(0.1)


def artifact(name: str) -> Path:
    """A path under test-artifacts/ (git-ignored), kept after the run for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
