"""In real Chromium, Joe's admin fills a tool's settings form and the business's opening hours,
sees a wrong value refused on its field, and saves; screenshots go to test-artifacts/.

What the test commits (a tool, settings, hours, the persona) is put back as it was at the end.
"""

from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from playwright.async_api import expect

from tenants_app.config import config_load
from tenants_app.db import tenant_schema
from tenants_app.models import Tenant
from tenants_app.services import tenant_onboard
from tools_registry.models import ToolEnablement
from voice.tests.browser import admin_create, artifact, chromium, live_server, persona_pk

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]

SCREEN = {"width": 1280, "height": 900}
JOES = "joes.localhost"
USERNAME = "joes-settings"
ORDERS_URL = "https://api.joes.example/orders"
JOES_CONFIG = Path(settings.BASE_DIR, "examples", "tenants", "joes", "config.yaml")


@database_sync_to_async
def joes_saved() -> tuple[dict, dict[str, dict]]:
    """Joe's opening hours, and his tools' settings by tool."""
    tenant = Tenant.objects.get(slug="joes")
    with tenant_schema(tenant.schema_name):
        tools = dict(ToolEnablement.objects.values_list("tool_name", "settings"))
    return tenant.opening_hours, tools


@database_sync_to_async
def joes_restore() -> None:
    """Joe as his example config has him: hours, persona (the page posted its text back with
    the browser's line ends), tools; saved, so that cached agents are dropped too."""
    tenant_onboard(config=config_load(JOES_CONFIG))


async def sign_in(page, server, password: str) -> None:
    await page.goto(server.url(JOES, "/admin/login/"))
    await page.fill("#id_username", USERNAME)
    await page.fill("#id_password", password)
    await page.click("input[type=submit]")
    await page.wait_for_selector("#content-main")


async def tool_row(page, tool_name: str) -> str:
    """The form prefix of the tool's row in the persona's page ("tools-1")."""
    select = page.locator(f"#tools-group select:has(option[value={tool_name}][selected])")
    return (await select.get_attribute("name")).removesuffix("-tool_name")


async def save_and_continue(page) -> None:
    await page.click("input[name=_continue]")
    await page.wait_for_load_state()


async def test_tool_settings_and_opening_hours_are_filled_in_as_forms(db):
    pk = await persona_pk("joes")
    try:
        async with (
            admin_create("joes", USERNAME) as password,
            live_server() as server,
            chromium() as browser,
        ):
            page = await browser.new_page(viewport=SCREEN)
            await sign_in(page, server, password)

            # A tool's settings: a wrong time zone is refused on its input, then fixed.
            await page.goto(server.url(JOES, f"/admin/voice/persona/{pk}/change/"))
            row = await tool_row(page, "check_availability")
            calendar = page.locator(f"#id_{row}-settings_jsonform")
            await calendar.locator('input[name="rjf§timezone"]').fill("Mars/Olympus")
            await calendar.locator('input[name="rjf§slot_minutes"]').fill("45")
            await save_and_continue(page)
            await expect(calendar.locator(".rjf-error-text")).to_have_text(
                "'Mars/Olympus' is not a known time zone"
            )
            await expect(calendar.locator('input[name="rjf§slot_minutes"]')).to_have_value("45")
            await calendar.locator('input[name="rjf§timezone"]').fill("")
            await calendar.locator('input[name="rjf§calendar"]').fill("chairs")

            # Another tool, chosen in a new row: the form becomes that tool's.
            await page.click("#tools-group .add-row a")
            new_row = page.locator("#tools-group .dynamic-tools").last
            await new_row.locator("select[name$=-tool_name]").select_option("http_request")
            request = new_row.locator(".django-jsonform-container")
            await request.locator('input[name="rjf§url"]').fill(ORDERS_URL)
            await request.locator('select[name="rjf§method"]').select_option("POST")
            await save_and_continue(page)
            await expect(page.locator(".messagelist .success")).to_contain_text("was changed")
            await page.locator("#tools-group").screenshot(path=artifact("tool-settings-form.png"))

            # The week of opening hours: closing before opening is refused on its day.
            await page.goto(server.url(JOES, "/admin/tenants_app/businesssettings/"))
            await page.fill("#id_hours_mon_0", "10:00")
            await page.fill("#id_hours_mon_1", "08:00")
            await save_and_continue(page)
            await expect(page.locator(".field-hours_mon .errorlist")).to_have_text(
                "10:00-08:00 closes before it opens."
            )
            await page.fill("#id_hours_mon_1", "16:00")
            await page.fill("#id_hours_tue_0", "")
            await page.fill("#id_hours_tue_1", "")
            await page.fill("#id_hours_sat_1", "12:00")
            await page.fill("#id_hours_sat_2", "13:00")
            await page.fill("#id_hours_sat_3", "17:00")
            await save_and_continue(page)
            await expect(page.locator(".messagelist .success")).to_contain_text("was changed")
            await page.screenshot(path=artifact("opening-hours.png"), full_page=True)

        hours, tools = await joes_saved()
        assert tools["check_availability"] == {"calendar": "chairs", "slot_minutes": 45}
        assert tools["http_request"] == {"url": ORDERS_URL, "method": "POST"}
        assert hours == {
            "mon": [["10:00", "16:00"]],
            **{day: [["09:00", "18:00"]] for day in ("wed", "thu", "fri")},
            "sat": [["09:00", "12:00"], ["13:00", "17:00"]],
        }
    finally:
        await joes_restore()
