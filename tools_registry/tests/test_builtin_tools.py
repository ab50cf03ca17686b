"""The built-in generic tools other than the calendar: HTTP requests, knowledge, the call."""

import contextlib

import pytest
from aiohttp import web
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from tenants_app.db import tenant_schema
from tools_registry.base import ToolContext, ToolError
from tools_registry.builtin.http_request import MAX_RESPONSE_BYTES
from tools_registry.models import TenantSecret
from tools_registry.registry import tool_get
from tools_registry.tests.helpers import finished_call
from voice.models import Call, Persona
from voice.monitor.events import staff_group

pytestmark = pytest.mark.django_db


@database_sync_to_async
def context_for(schema: str, settings: dict | None = None) -> ToolContext:
    with tenant_schema(schema):
        call = finished_call(Persona.objects.first())
        return ToolContext(schema, str(call.pk), call.persona_id, 0, settings or {})


@contextlib.asynccontextmanager
async def service():
    """A local HTTP service that records what it was asked."""
    seen: list[dict] = []

    async def jobs(request: web.Request) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        seen.append(
            {
                "query": dict(request.query),
                "body": body,
                "auth": request.headers.get("Authorization"),
            }
        )
        if request.query.get("big"):
            return web.Response(text="x" * (MAX_RESPONSE_BYTES + 10))
        if request.query.get("fail"):
            return web.json_response({"error": "nope"}, status=503)
        return web.json_response({"job": "fixed", "echo": body or dict(request.query)})

    app = web.Application()
    app.router.add_route("*", "/jobs", jobs)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/jobs", seen
    finally:
        await runner.cleanup()


@database_sync_to_async
def add_secret(schema: str, name: str, value: str) -> None:
    with tenant_schema(schema):
        TenantSecret.objects.update_or_create(name=name, defaults={"value": value})


async def test_http_request_sends_arguments_and_secret_headers(joes, settings):
    settings.NEXUS_HTTP_TOOL_ALLOW_PRIVATE = True
    await add_secret("joes", "crm-token", "Bearer s3cret")
    async with service() as (url, seen):
        config = {"url": url, "method": "POST", "secret_headers": {"Authorization": "crm-token"}}
        result = await tool_get("http_request").execute(
            await context_for("joes", config), {"customer": "Ann"}
        )

    assert result.data["status"] == 200
    assert result.data["body"] == {"job": "fixed", "echo": {"customer": "Ann"}}
    assert seen == [{"query": {}, "body": {"customer": "Ann"}, "auth": "Bearer s3cret"}]


async def test_http_request_get_sends_a_query_and_cuts_big_answers(joes, settings):
    settings.NEXUS_HTTP_TOOL_ALLOW_PRIVATE = True
    async with service() as (url, seen):
        result = await tool_get("http_request").execute(
            await context_for("joes", {"url": url}), {"big": "1"}
        )

    assert seen[0]["query"] == {"big": "1"}
    assert result.data["truncated"] is True
    assert len(result.data["body"]) == MAX_RESPONSE_BYTES


async def test_http_request_refuses_loopback_and_private_hosts(joes):
    for url in ("http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://localhost/x"):
        with pytest.raises(ToolError, match="private or local address"):
            await tool_get("http_request").execute(await context_for("joes", {"url": url}), {})


async def test_http_request_error_status_is_a_tool_error(joes, settings):
    settings.NEXUS_HTTP_TOOL_ALLOW_PRIVATE = True
    async with service() as (url, _):
        with pytest.raises(ToolError, match="answered 503"):
            await tool_get("http_request").execute(
                await context_for("joes", {"url": url}), {"fail": "1"}
            )


async def test_http_request_with_a_missing_secret_says_which(joes, settings):
    settings.NEXUS_HTTP_TOOL_ALLOW_PRIVATE = True
    config = {"url": "http://127.0.0.1:9/x", "secret_headers": {"X-Key": "not-there"}}
    with pytest.raises(ToolError, match="missing secret"):
        await tool_get("http_request").execute(await context_for("joes", config), {})


def test_http_request_settings_are_checked():
    tool = tool_get("http_request")
    assert tool.settings_errors({"url": "ftp://x"}) == [
        "url: 'ftp://x' does not match '^https?://'"
    ]
    assert tool.settings_errors({"url": "https://api.example.com", "method": "GET"}) == []


async def test_knowledge_search_finds_the_personas_notes(pizza):
    result = await tool_get("knowledge_search").execute(
        await context_for("pizza"), {"query": "how much is delivery"}
    )

    assert result.data["matches"][0]["title"] == "Delivery"
    assert "3 miles" in result.data["matches"][0]["content"]


async def test_transfer_marks_the_call_and_tells_the_staff(joes):
    layer = get_channel_layer()
    staff = await layer.new_channel()
    await layer.group_add(staff_group("joes"), staff)
    context = await context_for("joes")

    result = await tool_get("transfer_to_human").execute(context, {"reason": "angry"})
    event = await layer.receive(staff)

    assert result.data == {"transferred": True}
    assert event == {"type": "call.transfer", "call_id": context.call_id, "reason": "angry"}

    @database_sync_to_async
    def needs_human() -> bool:
        with tenant_schema("joes"):
            return Call.objects.get(pk=context.call_id).needs_human

    assert await needs_human()


async def test_end_call_asks_to_end_the_call(joes):
    result = await tool_get("end_call").execute(await context_for("joes"), {})
    assert result.ends_call is True
