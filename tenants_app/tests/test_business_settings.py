"""A business's own settings in its admin: its name and time zone, and no other business's."""

from tenants_app.models import Tenant
from voice.call.access import call_access_resolve
from voice.call.protocol import params_parse
from voice.models import Persona
from voice.services import widget_key_create

JOES = "joes.localhost"
ORIGIN = "http://joes.localhost:8000"
RECORDINGS_OFF = {"recording_retention_days": 30}  # the form's other fields, as the page posts them


def change_url(tenant: Tenant) -> str:
    return f"/admin/tenants_app/businesssettings/{tenant.pk}/change/"


def timezone_of_a_call(key: str) -> str:
    """The time zone a call with `key` would run in, as a connecting call resolves it."""
    params = params_parse(f"key={key}&mode=text".encode())
    access = call_access_resolve(params=params, origin=ORIGIN, host=JOES, session_key=None)
    return access.tenant.timezone


def test_joes_admin_sets_the_time_zone_and_the_next_call_has_it(joes_admin_client, joes, in_schema):
    with in_schema(joes):
        key = widget_key_create(
            tenant=joes, persona=Persona.objects.get(), allowed_origins=[ORIGIN]
        ).key
    assert timezone_of_a_call(key) == "America/New_York"  # and now cached
    page = joes_admin_client.get(change_url(joes), HTTP_HOST=JOES).content.decode()
    assert '<option value="America/New_York" selected>' in page

    response = joes_admin_client.post(
        change_url(joes),
        {"name": "Joe's Barbershop", "timezone": "America/Chicago", **RECORDINGS_OFF},
        HTTP_HOST=JOES,
    )

    assert response.status_code == 302
    joes.refresh_from_db()
    assert joes.timezone == "America/Chicago"
    assert timezone_of_a_call(key) == "America/Chicago"


def test_a_time_zone_outside_the_iana_database_is_refused(joes_admin_client, joes):
    response = joes_admin_client.post(
        change_url(joes),
        {"name": "Joe's Barbershop", "timezone": "Mars/Olympus", **RECORDINGS_OFF},
        HTTP_HOST=JOES,
    )

    assert response.status_code == 200
    assert "is not a time zone of the IANA database" in response.content.decode()
    joes.refresh_from_db()
    assert joes.timezone == "America/New_York"


def test_the_list_is_the_business_itself(joes_admin_client, joes):
    response = joes_admin_client.get("/admin/tenants_app/businesssettings/", HTTP_HOST=JOES)

    assert response.status_code == 302 and response.url == change_url(joes)


def test_another_business_cannot_be_seen_or_changed(joes_admin_client, pizza):
    page = joes_admin_client.get(change_url(pizza), HTTP_HOST=JOES, follow=True)
    joes_admin_client.post(
        change_url(pizza),
        {"name": "Joe's now", "timezone": "Asia/Tokyo", **RECORDINGS_OFF},
        HTTP_HOST=JOES,
    )

    assert "Pizza" not in page.content.decode()
    pizza.refresh_from_db()
    assert (pizza.name, pizza.timezone) == ("Pizza Palace", "Europe/London")
