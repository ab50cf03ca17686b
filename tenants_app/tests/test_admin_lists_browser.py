"""Every list of a tenant's admin and of the platform admin fits a 1280-pixel-wide screen.

Real Chromium at 1280 x 800 opens each list linked from the admin's index, with rows in it whose
texts are as long as real ones get (an agent's sentence, a tool's error), and checks that the
page does not scroll sideways. Screenshots of the widest lists are kept under test-artifacts/.
"""

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from tenants_app.db import tenant_schema
from tenants_app.models import Tenant
from tenants_app.tests.factories import PASSWORD
from tools_registry.services import tool_invocation_finish, tool_invocation_start
from voice.models import Call, CallMode, EndReason, Persona, WidgetKey
from voice.services import call_end, call_start, transcript_entry_add, widget_key_create
from voice.tests.browser import admin_create, artifact, chromium, live_server

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]

SCREEN = {"width": 1280, "height": 800}
LONG_SENTENCE = (
    "We're open Tuesday to Saturday from nine in the morning to six in the evening, and you can "
    "book a haircut, a beard trim or both by phone."
)
KEY_LABEL = "Joe's main web site"


@database_sync_to_async
def joes_rows_create() -> None:
    """A finished call with a transcript, a failed tool and a booking-sized key, in Joe's schema."""
    tenant = Tenant.objects.get(slug="joes")
    with tenant_schema(tenant.schema_name):
        persona = Persona.objects.get()
        key = widget_key_create(
            tenant=tenant,
            persona=persona,
            allowed_origins=["https://www.joes-barbershop.example", "https://joes.example"],
            label=KEY_LABEL,
        )
        call_id = call_start(
            tenant_id=tenant.pk, persona_id=persona.pk, widget_key_id=key.pk, mode=CallMode.VOICE
        )
        transcript_entry_add(
            call_id=call_id, sequence=0, role="agent", text=LONG_SENTENCE, start_ms=0,
            end_ms=6000,
        )  # fmt: skip
        invocation = tool_invocation_start(
            call_id=call_id,
            tool_name="book_appointment",
            arguments={"day": "next Tuesday", "time": "half past three", "name": "Alexandra"},
        )
        tool_invocation_finish(
            invocation_id=invocation,
            elapsed=0.25,
            error="Tuesday 8 December at 15:30 is taken; the free times that day are 16:00, "
            "16:30 and 17:00.",
        )
        call_end(call_id=call_id, reason=EndReason.CALLER_HANGUP)


@database_sync_to_async
def operator_create() -> None:
    get_user_model().objects.create_superuser("operator", password=PASSWORD)


@database_sync_to_async
def committed_rows_delete() -> None:
    """What this test committed, so that the tests after it find the tenants as they were."""
    get_user_model().objects.filter(username="operator").delete()
    with tenant_schema(Tenant.objects.get(slug="joes").schema_name):
        Call.objects.filter(widget_key__label=KEY_LABEL).delete()
        WidgetKey.objects.filter(label=KEY_LABEL).delete()


async def sign_in(page, url: str, username: str) -> None:
    await page.goto(url)
    await page.fill("#id_username", username)
    await page.fill("#id_password", PASSWORD)
    await page.click("input[type=submit]")
    await page.wait_for_selector("#content-main")


async def list_urls(page) -> list[str]:
    """The lists the admin's index links to (each model's change list)."""
    return await page.eval_on_selector_all(
        "#content-main .module th[scope=row] a", "links => links.map(link => link.href)"
    )


async def overflow_px(page) -> int:
    """How far the page scrolls sideways (0: it fits the window)."""
    return await page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


async def lists_too_wide(page, index_url: str, shot_prefix: str) -> dict[str, int]:
    await page.goto(index_url)
    urls = await list_urls(page)
    assert urls, f"no lists linked from {index_url}"
    too_wide = {}
    for url in urls:
        await page.goto(url)
        if overflow := await overflow_px(page):
            too_wide[url] = overflow
        if "/voice/call/" in url or "/tenants_app/tenant/" in url:
            await page.screenshot(path=artifact(f"{shot_prefix}-list-1280.png"))
    return too_wide


async def test_every_admin_list_fits_1280_pixels(db):
    await joes_rows_create()
    await operator_create()
    try:
        async with (
            admin_create("joes", "joes-lists"),
            live_server() as server,
            chromium() as browser,
        ):
            page = await browser.new_page(viewport=SCREEN)
            await sign_in(page, server.url("joes.localhost", "/admin/login/"), "joes-lists")
            tenant_lists = await lists_too_wide(
                page, server.url("joes.localhost", "/admin/"), "tenant-calls"
            )
            await sign_in(page, server.url("localhost", "/admin/login/"), "operator")
            platform_lists = await lists_too_wide(
                page, server.url("localhost", "/admin/"), "platform-tenants"
            )
    finally:
        await committed_rows_delete()

    assert tenant_lists == {}, f"lists wider than 1280 px (by px): {tenant_lists}"
    assert platform_lists == {}, f"lists wider than 1280 px (by px): {platform_lists}"
