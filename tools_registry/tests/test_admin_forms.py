"""An admin edits a tool's settings as a form drawn from the tool's settings schema; they are
checked against that schema when saved, the problems shown on their inputs."""

import json
import re
from html import unescape as html_unescape

from tools_registry.builtin.http_request import HttpRequest
from tools_registry.forms import ToolEnablementForm
from tools_registry.models import ToolEnablement

HTTP_SETTINGS = {
    "url": "https://api.example/orders",
    "method": "POST",
    "parameters": {"type": "object", "properties": {"order": {"type": "string"}}},
}


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


def editor_config(form: ToolEnablementForm) -> dict:
    """What the settings editor is drawn from: its schema, its data and the errors it shows."""
    html = str(form["settings"])
    config = json.loads(html_unescape(re.search(r'data-django-jsonform="([^"]*)"', html)[1]))
    return {**config, "data": json.loads(config["data"])}


def test_a_tools_settings_are_a_form_drawn_from_its_schema():
    form = ToolEnablementForm(
        instance=ToolEnablement(tool_name="http_request", settings=HTTP_SETTINGS)
    )

    config = editor_config(form)

    fields = config["schema"]["properties"]
    assert list(fields) == list(HttpRequest.settings_schema["properties"])
    assert fields["method"] == {  # a select
        "type": "string",
        "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"],
        "title": "Method",
    }
    assert fields["timeout_seconds"]["type"] == "number"
    assert fields["title"]["help_text"] == "the caller's card names it"
    assert fields["parameters"] == {
        "type": "string",
        "widget": "textarea",
        "title": "Parameters",
        "help_text": "a JSON schema of what the agent sends: a GET's query, else the body",
    }
    assert config["data"]["url"] == "https://api.example/orders"
    assert json.loads(config["data"]["parameters"]) == HTTP_SETTINGS["parameters"]
    schemas = json.loads(form["tool_name"].field.widget.attrs["data-settings-schemas"])
    assert list(schemas["check_availability"]["properties"]) == [
        "calendar",
        "timezone",
        "slot_minutes",
    ]


def test_what_the_form_posts_is_read_back_as_settings():
    posted = {
        **HTTP_SETTINGS,
        "parameters": json.dumps(HTTP_SETTINGS["parameters"]),
        "title": "",
        "secret_headers": {},
        "timeout_seconds": None,
    }

    good = form("http_request", json.dumps(posted))

    assert good.is_valid(), good.errors
    assert good.cleaned_data["settings"] == HTTP_SETTINGS


def test_parameters_that_are_not_json_are_a_form_error():
    bad = form("http_request", json.dumps({**HTTP_SETTINGS, "parameters": "{type: object"}))

    assert not bad.is_valid()
    assert bad.errors["settings"][0].startswith("parameters: not valid JSON")


def test_wrong_settings_are_shown_on_their_inputs():
    bad = form("check_availability", '{"timezone": "Mars/Olympus", "slot_minutes": 2}')
    missing = form("http_request", '{"method": "GET"}')

    assert not bad.is_valid() and not missing.is_valid()
    assert editor_config(bad)["errorMap"] == {
        "slot_minutes": ["2 is less than the minimum of 5"],
        "timezone": ["'Mars/Olympus' is not a known time zone"],
    }
    assert editor_config(missing)["errorMap"] == {"url": ["'url' is a required property"]}
    assert editor_config(bad)["data"] == {"timezone": "Mars/Olympus", "slot_minutes": 2}


def test_good_settings_are_saved(joes, in_schema):
    with in_schema(joes):
        enablement = ToolEnablement.objects.get(tool_name="check_availability")
        posted = {"calendar": "chairs", "timezone": "", "slot_minutes": 45}
        data = {
            "tool_name": "check_availability",
            "is_enabled": "on",
            "settings": json.dumps(posted),
        }

        ToolEnablementForm(data=data, instance=enablement).save()

        enablement.refresh_from_db()
        assert enablement.settings == {"calendar": "chairs", "slot_minutes": 45}
