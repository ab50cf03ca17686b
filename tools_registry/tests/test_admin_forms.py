"""An admin's tool settings are checked against the tool's settings schema when saved."""

from tools_registry.forms import ToolEnablementForm


def form(tool_name: str, settings: str) -> ToolEnablementForm:
    return ToolEnablementForm(
        data={"tool_name": tool_name, "is_enabled": "on", "settings": settings}
    )


def test_valid_settings_pass():
    assert form("check_availability", '{"timezone": "Europe/Paris", "slot_minutes": 20}').is_valid()


def test_wrong_settings_are_a_form_error_naming_the_field():
    bad = form("check_availability", '{"timezone": "Mars/Olympus", "slot_minutes": 2}')

    assert not bad.is_valid()
    assert bad.errors["settings"] == [
        "slot_minutes: 2 is less than the minimum of 5",
        "timezone: 'Mars/Olympus' is not a known time zone",
    ]


def test_an_http_request_without_its_url_is_refused():
    bad = form("http_request", '{"method": "GET"}')

    assert not bad.is_valid()
    assert bad.errors["settings"] == ["(top level): 'url' is a required property"]


def test_only_registered_tools_can_be_chosen():
    bad = form("teleport", "{}")

    assert not bad.is_valid()
    assert "tool_name" in bad.errors
    assert "walk_in_wait" in dict(bad.fields["tool_name"].choices)  # Joe's tool, from outside


def test_settings_with_a_nul_character_are_a_form_error_not_a_server_error():
    bad = form("http_request", '{"url": "https://api.example/", "description": "a\\u0000b"}')

    assert not bad.is_valid()
    assert bad.errors["settings"] == ["description: contains a NUL character"]
