"""Opening hours entered once per tenant: in words, validated, a weekly form on the business
settings page, and in `config.yaml` (read, exported, read again)."""

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.core.management import call_command

from tenants_app.config import ConfigError, config_load, config_parse
from tenants_app.opening_hours import opening_hours_text, opening_hours_validate
from tenants_app.services import tenant_onboard
from tenants_app.tests.test_onboarding import ACME

JOES = "joes.localhost"
WEEKDAYS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
# The rest of the settings page, as it posts them.
SETTINGS_POSTED = {
    "name": "Joe's Barbershop",
    "timezone": "America/New_York",
    "recording_retention_days": 30,
}


def change_url(tenant) -> str:
    return f"/admin/tenants_app/businesssettings/{tenant.pk}/change/"


def week(**days: list[str]) -> dict[str, str]:
    """The posted day fields: `tue=["09:00", "18:00"]` fills Tuesday's first times."""
    return {
        f"hours_{day}_{index}": time
        for day, times in days.items()
        for index, time in enumerate(times)
    }


@pytest.mark.parametrize(
    ("hours", "words"),
    [
        (
            WEEKDAYS | {"sat": [["10:00", "14:00"]]},
            "Monday to Friday 9:00-17:00; Saturday 10:00-14:00; closed Sunday",
        ),
        (
            {day: [["09:00", "18:00"]] for day in ("tue", "wed", "thu", "fri", "sat")},
            "Tuesday to Saturday 9:00-18:00; closed Monday and Sunday",
        ),
        (
            {day: [["11:30", "14:30"], ["18:00", "22:00"]] for day in ("mon", "wed")},
            "Monday and Wednesday 11:30-14:30 and 18:00-22:00;"
            " closed Tuesday and Thursday to Sunday",
        ),
        ({}, ""),
    ],
)
def test_the_hours_in_words(hours, words):
    text = opening_hours_text(hours)

    assert text.replace("\N{EN DASH}", "-") == words
    assert "-" not in text  # a range of times is written with an en dash


@pytest.mark.parametrize(
    ("hours", "problem"),
    [
        ({"tue": [["18:00", "09:00"]]}, "tue: 18:00-09:00 closes before it opens"),
        ({"tue": [["09:00", "13:00"], ["12:00", "18:00"]]}, "tue: 12:00-18:00 starts before 13:00"),
        ({"tue": [["9am", "18:00"]]}, "tue.0.0: '9am' does not match"),
        ({"someday": [["09:00", "18:00"]]}, "'someday' is not one of"),
    ],
)
def test_wrong_hours_are_refused_with_what_is_wrong(hours, problem):
    with pytest.raises(ValidationError) as refused:
        opening_hours_validate(hours)

    assert problem in refused.value.messages[0]


def test_the_settings_page_shows_the_week_with_the_hours(joes_admin_client, joes):
    page = joes_admin_client.get(change_url(joes), HTTP_HOST=JOES).content.decode()

    assert "Opening hours" in page
    assert 'name="hours_tue_0" value="09:00"' in page
    assert 'name="hours_tue_1" value="18:00"' in page
    assert 'name="hours_mon_0" class="vTimeField"' in page  # Monday: closed, no time given


def test_a_week_entered_in_the_form_is_stored_as_the_tenants_hours(joes_admin_client, joes):
    posted = week(
        mon=["08:00", "12:00", "13:00", "17:00"], sat=["10:00", "14:00"], sun=["", "", "", ""]
    )

    response = joes_admin_client.post(
        change_url(joes), {**SETTINGS_POSTED, **posted}, HTTP_HOST=JOES
    )

    assert response.status_code == 302
    joes.refresh_from_db()
    assert joes.opening_hours == {
        "mon": [["08:00", "12:00"], ["13:00", "17:00"]],
        "sat": [["10:00", "14:00"]],
    }


@pytest.mark.parametrize(
    ("times", "error"),
    [
        (["18:00", "09:00"], "18:00-09:00 closes before it opens."),
        (["09:00", ""], "Give both the time it opens and the time it closes."),
        (["09:00", "13:00", "12:00", "18:00"], "12:00-18:00 starts before 13:00"),
        (["25:00", "26:00"], "Enter a valid time."),
    ],
)
def test_wrong_hours_are_errors_on_their_day(joes_admin_client, joes, times, error):
    response = joes_admin_client.post(
        change_url(joes), {**SETTINGS_POSTED, **week(wed=times)}, HTTP_HOST=JOES
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert list(form.errors) == ["hours_wed"]
    assert error in form.errors["hours_wed"][0]
    joes.refresh_from_db()
    assert joes.opening_hours["wed"] == [["09:00", "18:00"]]  # unchanged


def test_config_hours_are_checked_and_the_errors_name_the_field():
    with pytest.raises(ConfigError, match=r"opening_hours: tue: 18:00-09:00 closes before"):
        config_parse({**ACME, "opening_hours": {"tue": [["18:00", "09:00"]]}})
    unquoted = yaml.safe_load("tue: [[09:00, 18:00]]")  # YAML reads 18:00 as 1080 (minutes)
    with pytest.raises(ConfigError, match=r"opening_hours\.tue\.0\.1: 1080 is not of type"):
        config_parse({**ACME, "opening_hours": unquoted})


def test_hours_changed_in_the_admin_are_exported_and_read_back(joes_admin_client, joes, tmp_path):
    joes_admin_client.post(
        change_url(joes), {**SETTINGS_POSTED, **week(sun=["10:00", "14:00"])}, HTTP_HOST=JOES
    )
    exported = tmp_path / "joes.yaml"

    call_command("tenant_export", "joes", "-o", str(exported))

    assert yaml.safe_load(exported.read_text())["opening_hours"] == {"sun": [["10:00", "14:00"]]}
    config = config_load(exported)
    assert config.opening_hours == {"sun": [["10:00", "14:00"]]}
    assert tenant_onboard(config=config).changes == []
