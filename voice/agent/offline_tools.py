"""How the offline agent uses the built-in generic tools: by simple matching, no model.

It reads the conversation for an intent (book, check availability, a person, goodbye) and the
details the tool needs (a day, a time, a name), taking them from earlier caller turns too, so a
booking can be made over several turns. When a detail is missing it asks for it.
"""

import datetime as dt
import re
from dataclasses import dataclass, field

from tools_registry.base import ToolSpec
from voice.agent.base import Turn

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip
_BOOK = re.compile(r"\b(book|booking|appointment|reserve|schedule)\b")
_AVAILABILITY = re.compile(r"\b(available|availability|free|openings|slots?)\b")
_PERSON = re.compile(
    r"\b(speak|talk|transfer|connect|put me through)\b.*\b(human|person|someone|staff|manager)\b"
)
_GOODBYE = re.compile(r"\b(bye|goodbye|hang up|that's all|that is all)\b")
_ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_MONTH_DAY = re.compile(rf"\b({'|'.join(MONTHS)})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({'|'.join(MONTHS)})\b")
_TIME = re.compile(
    r"\b(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)|\bat\s+(\d{1,2}):(\d{2})"
)
_NAME = re.compile(r"\b(?:my name is|name's|this is|it's for|booking for)\s+([a-z][a-z'-]+)")
_SERVICE = re.compile(r"\bbook (?:a|an|me a|me an)\s+([a-z]+)")


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Question:
    """What the agent must ask before it can call a tool."""

    text: str


def _date(text: str, today: dt.date) -> dt.date | None:
    if match := _ISO_DATE.search(text):
        try:
            return dt.date.fromisoformat(match.group(1))
        except ValueError:
            return None
    if "tomorrow" in text:
        return today + dt.timedelta(days=1)
    if "today" in text:
        return today
    for index, day in enumerate(WEEKDAYS):
        if re.search(rf"\b{day}\b", text):
            return today + dt.timedelta(days=(index - today.weekday() - 1) % 7 + 1)
    if match := _MONTH_DAY.search(text):
        month, day = match.group(1, 2)
    elif match := _DAY_MONTH.search(text):
        month, day = match.group(2, 1)
    else:
        return None
    try:
        candidate = dt.date(today.year, MONTHS.index(month) + 1, int(day))
    except ValueError:
        return None
    return candidate if candidate >= today else candidate.replace(year=today.year + 1)


def _time(text: str) -> str | None:
    match = _TIME.search(text)
    if not match:
        return None
    if match.group(4):
        hour, minute, suffix = int(match.group(4)), int(match.group(5)), ""
    else:
        hour, minute, suffix = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if suffix.startswith("p") and hour < 12:
        hour += 12
    if suffix.startswith("a") and hour == 12:
        hour = 0
    return f"{hour:02d}:{minute:02d}" if hour < 24 and minute < 60 else None


def _latest(turns: list[str], find):
    """The most recent value `find` gets from the caller's turns, newest first."""
    return next((value for text in reversed(turns) if (value := find(text))), None)


def tool_request(
    history: list[Turn], specs: tuple[ToolSpec, ...], today: dt.date
) -> ToolCall | Question | None:
    """The tool call (or the question) the last caller turn leads to, if any."""
    names = {spec.name for spec in specs}
    said = [turn.text.lower() for turn in history if turn.role == "caller"]
    if not said:
        return None
    last = said[-1]
    last_agent = next((t.text.lower() for t in reversed(history) if t.role == "agent"), "")
    if "transfer_to_human" in names and _PERSON.search(last):
        return ToolCall("transfer_to_human", {"reason": "the caller asked for a person"})
    if "end_call" in names and _GOODBYE.search(last):
        return ToolCall("end_call")
    gives_details = bool(_time(last) or _NAME.search(last))
    continuing = bool(_BOOK.search(last_agent)) and gives_details
    if (_BOOK.search(last) or continuing) and "book_appointment" in names:
        return _booking(said, names, today)
    if _AVAILABILITY.search(last) and "check_availability" in names:
        day = _date(last, today) or _latest(said, lambda text: _date(text, today))
        if day:
            return ToolCall("check_availability", {"date": day.isoformat()})
        return Question("Which day would you like?")
    return None


def _booking(said: list[str], names: set[str], today: dt.date) -> ToolCall | Question:
    day = _latest(said, lambda text: _date(text, today))
    time = _latest(said[-2:], _time)
    name = _latest(said, lambda text: (m := _NAME.search(text)) and m.group(1).title())
    if day is None:
        return Question("Which day would you like to book?")
    if time is None:
        if "check_availability" in names:
            return ToolCall("check_availability", {"date": day.isoformat()})
        return Question(f"What time on {day:%A %d %B} would suit you?")
    if name is None:
        return Question("Can I have your name for the booking?")
    arguments = {"date": day.isoformat(), "time": time, "name": name}
    if service := _latest(said, lambda text: (m := _SERVICE.search(text)) and m.group(1)):
        arguments["service"] = service
    return ToolCall("book_appointment", arguments)
