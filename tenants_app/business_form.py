"""The business settings form of a tenant's admin, with the business's week of opening hours.

Each day is one field: when it opens and closes, and again for a day with a break; a day left
empty is closed. The week is stored as `Tenant.opening_hours` (see `tenants_app.opening_hours`).
"""

import datetime as dt
from typing import Any

from django import forms

from tenants_app.models import BusinessSettings
from tenants_app.opening_hours import (
    DAYS,
    MAX_PERIODS,
    Periods,
    opening_hours_validate,
    periods_problems,
)

TIMES_PER_DAY = 2 * MAX_PERIODS


def day_times(periods: Periods) -> list[str | None]:
    """A day's periods as the day field's four times (None where there is no time)."""
    times: list[str | None] = [time for period in periods for time in period]
    return (times + [None] * TIMES_PER_DAY)[:TIMES_PER_DAY]


def hours_field_name(day: str) -> str:
    """The form field of a day: "mon" -> "hours_mon"."""
    return f"hours_{day}"


class DayHoursWidget(forms.MultiWidget):
    """Opens, closes (and opens again, closes again) as the browser's time inputs."""

    template_name = "tenants_app/day_hours.html"

    def __init__(self) -> None:
        time = forms.TimeInput(format="%H:%M", attrs={"type": "time", "class": "vTimeField"})
        super().__init__([time] * TIMES_PER_DAY)

    def decompress(self, value: Periods | None) -> list[str | None]:
        return day_times(value or [])


class DayHoursField(forms.MultiValueField):
    """One day's opening periods, `[["09:00", "12:00"], ["13:00", "18:00"]]`; none when closed."""

    widget = DayHoursWidget

    def __init__(self, **kwargs: Any) -> None:
        times = [forms.TimeField(required=False) for _ in range(TIMES_PER_DAY)]
        super().__init__(times, require_all_fields=False, required=False, **kwargs)

    def compress(self, data_list: list[dt.time | None]) -> Periods:
        periods = []
        for opens, closes in zip(data_list[::2], data_list[1::2], strict=True):
            if opens is None and closes is None:
                continue
            if opens is None or closes is None:
                raise forms.ValidationError("Give both the time it opens and the time it closes.")
            periods.append([f"{opens:%H:%M}", f"{closes:%H:%M}"])
        problems = periods_problems(periods)
        if problems:
            raise forms.ValidationError([f"{problem}." for problem in problems])
        return periods


class BusinessSettingsForm(forms.ModelForm):
    """The business's settings, its opening hours as a week of day fields."""

    hours_mon = DayHoursField(label="Monday")
    hours_tue = DayHoursField(label="Tuesday")
    hours_wed = DayHoursField(label="Wednesday")
    hours_thu = DayHoursField(label="Thursday")
    hours_fri = DayHoursField(label="Friday")
    hours_sat = DayHoursField(label="Saturday")
    hours_sun = DayHoursField(label="Sunday")

    class Meta:
        model = BusinessSettings
        fields = ["name", "timezone", "recording_enabled", "recording_retention_days"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        hours = self.instance.opening_hours or {}
        for day in DAYS:  # as the day fields' times: a list is taken as them, never decompressed
            self.initial[hours_field_name(day)] = day_times(hours.get(day, []))

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        days = {day: cleaned.get(hours_field_name(day)) for day in DAYS}
        if all(periods is not None for periods in days.values()):  # no day has an error
            hours = {day: periods for day, periods in days.items() if periods}
            opening_hours_validate(hours)
            self.instance.opening_hours = hours
        return cleaned
