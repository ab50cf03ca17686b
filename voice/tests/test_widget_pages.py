"""The widget's pages: the demo page per tenant, the embed snippets and the admin's test call."""

import pytest

from tenants_app.tests.factories import PASSWORD, user_create
from voice.models import Persona, WidgetKey
from voice.services import widget_key_create, widget_key_revoke

JOES = "joes.localhost:8000"
PIZZA = "pizza.localhost:8000"


@pytest.fixture
def joes_persona(joes, in_schema):
    with in_schema(joes):
        return Persona.objects.get()


@pytest.fixture
def joes_demo_key(joes, joes_persona, in_schema) -> WidgetKey:
    with in_schema(joes):
        return widget_key_create(
            tenant=joes,
            persona=joes_persona,
            allowed_origins=["http://joes.localhost:8000"],
            label="demo",
        )


def test_demo_page_embeds_the_tenants_demo_key_for_its_origin(client, joes_demo_key):
    page = client.get("/demo/", HTTP_HOST=JOES)

    assert page.status_code == 200
    html = page.content.decode()
    widget_tag = (
        '<script src="http://joes.localhost:8000/static/nexus/widget.js" '
        f'data-key="{joes_demo_key.key}" async></script>'
    )
    assert widget_tag in html
    assert "Joe&#x27;s Barbershop" in html
    assert "Haircut 25 dollars" in html  # the persona's knowledge, as a business page shows it


def test_demo_page_prefers_the_demo_key_and_skips_revoked_ones(
    client, joes, joes_persona, joes_demo_key, in_schema
):
    with in_schema(joes):
        newer = widget_key_create(
            tenant=joes,
            persona=joes_persona,
            allowed_origins=["http://joes.localhost:8000"],
            label="other",
        )
        assert f'data-key="{joes_demo_key.key}"' in client.get("/demo/", HTTP_HOST=JOES).text
        widget_key_revoke(widget_key=joes_demo_key)

    html = client.get("/demo/", HTTP_HOST=JOES).content.decode()
    assert f'data-key="{newer.key}"' in html
    assert joes_demo_key.key not in html


def test_demo_page_without_a_key_for_the_origin_is_a_clear_404(client, joes):
    page = client.get("/demo/", HTTP_HOST="joes.localhost:8123")

    assert page.status_code == 404
    text = page.content.decode()
    assert "No widget key for this page" in text
    assert "http://joes.localhost:8123" in text


def test_demo_page_of_a_tenant_never_shows_another_tenants_key(client, joes_demo_key):
    html = client.get("/demo/", HTTP_HOST=PIZZA).content.decode()

    assert joes_demo_key.key not in html


def test_widget_script_is_served_to_other_origins(client, db):
    response = client.get("/static/nexus/playback-worklet.js", HTTP_HOST=JOES)

    assert response.status_code == 200
    # Worklet modules are fetched with CORS when the widget runs on a business's own site.
    assert response["Access-Control-Allow-Origin"] == "*"
    assert client.get("/static/nexus/widget.js", HTTP_HOST=JOES).status_code == 200


@pytest.fixture
def joes_admin_client(client, joes, in_schema):
    with in_schema(joes):
        user_create("joes-widget-admin", superuser=True)
    client.post(
        "/admin/login/?next=/admin/",
        {"username": "joes-widget-admin", "password": PASSWORD},
        HTTP_HOST=JOES,
    )
    return client


def test_widget_key_admin_page_shows_the_embed_snippet(joes_admin_client, joes_demo_key):
    url = f"/admin/voice/widgetkey/{joes_demo_key.pk}/change/"
    html = joes_admin_client.get(url, HTTP_HOST=JOES).content.decode()

    snippet = (
        "&lt;script src=&quot;http://joes.localhost:8000/static/nexus/widget.js&quot; "
        f"data-key=&quot;{joes_demo_key.key}&quot; async&gt;&lt;/script&gt;"
    )
    assert "Embed on a web site" in html
    assert snippet in html.replace('"', "&quot;")


def test_persona_admin_page_has_a_test_call_and_the_active_keys_snippets(
    joes_admin_client, joes, joes_persona, joes_demo_key, in_schema
):
    with in_schema(joes):
        revoked = widget_key_create(tenant=joes, persona=joes_persona, allowed_origins=[])
        widget_key_revoke(widget_key=revoked)
    url = f"/admin/voice/persona/{joes_persona.pk}/change/"
    html = joes_admin_client.get(url, HTTP_HOST=JOES).content.decode()

    assert 'id="nexus-test-call"' in html
    assert f'data-agent="{joes_persona.slug}"' in html
    assert 'data-src="http://joes.localhost:8000/static/nexus/widget.js"' in html
    assert joes_demo_key.key in html
    assert revoked.key not in html
