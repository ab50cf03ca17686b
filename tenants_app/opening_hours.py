"""A business's opening hours: one set per tenant, used by the calendar tools and the agent.

Stored as `{"tue": [["09:00", "18:00"]], ...}`: each open weekday (three letters) with its opening
periods (one, or two for a day with a break) in the business's own time; a day that is missing
is a closed day. Said in words as "Monday to Friday 9:00-17:00; Saturday 10:00-14:00; closed
Sunday" (with en dashes).
"""

import itertools
from typing import Any

from django.core.exceptions import ValidationError

from tools_registry.validation import schema_errors

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_PERIODS = 2  # a day with a break
HHMM = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"}
OPENING_HOURS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"enum": list(DAYS)},
    "additionalProperties": {
        "type": "array",
        "maxItems": MAX_PERIODS,
        "items": {"type": "array", "prefixItems": [HHMM, HHMM], "minItems": 2, "maxItems": 2},
    },
}
KNOWLEDGE_TITLE = "Opening hours"
DASH = "\u2013"  # an en dash, as a range of times is written

Periods = list[list[str]]  # [["09:00", "12:00"], ["13:00", "18:00"]]


def periods_problems(periods: Periods) -> list[str]:
    """What is wrong with one day's periods: one closing before it opens, or overlapping."""
    problems = [
        f"{opens}-{closes} closes before it opens" for opens, closes in periods if closes <= opens
    ]
    problems += [
        f"{later[0]}-{later[1]} starts before {earlier[1]}, when the earlier period closes"
        for earlier, later in itertools.pairwise(periods)
        if later[0] < earlier[1]
    ]
    return problems


def opening_hours_validate(hours: Any) -> None:
    """Opening hours as `OPENING_HOURS_SCHEMA` has them, each period closing after it opens and
    a day's periods in order."""
    problems = schema_errors(hours, OPENING_HOURS_SCHEMA)
    if not problems:
        problems = [
            f"{day}: {problem}"
            for day, periods in hours.items()
            for problem in periods_problems(periods)
        ]
    if problems:
        raise ValidationError(problems)


def days_text(days: list[str]) -> str:
    """'Monday to Friday', 'Saturday and Sunday', 'Monday, Wednesday and Friday'."""
    indexes = sorted(DAYS.index(day) for day in days)
    runs: list[list[int]] = []
    for index in indexes:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    parts = []
    for run in runs:
        if len(run) > 2:
            parts.append(f"{DAY_NAMES[run[0]]} to {DAY_NAMES[run[-1]]}")
        else:
            parts.extend(DAY_NAMES[index] for index in run)
    return ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else "".join(parts)


def _time_text(hhmm: str) -> str:
    return hhmm.removeprefix("0")  # "9:00", as said, not "09:00"


def opening_hours_text(hours: dict[str, Periods]) -> str:
    """The hours in words: days with the same hours together, in week order, closed days
    last. Empty when the business has no hours at all."""
    open_days = [day for day in DAYS if hours.get(day)]
    if not open_days:
        return ""
    groups: dict[str, list[str]] = {}
    for day in open_days:
        periods = " and ".join(f"{_time_text(o)}{DASH}{_time_text(c)}" for o, c in hours[day])
        groups.setdefault(periods, []).append(day)
    parts = [f"{days_text(days)} {periods}" for periods, days in groups.items()]
    closed = [day for day in DAYS if day not in open_days]
    if closed:
        parts.append(f"closed {days_text(closed)}")
    return "; ".join(parts)


def opening_hours_knowledge(hours: dict[str, Periods]) -> list[tuple[str, str]]:
    """The hours as a knowledge item (title, content) for the agent; none without hours."""
    text = opening_hours_text(hours)
    return [(KNOWLEDGE_TITLE, f"{text}.")] if text else []
