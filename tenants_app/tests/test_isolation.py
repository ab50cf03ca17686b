"""Tenant isolation: logins, rows and admin rights stay inside their own tenant."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from tenants_app.permissions import SUPPORT_GROUP
from tenants_app.tests.factories import PASSWORD, user_create
from tools_registry.models import Booking, ToolInvocation
from voice.models import Call, Persona, TranscriptEntry

JOES = "joes.localhost"
PIZZA = "pizza.localhost"


def admin_login(client, host: str, username: str, password: str = PASSWORD):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        HTTP_HOST=host,
    )


@pytest.fixture
def joes_admin(joes, in_schema):
    with in_schema(joes):
        return user_create("joes-boss", superuser=True)


@pytest.fixture
def joes_support(joes, in_schema):
    with in_schema(joes):
        return user_create("joes-helpdesk", support=True)


@pytest.fixture
def joes_call(joes, in_schema):
    with in_schema(joes):
        call = Call.objects.create(persona=Persona.objects.get())
        TranscriptEntry.objects.create(
            call=call, sequence=0, role="caller", text="Can I book a fade?", start_ms=0, end_ms=900
        )
        return call


def test_admin_login_works_on_its_own_domain(client, joes_admin):
    response = admin_login(client, JOES, "joes-boss")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/", HTTP_HOST=JOES).status_code == 200


def test_admin_login_does_not_work_on_another_tenant(client, joes_admin):
    response = admin_login(client, PIZZA, "joes-boss")

    assert response.status_code == 200
    assert "Please enter the correct username and password" in response.content.decode()
    assert client.get("/admin/", HTTP_HOST=PIZZA).status_code == 302


def test_tenant_admin_login_does_not_open_the_platform_admin(client, joes_admin):
    response = admin_login(client, "localhost", "joes-boss")

    assert response.status_code == 200
    assert "Please enter the correct username and password" in response.content.decode()


def test_rows_of_one_tenant_are_not_visible_from_the_other(joes, pizza, joes_call, in_schema):
    with in_schema(joes):
        assert Call.objects.filter(pk=joes_call.pk).exists()
        assert TranscriptEntry.objects.filter(text="Can I book a fade?").exists()
    with in_schema(pizza):
        assert not Call.objects.filter(pk=joes_call.pk).exists()
        assert not TranscriptEntry.objects.filter(text="Can I book a fade?").exists()
        assert Persona.objects.get().slug == "order-taker"


def test_call_page_shows_the_transcript_to_the_tenants_admin_only(client, joes_admin, joes_call):
    admin_login(client, JOES, "joes-boss")

    page = client.get(f"/admin/voice/call/{joes_call.pk}/change/", HTTP_HOST=JOES)

    assert page.status_code == 200
    assert "Can I book a fade?" in page.content.decode()
    other = client.get(f"/admin/voice/call/{joes_call.pk}/change/", HTTP_HOST=PIZZA)
    assert other.status_code == 302  # not logged in there: sent to Pizza's login page


def test_support_can_view_but_not_change_a_persona(client, joes, joes_support, in_schema):
    with in_schema(joes):
        persona = Persona.objects.get()
    admin_login(client, JOES, "joes-helpdesk")
    url = f"/admin/voice/persona/{persona.pk}/change/"

    page = client.get(url, HTTP_HOST=JOES)
    response = client.post(url, {"name": "Hacked", "slug": persona.slug}, HTTP_HOST=JOES)

    assert page.status_code == 200
    assert "Your name is Sam." in page.content.decode()
    assert 'name="name"' not in page.content.decode()  # read-only: no input fields
    assert response.status_code == 403
    with in_schema(joes):
        assert Persona.objects.get().name == "Sam"


def test_support_can_view_but_not_change_a_call(client, joes_support, joes_call):
    admin_login(client, JOES, "joes-helpdesk")
    url = f"/admin/voice/call/{joes_call.pk}/change/"

    page = client.get(url, HTTP_HOST=JOES)
    response = client.post(url, {"end_reason": "edited"}, HTTP_HOST=JOES)
    delete = client.post(f"{url[:-7]}delete/", {"post": "yes"}, HTTP_HOST=JOES)

    assert page.status_code == 200
    assert "Can I book a fade?" in page.content.decode()
    assert response.status_code == 403
    assert delete.status_code == 403


def test_every_tenant_has_a_view_only_support_group(joes, pizza, in_schema):
    for tenant in (joes, pizza):
        with in_schema(tenant):
            codenames = set(
                Group.objects.get(name=SUPPORT_GROUP).permissions.values_list("codename", flat=True)
            )
            assert {"view_call", "view_transcriptentry", "view_toolinvocation"} <= codenames
            assert all(codename.startswith("view_") for codename in codenames)


def test_call_page_shows_the_post_call_analysis(client, joes, joes_admin, joes_call, in_schema):
    with in_schema(joes):
        Call.objects.filter(pk=joes_call.pk).update(
            analysis={
                "summary": "Asked about a fade.",
                "intent": "booking",
                "sentiment": "neutral",
                "outcome": "answered",
                "follow_up_needed": True,
                "analyzer": "offline (no AI model)",
            }
        )
    admin_login(client, JOES, "joes-boss")

    page = client.get(f"/admin/voice/call/{joes_call.pk}/change/", HTTP_HOST=JOES).content.decode()

    assert "<th>Summary</th><td>Asked about a fade.</td>" in page
    assert "<th>Analyzed by</th><td>offline (no AI model)</td>" in page


def test_pizza_admin_sees_none_of_joes_invocations_or_bookings(
    client, joes, pizza, joes_call, in_schema
):
    with in_schema(joes):
        ToolInvocation.objects.create(call=joes_call, tool_name="book_appointment")
        Booking.objects.create(
            starts_at=timezone.now(), ends_at=timezone.now() + dt.timedelta(minutes=30),
            customer_name="Joe's customer", call=joes_call,
        )  # fmt: skip
    with in_schema(pizza):
        user_create("pizza-boss", superuser=True)
    admin_login(client, PIZZA, "pizza-boss")

    invocations = client.get("/admin/tools_registry/toolinvocation/", HTTP_HOST=PIZZA)
    bookings = client.get("/admin/tools_registry/booking/", HTTP_HOST=PIZZA)

    assert invocations.status_code == bookings.status_code == 200
    assert "0 tool invocations" in invocations.content.decode()
    assert "Joe&#x27;s customer" not in bookings.content.decode()
    assert "0 bookings" in bookings.content.decode()
