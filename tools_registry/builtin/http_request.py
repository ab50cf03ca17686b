"""`http_request`: call a business's own HTTP API, configured per tenant, not coded.

The tenant's settings give the URL, the method, a description and a JSON-schema of the
parameters the LLM passes (as the query string of a GET, the JSON body otherwise), and headers
whose values come from the tenant's secrets. Only http and https; loopback, private and
link-local addresses are refused unless `NEXUS_HTTP_TOOL_ALLOW_PRIVATE` is on; responses are cut
at `MAX_RESPONSE_BYTES`.
"""

import asyncio
import ipaddress
import json
import socket
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from django.conf import settings as django_settings

from nexus_project.logs import secrets_redact
from tenants_app.db import schema_run
from tools_registry.base import BaseTool, ToolContext, ToolError, ToolResult
from tools_registry.models import TenantSecret
from tools_registry.registry import register

MAX_RESPONSE_BYTES = 64 * 1024
SETTINGS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["url"],
    "properties": {
        "url": {"type": "string", "pattern": r"^https?://", "title": "URL"},
        "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
        "title": {"type": "string", "maxLength": 60, "description": "the caller's card names it"},
        "description": {"type": "string"},
        "parameters": {
            "type": "object",
            "description": "a JSON schema of what the agent sends: a GET's query, else the body",
        },
        "secret_headers": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "header name -> name of one of the tenant's secrets",
        },
        "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 30},
    },
}


async def _check_host(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ToolError("only http and https URLs can be requested")
    if django_settings.NEXUS_HTTP_TOOL_ALLOW_PRIVATE:
        return
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError as error:
        raise ToolError(f"cannot resolve {parts.hostname}: {error.strerror}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise ToolError(f"{parts.hostname} is a private or local address: not allowed")


def _secrets(names: list[str]) -> dict[str, str]:
    return dict(TenantSecret.objects.filter(name__in=names).values_list("name", "value"))


@register
class HttpRequest(BaseTool):
    name = "http_request"
    title = "Looking it up"
    description = "Call the business's own web service."
    settings_schema = SETTINGS_SCHEMA
    slow = True  # network: run in a worker, off the call's loop
    timeout = 15.0

    def title_for(self, settings: dict[str, Any]) -> str:
        return settings.get("title") or self.title

    def description_for(self, settings: dict[str, Any]) -> str:
        return settings.get("description") or self.description

    def parameters_for(self, settings: dict[str, Any]) -> dict[str, Any]:
        return settings.get("parameters") or {"type": "object", "properties": {}}

    async def execute(self, context: ToolContext, arguments: dict[str, Any]) -> ToolResult:
        config = context.settings
        url, method = config["url"], config.get("method", "GET")
        await _check_host(url)
        secret_headers = config.get("secret_headers", {})
        secrets = await schema_run(context.schema_name, _secrets, list(secret_headers.values()))
        secrets_redact(secrets.values())  # whatever fails from here on, logs never show them
        missing = sorted(set(secret_headers.values()) - set(secrets))
        if missing:
            raise ToolError(f"missing secret(s): {', '.join(missing)}")
        headers = {header: secrets[name] for header, name in secret_headers.items()}
        query, body = (arguments, None) if method == "GET" else (None, arguments)
        timeout = aiohttp.ClientTimeout(total=config.get("timeout_seconds", 10))
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(
                method, url, params=query, json=body, headers=headers, allow_redirects=False
            ) as response,
        ):
            raw = await response.content.read(MAX_RESPONSE_BYTES + 1)
        text = raw[:MAX_RESPONSE_BYTES].decode("utf-8", errors="replace")
        try:
            payload: Any = json.loads(text)
        except ValueError:
            payload = text
        data = {
            "status": response.status,
            "body": payload,
            "truncated": len(raw) > MAX_RESPONSE_BYTES,
        }
        if response.status >= 400:
            raise ToolError(f"the service answered {response.status}")
        return ToolResult(data, f"{urlsplit(url).hostname} answered")
