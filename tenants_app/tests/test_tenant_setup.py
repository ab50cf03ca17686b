"""Setting up a tenant from the platform admin, and its admin's one-time set-password link."""

import re
from io import StringIO

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django_tenants.utils import schema_exists

from tenants_app.models import Domain, Tenant, WidgetKeyRoute
from tenants_app.tests.test_onboarding import ACME, assert_nothing_left
from voice.models import Persona, WidgetKey

SETUP_URL = "/admin/tenants_app/tenant/setup/"
PLATFORM = "localhost"
FIELDS = {
    "name": "Acme Plumbing",
    "slug": "acme",
    "domain": "acme.localhost",
    "timezone": "America/Chicago",
    "admin_username": "acme-admin",
    "admin_email": "boss@acme.example",
    "persona_name": "Olive",
    "instructions": "You book plumbers for Acme.",
    "greeting": "Acme Plumbing, Olive speaking.",
    "engine": "nvidia_personaplex",
    "voice": "NATF2.pt",
    "allowed_origins": "https://acme.example/\nhttps://www.acme.example",
    "_setup": "Set up the tenant",
}
LINK = re.compile(r"https?://acme\.localhost(?::\d+)?(/admin/set-password/[\w-]+/[\w-]+/)")


@pytest.fixture
def operator(client, db):
    client.force_login(get_user_model().objects.create_superuser("operator"))
    return client


def form_errors(page) -> dict[str, list[str]]:
    return {field: list(errors) for field, errors in page.context["adminform"].form.errors.items()}


def upload(client, text: str, name: str = "config.yaml"):
    file = SimpleUploadedFile(name, text.encode(), content_type="application/x-yaml")
    return client.post(SETUP_URL, {"config_file": file, "_upload": "1"}, HTTP_HOST=PLATFORM)


def test_the_tenant_list_offers_the_set_up_page(operator):
    page = operator.get("/admin/tenants_app/tenant/", HTTP_HOST=PLATFORM)

    assert f'href="{SETUP_URL}"' in page.content.decode()
    assert "Set up a tenant" in page.content.decode()


def test_a_set_up_creates_tenant_schema_admin_agent_and_key(operator, in_schema):
    page = operator.post(SETUP_URL, FIELDS, HTTP_HOST=PLATFORM)

    tenant = Tenant.objects.get(slug="acme")
    assert page.status_code == 302
    assert page.url == f"/admin/tenants_app/tenant/{tenant.pk}/setup-done/"
    assert (tenant.name, tenant.schema_name, tenant.timezone) == (
        "Acme Plumbing",
        "acme",
        "America/Chicago",
    )
    assert schema_exists("acme")
    assert [d.domain for d in tenant.domains.all()] == ["acme.localhost"]
    with in_schema(tenant):
        admin = get_user_model().objects.get()
        assert (admin.username, admin.email) == ("acme-admin", "boss@acme.example")
        assert admin.is_staff and admin.is_superuser and not admin.has_usable_password()
        persona = Persona.objects.get()
        assert (persona.name, persona.system_prompt, persona.voice_id) == (
            "Olive",
            "You book plumbers for Acme.",
            "NATF2.pt",
        )
        key = WidgetKey.objects.get()
        assert key.persona == persona
        assert key.allowed_origins == ["https://acme.example", "https://www.acme.example"]
    assert WidgetKeyRoute.objects.get(key=key.key).tenant == tenant


def test_the_done_page_shows_the_admin_link_and_the_embed_tag(operator, in_schema):
    done = operator.post(SETUP_URL, FIELDS, HTTP_HOST=PLATFORM, follow=True)

    html = done.content.decode()
    assert "Acme Plumbing is set up." in html
    assert LINK.search(html), html
    assert "acme-admin" in html
    assert "http://acme.localhost/admin/" in html
    with in_schema(Tenant.objects.get(slug="acme")):
        assert f'data-key="{WidgetKey.objects.get().key}"' in html


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"slug": "joes"}, "slug", "a tenant 'joes' exists already"),
        ({"slug": "pg_acme"}, "slug", "'pg_acme' is reserved"),
        ({"slug": "Acme Plumbing"}, "slug", "Lowercase letters, digits and _"),
        ({"domain": "JOES.localhost"}, "domain", "joes.localhost belongs to another tenant"),
        ({"allowed_origins": "acme.example"}, "allowed_origins", "'acme.example' is not an origin"),
        ({"engine": "cascade"}, "voice", "'NATF2.pt' is not a voice of cascade"),
        ({"admin_email": "boss"}, "admin_email", "Enter a valid email address."),
        ({"instructions": ""}, "instructions", "This field is required."),
    ],
    ids=[
        "duplicate-slug",
        "reserved",
        "not-a-slug",
        "taken-domain",
        "bad-origin",
        "voice-of-another-engine",
        "bad-email",
        "no-instructions",
    ],
)
def test_a_bad_set_up_shows_the_problem_on_its_field_and_creates_nothing(
    operator, changes, field, problem
):
    tenants = Tenant.objects.count()

    page = operator.post(SETUP_URL, {**FIELDS, **changes}, HTTP_HOST=PLATFORM)

    assert page.status_code == 200
    errors = form_errors(page)
    assert any(problem in error for error in errors.get(field, [])), errors
    assert "Please correct the error below." in page.content.decode()
    assert Tenant.objects.count() == tenants
    assert_nothing_left("acme", "acme.localhost")
    assert not schema_exists("pg_acme")


