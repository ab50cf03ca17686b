"""Admin forms: a tool's per-tenant settings are checked against its settings schema on save."""

from typing import Any, cast

from django import forms

from tools_registry.models import TenantSecret, ToolEnablement
from tools_registry.registry import tool_get, tool_names


class ToolEnablementForm(forms.ModelForm):
    tool_name = forms.ChoiceField(choices=())

    class Meta:
        model = ToolEnablement
        fields = ["tool_name", "is_enabled", "settings"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        tool_field = cast(forms.ChoiceField, self.fields["tool_name"])
        tool_field.choices = [(name, name) for name in tool_names()]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        tool = tool_get(cleaned.get("tool_name", ""))
        if tool is not None and "settings" in cleaned:
            for problem in tool.settings_errors(cleaned["settings"] or {}):
                self.add_error("settings", problem)
        return cleaned


class TenantSecretForm(forms.ModelForm):
    value = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored for tools to use and never shown again; empty keeps the current one.",
        required=False,
    )

    class Meta:
        model = TenantSecret
        fields = ["name", "value"]

    def clean_value(self) -> str:
        value = self.cleaned_data["value"]
        if not value and self.instance.pk:
            return self.instance.value
        if not value:
            raise forms.ValidationError("A new secret needs a value.")
        return value
