"""Widget keys: unique, routed to their tenant, revocable, managed from the tenant's admin."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError

from tenants_app.models import WidgetKeyRoute
from voice.models import Persona, WidgetKey
from voice.origins import origin_allowed, origin_normalize
from voice.services import widget_key_create, widget_key_revoke


@pytest.fixture
def joes_persona(joes, in_schema):
    with in_schema(joes):
        return Persona.objects.get()


def test_keys_are_unique_and_routed_to_their_tenant(joes, joes_persona, in_schema):
    with in_schema(joes):
        keys = {
            widget_key_create(tenant=joes, persona=joes_persona, allowed_origins=[]).key
            for _ in range(20)
        }
    assert len(keys) == 20
    assert all(key.startswith("pk_") and len(key) > 30 for key in keys)
    assert set(
        WidgetKeyRoute.objects.filter(key__in=keys).values_list("tenant__slug", flat=True)
    ) == {"joes"}


def test_the_database_refuses_a_duplicate_key(joes, joes_persona, in_schema):
    with in_schema(joes):
        key = widget_key_create(tenant=joes, persona=joes_persona, allowed_origins=[])
        with pytest.raises(IntegrityError):
            WidgetKey.objects.create(key=key.key, persona=joes_persona)


def test_a_revoked_key_is_inactive(joes, joes_persona, in_schema):
    with in_schema(joes):
        key = widget_key_create(tenant=joes, persona=joes_persona, allowed_origins=[])
        widget_key_revoke(widget_key=key)
        key.refresh_from_db()
    assert key.is_active is False
    assert key.revoked_at is not None


def test_widget_key_command_prints_a_working_key(joes, in_schema, capsys):
    call_command(
        "widget_key", "--tenant", "joes", "--persona", "receptionist",
        "--origin", "https://joes.example", "--origin", "http://localhost:8000",
    )  # fmt: skip

    key = capsys.readouterr().out.strip()
    assert WidgetKeyRoute.objects.get(key=key).tenant == joes
    with in_schema(joes):
        row = WidgetKey.objects.get(key=key)
        assert row.persona.slug == "receptionist"
        assert row.allowed_origins == ["https://joes.example", "http://localhost:8000"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--tenant", "nobody", "--persona", "x", "--origin", "https://a.b"], "no tenant"),
        (["--tenant", "joes", "--persona", "x", "--origin", "https://a.b"], "no persona 'x'"),
        (["--tenant", "joes", "--persona", "receptionist", "--origin", "a.b"], "not an origin"),
    ],
)
def test_widget_key_command_refuses_bad_input(db, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("widget_key", *arguments)


def test_admin_creates_a_key_and_shows_it(joes_admin_client, joes, joes_persona, in_schema):
    response = joes_admin_client.post(
        "/admin/voice/widgetkey/add/",
        {"label": "shop", "persona": joes_persona.pk, "allowed_origins": "https://joes.example/\n"},
        HTTP_HOST="joes.localhost",
        follow=True,
    )

    with in_schema(joes):
        key = WidgetKey.objects.get(label="shop")
    assert key.allowed_origins == ["https://joes.example"]
    assert f"Widget key created: {key.key}" in response.content.decode()
    assert WidgetKeyRoute.objects.get(key=key.key).tenant == joes


def test_admin_form_refuses_a_bad_origin(joes_admin_client, joes, joes_persona, in_schema):
    response = joes_admin_client.post(
        "/admin/voice/widgetkey/add/",
        {"label": "bad", "persona": joes_persona.pk, "allowed_origins": "joes.example/path"},
        HTTP_HOST="joes.localhost",
    )

    assert response.status_code == 200
    assert "is not an origin" in response.content.decode()
    with in_schema(joes):
        assert not WidgetKey.objects.filter(label="bad").exists()


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("https://Example.com/", "https://example.com"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("https://example.com:443", "https://example.com"),
    ],
)
def test_origins_are_normalized(value, canonical):
    assert origin_normalize(value) == canonical


@pytest.mark.parametrize("value", ["example.com", "ftp://x.y", "https://x.y/path", "https://"])
def test_malformed_origins_are_refused(value):
    with pytest.raises(ValidationError):
        origin_normalize(value)


def test_origin_check_matches_exactly():
    allowed = ["https://joes.example"]
    assert origin_allowed("https://joes.example", allowed)
    assert not origin_allowed("https://joes.example.evil.com", allowed)
    assert not origin_allowed("http://joes.example", allowed)
    assert not origin_allowed(None, allowed)
