"""Onboarding tenants from config.yaml: creation, idempotence, all-or-nothing, export."""

from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_exists

from tenants_app.config import ConfigError, config_load, config_parse
from tenants_app.models import Domain, Tenant, WidgetKeyRoute
from tenants_app.services import tenant_onboard
from tools_registry.models import ToolEnablement
from voice.models import KnowledgeItem, Persona, WidgetKey

ACME = {
    "tenant_id": "acme",
    "display_name": "Acme Plumbing",
    "timezone": "America/Chicago",
    "domains": ["acme.localhost"],
    "agent": {"slug": "dispatcher", "name": "Acme dispatcher"},
    "voice_settings": {"provider": "nvidia_personaplex", "voice_id": "NATF2.pt"},
    "system_prompt": "You book plumbers for Acme.",
    "greeting": "Acme Plumbing, how can I help?",
    "knowledge": [{"title": "Area", "content": "We serve the whole county."}],
    "enabled_tools": [
        "check_availability",
        {"name": "http_request", "settings": {"url": "https://api.acme.example/jobs"}},
    ],
    "widget": {"allowed_origins": ["https://acme.example/"]},
    "admins": [{"username": "acme-admin", "email": "boss@acme.example"}],
}


def write_config(tmp_path: Path, data) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def assert_nothing_left(tenant_id: str, domain: str) -> None:
    assert not Tenant.objects.filter(schema_name=tenant_id).exists()
    assert not Domain.objects.filter(domain=domain).exists()
    assert not schema_exists(tenant_id)


def test_onboarding_creates_schema_and_rows(db, in_schema):
    result = tenant_onboard(config=config_parse(ACME))

    assert result.created
    tenant = Tenant.objects.get(slug="acme")
    assert (tenant.name, tenant.timezone) == ("Acme Plumbing", "America/Chicago")
    assert schema_exists("acme")
    assert [d.domain for d in tenant.domains.all()] == ["acme.localhost"]
    with in_schema(tenant):
        persona = Persona.objects.get(slug="dispatcher")
        assert persona.voice_id == "NATF2.pt"
        assert persona.greeting == "Acme Plumbing, how can I help?"
        assert list(persona.knowledge.values_list("title", "content")) == [
            ("Area", "We serve the whole county.")
        ]
        assert dict(persona.tools.values_list("tool_name", "settings")) == {
            "check_availability": {},
            "http_request": {"url": "https://api.acme.example/jobs"},
        }
        key = WidgetKey.objects.get(persona=persona)
        assert key.allowed_origins == ["https://acme.example"]
    assert WidgetKeyRoute.objects.get(key=key.key).tenant == tenant


def test_onboarding_twice_changes_nothing(db, in_schema):
    tenant_onboard(config=config_parse(ACME))
    tenant = Tenant.objects.get(slug="acme")
    with in_schema(tenant):
        before = {
            model: sorted(model.objects.values_list("pk", flat=True))
            for model in (Persona, KnowledgeItem, ToolEnablement, WidgetKey)
        }
        updated_at = Persona.objects.get().updated_at

    again = tenant_onboard(config=config_parse(ACME))

    assert not again.created
    assert again.changes == []
    with in_schema(tenant):
        after = {model: sorted(model.objects.values_list("pk", flat=True)) for model in before}
        assert after == before
        assert Persona.objects.get().updated_at == updated_at


def test_onboarding_updates_what_changed(db, in_schema):
    tenant_onboard(config=config_parse(ACME))
    changed = {**ACME, "greeting": "Hello from Acme", "enabled_tools": ["end_call"]}

    result = tenant_onboard(config=config_parse(changed))

    assert "agent dispatcher updated" in result.changes
    with in_schema(result.tenant):
        persona = Persona.objects.get()
        assert persona.greeting == "Hello from Acme"
        assert list(persona.tools.values_list("tool_name", flat=True)) == ["end_call"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            yaml.safe_dump(
                {
                    **ACME,
                    "voice_settings": {
                        "provider": "nvidia_personaplex",
                        "voice_id": "en_us_male_calm",
                    },
                }
            ),
            "voice_settings.voice_id: 'en_us_male_calm' is not one of",
        ),
        (
            yaml.safe_dump(
                {**ACME, "voice_settings": {"provider": "cascade", "voice_id": "NATF2.pt"}}
            ),
            "voice_settings.voice_id: 'NATF2.pt' is not a voice of cascade",
        ),
        (
            yaml.safe_dump({k: v for k, v in ACME.items() if k != "tenant_id"}),
            "'tenant_id' is a required property",
        ),
        ("tenant_id: acme\nsystem_prompt: [unclosed\n", "not valid YAML"),
        (
            yaml.safe_dump({**ACME, "widget": {"allowed_origins": ["acme.example"]}}),
            "widget.allowed_origins: 'acme.example' is not an origin",
        ),
        (yaml.safe_dump({**ACME, "voice_setings": {}}), "'voice_setings' was unexpected"),
        (
            yaml.safe_dump({**ACME, "enabled_tools": ["teleport"]}),
            "enabled_tools.0: unknown tool 'teleport'",
        ),
        (
            yaml.safe_dump(
                {
                    **ACME,
                    "enabled_tools": [
                        {"name": "check_availability", "settings": {"timezone": "Mars/Olympus"}}
                    ],
                }
            ),
            "enabled_tools.0.settings: timezone: 'Mars/Olympus' is not a known time zone",
        ),
        (
            yaml.safe_dump({**ACME, "timezone": "Mars/Olympus"}),
            "timezone: 'Mars/Olympus' is not a time zone of the IANA database",
        ),
    ],
    ids=[
        "unknown-voice",
        "voice-of-another-engine",
        "missing-tenant-id",
        "bad-yaml",
        "bad-origin",
        "typo",
        "unknown-tool",
        "bad-tool-settings",
        "bad-timezone",
    ],
)
def test_broken_config_names_the_problem_and_leaves_nothing(db, tmp_path, text, problem):
    path = write_config(tmp_path, text)

    with pytest.raises(CommandError) as error:
        call_command("tenant_onboard", str(path))

    assert problem in str(error.value)
    assert str(path) in str(error.value)
    assert_nothing_left("acme", "acme.localhost")


