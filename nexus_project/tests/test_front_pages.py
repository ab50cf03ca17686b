"""The pages people land on: the hosts' root URLs, "View site", and a refused page."""

import pytest
from django.contrib.auth import get_user_model

from tenants_app.tests.factories import PASSWORD, user_create
from voice.models import Persona
from voice.services import widget_key_create

JOES = "joes.localhost:8000"
PLATFORM = "localhost:8000"


def sign_in(client, username: str, host: str) -> None:
    response = client.post(
        "/admin/login/", {"username": username, "password": PASSWORD}, HTTP_HOST=host
    )
    assert response.status_code == 302, "the sign-in was refused"


@pytest.fixture
def joes_support(client, joes, in_schema):
    with in_schema(joes):
        user_create("joes-support", support=True)
    sign_in(client, "joes-support", JOES)
    return client


def test_a_tenants_root_url_and_view_site_lead_to_its_demo_page(joes_admin_client):
    admin_index = joes_admin_client.get("/admin/", HTTP_HOST=JOES).content.decode()
    assert '<a href="/">View site</a>' in admin_index

    root = joes_admin_client.get("/", HTTP_HOST=JOES)

    assert root.status_code == 302
    assert root["Location"] == "/demo/"


def test_the_platform_landing_page_lists_the_tenants_pages_to_operators_only(client, db):
    anonymous = client.get("/", HTTP_HOST=PLATFORM).content.decode()
    assert "AI voice agents" in anonymous
    assert "Operators' sign-in" in anonymous
    assert "joes.localhost" not in anonymous  # which businesses are here is not public

    client.force_login(get_user_model().objects.create_superuser("operator"))
    operator = client.get("/", HTTP_HOST=PLATFORM).content.decode()

    assert 'href="http://joes.localhost:8000/demo/"' in operator
    assert 'href="http://pizza.localhost:8000/admin/"' in operator
    assert "Nexus platform" not in operator  # the platform itself is not a business


def test_a_refused_page_is_styled_and_leads_back(joes_support):
    page = joes_support.get("/admin/voice/widgetkey/", HTTP_HOST=JOES)

    assert page.status_code == 403
    html = page.content.decode()
    assert "You are not allowed to see this page" in html
    assert "joes-support" in html
    assert 'href="/admin/"' in html
    assert "admin/css/base.css" in html


def test_the_support_role_reads_personas_but_not_their_widget_keys(
    client, joes, joes_support, in_schema
):
    with in_schema(joes):
        persona = Persona.objects.get()
        key = widget_key_create(tenant=joes, persona=persona, allowed_origins=[]).key
    url = f"/admin/voice/persona/{persona.pk}/change/"

    as_support = joes_support.get(url, HTTP_HOST=JOES).content.decode()
    assert persona.system_prompt[:40] in as_support
    assert key not in as_support
    assert "Embed on a web site" not in as_support

    with in_schema(joes):
        user_create("joes-owner", superuser=True)
    sign_in(client, "joes-owner", JOES)
    as_admin = client.get(url, HTTP_HOST=JOES).content.decode()
    assert key in as_admin
