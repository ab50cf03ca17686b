"""Admin forms for the voice models."""

from django import forms
from django.core.exceptions import ValidationError

from voice.models import WidgetKey
from voice.origins import origin_normalize


class OriginsField(forms.Field):
    """Allowed origins, one per line in a text area, stored as a list of canonical origins."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "https://www.example.com"})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value) -> list[str]:
        lines = [line.strip() for line in (value or "").splitlines() if line.strip()]
        origins, errors = [], []
        for line in lines:
            try:
                origins.append(origin_normalize(line))
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise ValidationError(errors)
        return list(dict.fromkeys(origins))


class WidgetKeyForm(forms.ModelForm):
    allowed_origins = OriginsField(
        help_text="One origin per line (scheme://host[:port]): the web sites that may embed the "
        "widget with this key."
    )

    class Meta:
        model = WidgetKey
        fields = ["label", "persona", "allowed_origins"]
