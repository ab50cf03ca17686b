"""The platform admin's "Set up a tenant" forms: fields, or an uploaded `config.yaml`.

Both end in a `TenantConfig` validated by `tenants_app.config`, exactly as `tenant_onboard`'s
files are; a `ConfigError` is shown on the form field it names.
"""

import zoneinfo
from typing import Any

from django import forms

from tenants_app.config import (
    MAX_FILE_BYTES,
    SLUG,
    ConfigError,
    TenantConfig,
    config_from_yaml,
    config_parse,
)
from voice.engines.names import EngineName
from voice.engines.voices import DEFAULT_VOICES, voice_choices

# The config's top-level keys and the field of `TenantSetupForm` that holds each.
CONFIG_FIELDS = {
    "tenant_id": "slug",
    "display_name": "name",
    "timezone": "timezone",
    "domains": "domain",
    "agent": "persona_name",
    "voice_settings": "voice",
    "system_prompt": "instructions",
    "greeting": "greeting",
    "widget": "allowed_origins",
    "admins": "admin_username",
}


def config_error_field(error: ConfigError) -> tuple[str | None, str]:
    """The form field a `ConfigError` ("source: path: problem") is about, and its problem."""
    _, _, detail = error.message.partition(": ")
    path, _, problem = detail.partition(": ")
    field = CONFIG_FIELDS.get(path.split(".")[0])
    return (field, problem) if field and problem else (None, detail or error.message)


def _timezone_choices() -> list[tuple[str, str]]:
    return [(zone, zone) for zone in sorted(zoneinfo.available_timezones())]


class TenantSetupForm(forms.Form):
    """A new tenant with its first admin, its first agent and its web site's widget key."""

    name = forms.CharField(
        label="Business name", max_length=200, help_text="As callers know it, e.g. Acme Plumbing."
    )
    slug = forms.RegexField(
        label="Tenant id",
        regex=SLUG,
        max_length=41,
        error_messages={"invalid": "Lowercase letters, digits and _, starting with a letter."},
        help_text="Also its database schema's name: lowercase letters, digits and _.",
    )
    domain = forms.CharField(
        max_length=253, help_text="The host of its admin and widget, e.g. acme.example.com."
    )
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=_timezone_choices,
        initial="UTC",
        help_text="Where the business is: callers' dates and bookings are in its time.",
    )
    admin_username = forms.CharField(label="Admin's username", max_length=150)
    admin_email = forms.EmailField(label="Admin's email")
    persona_name = forms.CharField(
        label="Agent's name", max_length=100, help_text="What the agent calls itself, e.g. Sam."
    )
    instructions = forms.CharField(
        label="Agent's instructions",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Who the agent is, what it helps callers with and how it speaks.",
    )
    greeting = forms.CharField(
        max_length=300, required=False, help_text="The agent's first words on a call."
    )
    engine = forms.ChoiceField(
        label="Voice engine", choices=EngineName.choices, initial=EngineName.PERSONAPLEX
    )
    voice = forms.ChoiceField(choices=voice_choices, initial=DEFAULT_VOICES[EngineName.PERSONAPLEX])
    allowed_origins = forms.CharField(
        label="Web sites",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Origins allowed to embed the widget, one a line, e.g. https://acme.example.com.",
    )

    fieldsets: list[tuple[str, dict[str, Any]]] = [
        ("Business", {"fields": ["name", "slug", "domain", "timezone"]}),
        ("First admin", {"fields": ["admin_username", "admin_email"]}),
        (
            "First agent",
            {"fields": ["persona_name", "instructions", "greeting", "engine", "voice"]},
        ),
        ("Widget key", {"fields": ["allowed_origins"]}),
    ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        if not self.errors:
            try:
                self.config = config_parse(self._config_data(self.cleaned_data), source="form")
            except ConfigError as error:
                self.add_error(*config_error_field(error))
        return self.cleaned_data

    @staticmethod
    def _config_data(data: dict[str, Any]) -> dict[str, Any]:
        origins = [line.strip() for line in data["allowed_origins"].splitlines() if line.strip()]
        return {
            "tenant_id": data["slug"],
            "display_name": data["name"],
            "timezone": data["timezone"],
            "domains": [data["domain"]],
            "agent": {"name": data["persona_name"]},
            "voice_settings": {"provider": data["engine"], "voice_id": data["voice"]},
            "system_prompt": data["instructions"],
            "greeting": data["greeting"],
            "widget": {"allowed_origins": origins},
            "admins": [{"username": data["admin_username"], "email": data["admin_email"]}],
        }


class ConfigUploadForm(forms.Form):
    """A `config.yaml`, as `manage.py tenant_onboard` reads it."""

    config_file = forms.FileField(
        label="config.yaml", help_text="The shape of examples/tenants/joes/config.yaml."
    )

    def clean_config_file(self):
        upload = self.cleaned_data["config_file"]
        try:
            self.config: TenantConfig = config_from_yaml(
                upload.read(MAX_FILE_BYTES + 1), source=upload.name
            )
        except ConfigError as error:
            raise forms.ValidationError(error.message) from None
        return upload
