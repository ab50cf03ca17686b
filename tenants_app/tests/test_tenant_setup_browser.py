"""An operator sets up a tenant in the platform admin, in real Chromium against a live Nexus; its
new admin chooses a password through the one-time link and logs in, and a caller talks to its
new agent on its demo page, all without restarting the server. Screenshots of the filled form,
of the page with the link and of the set-password page are kept under test-artifacts/.
"""

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from tenants_app.models import Tenant
from tenants_app.tests.factories import PASSWORD
from voice.tests.browser import artifact, chromium, live_server

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(240)]

SCREEN = {"width": 1280, "height": 900}
HOST = "acme.localhost"
WIDGET = "[data-nexus-widget]"
NEW_PASSWORD = "pipes-and-valves-2025"


@database_sync_to_async
def operator_create() -> None:
    get_user_model().objects.create_superuser("setup-operator", password=PASSWORD)


@database_sync_to_async
def committed_rows_delete() -> None:
    """The tenant (its schema with it) and the operator this test made, so that the tests after
    it find the tenants and users as they were."""
    for tenant in Tenant.objects.filter(slug="acme"):
        tenant.delete()  # auto_drop_schema: its schema, users and calls go too
    get_user_model().objects.filter(username="setup-operator").delete()


async def operator_fills_the_form(page, origin: str) -> None:
    await page.get_by_label("Business name").fill("Acme Plumbing")
    await page.get_by_label("Tenant id").fill("acme")
    await page.get_by_label("Domain").fill(HOST)
    await page.get_by_label("Time zone").select_option("America/Chicago")
    await page.get_by_label("Admin's username").fill("acme-admin")
    await page.get_by_label("Admin's email").fill("boss@acme.example")
    await page.get_by_label("Agent's name").fill("Olive")
    await page.get_by_label("Agent's instructions").fill(
        "You are Olive, Acme Plumbing's dispatcher. Book plumbers and answer briefly."
    )
    await page.get_by_label("Greeting").fill("Acme Plumbing, Olive speaking. How can I help?")
    await page.get_by_label("Web sites").fill(origin)


async def test_an_operator_sets_up_a_tenant_its_admin_and_callers_get_in_at_once(db):
    await operator_create()
    try:
        async with live_server(PERSONAPLEX_URLS=[]) as server, chromium(allow_mic=False) as browser:
            operator = await browser.new_page(viewport=SCREEN)
            await operator.goto(server.url("localhost", "/admin/login/"))
            await operator.get_by_label("Username").fill("setup-operator")
            await operator.get_by_label("Password").fill(PASSWORD)
            await operator.get_by_role("button", name="Log in").click()
            await operator.goto(server.url("localhost", "/admin/tenants_app/tenant/"))
            await operator.get_by_role("link", name="Set up a tenant").click()
            await operator_fills_the_form(operator, server.origin(HOST))
            await operator.screenshot(path=artifact("tenant-setup.png"), full_page=True)
            await operator.get_by_role("button", name="Set up the tenant").click()
            link = operator.locator(".set-password-link")
            await link.wait_for(timeout=90_000)  # the new schema is migrated meanwhile
            await operator.screenshot(path=artifact("tenant-setup-done.png"), full_page=True)
            done_text = await operator.locator("#main").inner_text()
            set_password_url = await link.get_attribute("href")

            admin = await (await browser.new_context(viewport=SCREEN)).new_page()
            await admin.goto(set_password_url)
            await admin.get_by_label("New password").fill(NEW_PASSWORD)
            await admin.get_by_label("Confirm password").fill(NEW_PASSWORD)
            await admin.screenshot(path=artifact("tenant-set-password.png"))
            await admin.get_by_role("button", name="Set password").click()
            await admin.get_by_text("Your password is set: log in with it.").wait_for()
            await admin.get_by_label("Username").fill("acme-admin")
            await admin.get_by_label("Password").fill(NEW_PASSWORD)
            await admin.get_by_role("button", name="Log in").click()
            await admin.locator("#content-main").wait_for()
            admin_header = await admin.locator("#site-name").inner_text()
            await admin.goto(set_password_url)
            used_link = await admin.locator("#content-main").inner_text()

            caller = await browser.new_page()
            await caller.goto(server.url(HOST, "/demo/"))
            await caller.get_by_role("button", name="Talk to us").click()
            widget = caller.locator(WIDGET)
            greeting = widget.locator(".msg.agent").filter(has_text="Olive speaking")
            await greeting.wait_for(timeout=15_000)
            box = widget.get_by_label("Type a message")
            await box.fill("Who are you?")
            await box.press("Enter")
            answer = widget.locator(".msg.agent").filter(has_text="I'm Olive")
            await answer.wait_for(timeout=15_000)
            answer_text = await answer.inner_text()
            await caller.get_by_role("button", name="End chat").click()
            await widget.get_by_text("You ended the call.").wait_for()
    finally:
        await committed_rows_delete()

    assert "Acme Plumbing is set up." in done_text
    assert "acme-admin" in done_text and f"{server.origin(HOST)}/admin/set-password/" in done_text
    assert admin_header.startswith("Acme Plumbing")
    assert "This link no longer works" in used_link
    assert "Acme Plumbing" in answer_text