def test_a_config_yaml_upload_sets_up_the_tenant(operator, in_schema):
    page = upload(operator, yaml.safe_dump(ACME))

    tenant = Tenant.objects.get(slug="acme")
    assert page.url == f"/admin/tenants_app/tenant/{tenant.pk}/setup-done/"
    assert schema_exists("acme")
    with in_schema(tenant):
        assert Persona.objects.get().slug == "dispatcher"
        assert WidgetKey.objects.get().allowed_origins == ["https://acme.example"]
        assert get_user_model().objects.get().username == "acme-admin"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("tenant_id: acme\nsystem_prompt: [unclosed\n", "acme.yaml: not valid YAML"),
        (
            yaml.safe_dump({**ACME, "enabled_tools": ["teleport"]}),
            "acme.yaml: enabled_tools.0: unknown tool 'teleport'",
        ),
        (
            yaml.safe_dump({**ACME, "domains": ["acme.localhost", "joes.localhost"]}),
            "joes.localhost belongs to another tenant",
        ),
        (yaml.safe_dump({**ACME, "tenant_id": "joes"}), "a tenant 'joes' exists already"),
        (yaml.safe_dump({**ACME, "system_prompt": "x" * 300_000}), "larger than 256 KiB"),
    ],
    ids=["bad-yaml", "unknown-tool", "taken-domain", "existing-tenant", "too-large"],
)
def test_a_bad_config_yaml_shows_the_problem_on_the_form_and_creates_nothing(
    operator, text, problem
):
    tenants = Tenant.objects.count()
    joes_name = Tenant.objects.get(slug="joes").name

    page = upload(operator, text, name="acme.yaml")

    assert page.status_code == 200
    errors = page.context["upload_adminform"].form.errors["config_file"]
    assert any(problem in error for error in errors), errors
    assert Tenant.objects.count() == tenants
    assert Tenant.objects.get(slug="joes").name == joes_name  # not updated by the upload
    assert_nothing_left("acme", "acme.localhost")


def test_setting_up_needs_the_permission_to_add_tenants(client, db):
    staff = get_user_model().objects.create_user("helpdesk", is_staff=True)
    client.force_login(staff)

    page = client.post(SETUP_URL, FIELDS, HTTP_HOST=PLATFORM)

    assert page.status_code == 403
    assert not Tenant.objects.filter(slug="acme").exists()
    assert not Domain.objects.filter(domain="acme.localhost").exists()


def set_password(path: str, password: str) -> tuple[Client, object]:
    """Open a set-password link on Acme's host as its admin would, and choose `password`."""
    browser = Client(HTTP_HOST="acme.localhost")
    opened = browser.get(path)
    assert opened.status_code == 302  # the token moves to the session, out of the address
    form = browser.get(opened.url)
    assert "Choose the password of <strong>acme-admin</strong>" in form.content.decode()
    done = browser.post(opened.url, {"new_password1": password, "new_password2": password})
    return browser, done


def test_the_set_password_link_works_once(operator):
    html = operator.post(SETUP_URL, FIELDS, HTTP_HOST=PLATFORM, follow=True).content.decode()
    path = LINK.search(html).group(1)

    browser, done = set_password(path, "a-long-new-password-42")

    assert done.status_code == 302 and done.url == "/admin/login/"
    login = browser.get(done.url)
    assert "Your password is set: log in with it." in login.content.decode()
    signed_in = browser.post(
        "/admin/login/",
        {"username": "acme-admin", "password": "a-long-new-password-42", "next": "/admin/"},
    )
    assert signed_in.status_code == 302 and signed_in.url == "/admin/"
    assert browser.get("/admin/").status_code == 200
    again = Client(HTTP_HOST="acme.localhost").get(path)
    assert again.status_code == 200
    assert "This link no longer works" in again.content.decode()
    tenant = Tenant.objects.get(slug="acme")
    done_page = operator.get(
        f"/admin/tenants_app/tenant/{tenant.pk}/setup-done/", HTTP_HOST=PLATFORM
    ).content.decode()
    assert not LINK.search(done_page)
    assert "Every admin of Acme Plumbing has a password already." in done_page


def test_a_weak_password_is_refused_and_the_link_still_works(operator):
    html = operator.post(SETUP_URL, FIELDS, HTTP_HOST=PLATFORM, follow=True).content.decode()
    path = LINK.search(html).group(1)

    _, refused = set_password(path, "acme")

    assert refused.status_code == 200
    assert "This password is too short." in refused.content.decode()
    assert Client(HTTP_HOST="acme.localhost").get(path).status_code == 302


def test_a_link_of_one_tenant_opens_nothing_on_another_tenants_host(operator):
    html = operator.post(SETUP_URL, FIELDS, HTTP_HOST=PLATFORM, follow=True).content.decode()
    path = LINK.search(html).group(1)

    elsewhere = Client(HTTP_HOST="joes.localhost").get(path)
    platform = Client(HTTP_HOST=PLATFORM).get(path)

    assert "This link no longer works" in elsewhere.content.decode()
    assert platform.status_code == 302  # the platform admin's login: no such page there
    assert platform.url.startswith("/admin/login/")


def test_tenant_onboard_prints_the_admins_set_password_link(db, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(ACME))
    out = StringIO()

    call_command("tenant_onboard", str(path), "--scheme", "http", "--port", "8000", stdout=out)

    printed = out.getvalue()
    line = next(line for line in printed.splitlines() if "sets a password at" in line)
    assert line.startswith("  acme-admin sets a password at http://acme.localhost:8000/admin/")
    _, done = set_password(LINK.search(line).group(1), "a-long-new-password-42")
    assert done.url == "/admin/login/"
    again = StringIO()
    call_command("tenant_onboard", str(path), stdout=again)
    assert again.getvalue() == "acme: unchanged\n"  # a password is set: no link any more
