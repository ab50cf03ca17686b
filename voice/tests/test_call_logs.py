"""A call's log lines, in the web process and the Celery worker, as production writes them:
each names the tenant, the call and the persona; none holds a secret, a widget key or the
prompt."""

import logging
import uuid

import pytest
from channels.db import database_sync_to_async

from nexus_project.logs import redact
from nexus_project.tests.log_capture import captured_logs
from tenants_app.db import tenant_schema
from tools_registry.base import ToolContext, ToolError
from tools_registry.execution import tool_execute
from tools_registry.models import Booking, TenantSecret, ToolEnablement
from tools_registry.registry import tool_get
from voice.models import Persona
from voice.tests.conftest import JOES_ORIGIN, call

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

GEMINI_KEY = "AIzaSy-call-logs-test-key-4f9c2e"
TENANT_SECRET = "Bearer s3cret-call-logs-7d1a"
SECRET_NAME = "crm-token-logs"
PROJECT_LOGGERS = ("voice", "tools_registry", "nexus_project", "tenants_app")


@database_sync_to_async
def _http_tool_enable(secret: str) -> tuple[Persona, ToolEnablement | None]:
    """Joe's first persona gets `http_request` with `secret` in a header (committed); the
    persona, and the enablement it had before."""
    with tenant_schema("joes"):
        persona = Persona.objects.order_by("id").first()
        before = ToolEnablement.objects.filter(persona=persona, tool_name="http_request").first()
        TenantSecret.objects.update_or_create(name=SECRET_NAME, defaults={"value": secret})
        ToolEnablement.objects.update_or_create(
            persona=persona,
            tool_name="http_request",
            defaults={
                "is_enabled": True,
                "settings": {
                    "url": "https://crm.example/jobs",
                    "secret_headers": {"Authorization": SECRET_NAME},
                },
            },
        )
        return persona, before


@database_sync_to_async
def _http_tool_restore(persona: Persona, before: ToolEnablement | None) -> None:
    with tenant_schema("joes"):
        TenantSecret.objects.filter(name=SECRET_NAME).delete()
        if before is None:
            ToolEnablement.objects.filter(persona=persona, tool_name="http_request").delete()
        else:
            before.save()


@pytest.fixture
async def secret_in_a_tool(db) -> Persona:
    """Joe's persona with an `http_request` tool whose header is a tenant secret."""
    persona, before = await _http_tool_enable(TENANT_SECRET)
    yield persona
    await _http_tool_restore(persona, before)


@database_sync_to_async
def _unbook(call_id: str) -> None:
    with tenant_schema("joes"):
        Booking.objects.filter(call_id=call_id).delete()


async def say(caller, text: str) -> dict:
    await caller.send({"type": "text", "text": text})
    await caller.receive_until("transcript", role="caller", text=text)
    return await caller.receive_until("transcript", role="agent", final=True)


async def test_every_line_of_a_call_names_it_and_none_holds_a_secret(
    joes_key, open_day, settings, secret_in_a_tool, celery_worker
):
    settings.GEMINI_API_KEY = GEMINI_KEY
    settings.NEXUS_AGENT = "offline"
    said, _ = open_day
    persona = secret_in_a_tool
    with captured_logs() as logs:
        async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
            call_id = (await caller.receive())["call_id"]
            try:
                await say(caller, f"Can I book a haircut {said} at 3pm? My name is Jamie Lee")
                done = await say(caller, "Yes please")
                await caller.send({"type": "end"})
                await caller.receive_until("ended")
            finally:
                await _unbook(call_id)
    lines = logs.lines()

    assert done["text"] == "All done. Anything else I can do for you?"  # the worker booked it
    ours = [line for line in lines if line["logger"].split(".")[0] in PROJECT_LOGGERS]
    messages = [(line["logger"], line["message"]) for line in ours]
    assert ("voice.consumer", "call started: text mode") in messages
    assert ("voice.call.session", "call ended: caller_hangup") in messages
    worker = [m for name, m in messages if name == "tools_registry.execution"]
    assert worker and all(m.startswith("slow tool book_appointment succeeded") for m in worker)
    for line in ours:  # the worker's lines too: the persona came with the task
        assert (line["tenant"], line["call_id"], line["persona"]) == (
            "joes",
            call_id,
            persona.slug,
        ), line
    assert GEMINI_KEY not in logs.text
    assert TENANT_SECRET not in logs.text and "s3cret" not in logs.text
    assert joes_key.key not in logs.text
    assert persona.system_prompt.strip() not in logs.text


async def test_a_tenant_secret_a_tool_has_read_is_blanked_in_later_lines(
    joes, settings, secret_in_a_tool
):
    settings.NEXUS_HTTP_TOOL_ALLOW_PRIVATE = True
    secret = f"Token {uuid.uuid4().hex}"  # no secret read before (other tests') is part of it
    await _http_tool_enable(secret)  # the fixture restores it
    tool = tool_get("http_request")
    context = ToolContext(
        "joes",
        "call-1",
        secret_in_a_tool.pk,
        0,
        {"url": "http://127.0.0.1:9/jobs", "secret_headers": {"Authorization": SECRET_NAME}},
    )
    assert redact(secret) == secret  # not known before the tool reads it

    with captured_logs() as logs:
        with pytest.raises(ToolError):  # nothing listens on port 9
            await tool_execute(tool, context, {})
        logging.getLogger("voice.tests").warning("a library printed %s", secret)

    assert secret not in logs.text
    assert logs.lines()[-1]["message"] == "a library printed [redacted]"