def test_failure_after_schema_creation_rolls_everything_back(db):
    taken = {**ACME, "domains": ["acme.localhost", "joes.localhost"]}

    with pytest.raises(ConfigError, match=r"joes\.localhost belongs to another tenant"):
        tenant_onboard(config=config_parse(taken))

    assert_nothing_left("acme", "acme.localhost")
    assert Domain.objects.get(domain="joes.localhost").tenant.slug == "joes"


def test_export_writes_the_shape_onboarding_reads(db, tmp_path):
    exported = tmp_path / "joes.yaml"

    call_command("tenant_export", "joes", "-o", str(exported))

    config = config_load(exported)
    original = config_load(Path("examples/tenants/joes/config.yaml"))
    assert config == original
    assert tenant_onboard(config=config).changes == []


def test_export_of_unknown_tenant_is_a_clear_error(db):
    with pytest.raises(CommandError, match="no tenant 'nobody'"):
        call_command("tenant_export", "nobody")


def test_example_tenants_exist_in_their_own_schemas(joes, pizza, in_schema):
    with in_schema(joes):
        assert Persona.objects.get().name == "Sam"
    with in_schema(pizza):
        assert Persona.objects.get().name == "Gina"
    assert connection.schema_name == "public"


@pytest.mark.parametrize("name", ["public", "information_schema", "pg_catalog", "pg_joes"])
def test_a_reserved_schema_name_is_refused_and_the_platform_untouched(db, name):
    platform = Tenant.objects.get(schema_name="public")
    domains = sorted(platform.domains.values_list("domain", flat=True))

    with pytest.raises(ConfigError, match=rf"tenant_id: '{name}' is reserved"):
        tenant_onboard(config=config_parse({**ACME, "tenant_id": name}))

    platform.refresh_from_db()
    assert platform.name == "Nexus platform"
    assert sorted(platform.domains.values_list("domain", flat=True)) == domains


@pytest.mark.parametrize("spelling", ["joes.localhost.", "JOES.localhost", " Joes.Localhost. "])
def test_another_spelling_of_a_taken_domain_is_still_taken(db, spelling):
    claim = {**ACME, "domains": ["acme.localhost", spelling]}

    with pytest.raises(ConfigError, match=r"joes\.localhost belongs to another tenant"):
        tenant_onboard(config=config_parse(claim))

    assert_nothing_left("acme", "acme.localhost")


def test_domains_are_stored_normalized(db):
    config = config_parse({**ACME, "domains": ["ACME.localhost.", "bücher.localhost"]})

    assert config.domains == ["acme.localhost", "xn--bcher-kva.localhost"]


def test_a_host_spelled_otherwise_reaches_its_own_tenant_only(client, joes):
    page = client.get("/demo/", HTTP_HOST="JOES.localhost.:8000")

    assert page.context["tenant"] == joes


def test_a_billion_laughs_config_fails_at_once_with_a_clear_message(db, tmp_path):
    laughs = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        laughs.append(f"{level}: &{level} [{', '.join([f'*{previous}'] * 10)}]")
    path = write_config(tmp_path, "\n".join(laughs) + "\ntenant_id: acme\n")

    with pytest.raises(ConfigError, match="more than 20000 values"):
        config_load(path)


def test_an_oversized_config_file_is_refused(db, tmp_path):
    path = write_config(tmp_path, yaml.safe_dump({**ACME, "system_prompt": "x" * 300_000}))

    with pytest.raises(ConfigError, match="larger than 256 KiB"):
        config_load(path)


def test_the_platform_tenant_cannot_be_deleted_in_the_platform_admin(client, db):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_superuser("operator"))
    platform = Tenant.objects.get(schema_name="public")

    page = client.get(f"/admin/tenants_app/tenant/{platform.pk}/delete/", HTTP_HOST="localhost")

    assert page.status_code == 403
    assert Tenant.objects.filter(schema_name="public").exists()
