"""A business's opening hours: one set per tenant, used by the calendar tools and the agent.

Stored as `{"tue": [["09:00", "18:00"]], ...}`: each open weekday (three letters) with its opening
periods in the business's own time; a day that is missing is a closed day.
"""

from typing import Any

from django.core.exceptions import ValidationError

from tools_registry.validation import schema_errors

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HHMM = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"}
OPENING_HOURS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"enum": list(DAYS)},
    "additionalProperties": {
        "type": "array",
        "items": {"type": "array", "prefixItems": [HHMM, HHMM], "minItems": 2, "maxItems": 2},
    },
}


def opening_hours_validate(hours: Any) -> None:
    """Opening hours as `OPENING_HOURS_SCHEMA` has them, each period closing after it opens."""
    problems = schema_errors(hours, OPENING_HOURS_SCHEMA)
    if not problems:
        problems = [
            f"{day}: {opens}-{closes} closes before it opens"
            for day, periods in hours.items()
            for opens, closes in periods
            if closes <= opens
        ]
    if problems:
        raise ValidationError(problems)
