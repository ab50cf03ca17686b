"""Days and times as callers say them, resolved against the business's local now.

A caller says "tomorrow", "Friday", "next Friday", "the 3rd", "8 December", "2026-12-08", "3pm",
"15:00", "half past two". dateparser reads days and times; the few spoken forms it misreads or
does not read are put first in words it reads well ("half past two" -> "2:30", "quarter to
three" -> "2:45", "three o'clock" -> "3:00"), and a day of the month on its own ("the 3rd") is
the next such day. What comes out is checked as a caller means it: a day already gone is refused
with a sentence the agent can say back ("Tuesday the 1st is in the past; did you mean Tuesday the
8th?"), and so is a phrase that names no single day ("next week").
"""

import datetime as dt
import re
import warnings

from dateparser.date import DateDataParser

from tools_registry.base import ToolError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# The hours and the days of a month as they are said.
NUMBER_WORDS = [
    "zero", "one", "two", "three", "four", "five", "six",
    "seven", "eight", "nine", "ten", "eleven", "twelve",
]  # fmt: skip
ORDINAL_WORDS = [
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
    "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
    "eighteenth", "nineteenth", "twentieth",
]  # fmt: skip
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DAY_OF_MONTH = re.compile(
    rf"^(?:(?:on )?(?P<weekday>{'|'.join(WEEKDAYS)})\s+)?(?:on )?(?:the )?"
    rf"(?P<day>\d{{1,2}})(?:st|nd|rd|th)$"
)
_HOUR_WORD = re.compile(rf"\b({'|'.join(NUMBER_WORDS)})\b")
_HALF_PAST = re.compile(r"\bhalf past (\d{1,2})\b")
_QUARTER_PAST = re.compile(r"\bquarter past (\d{1,2})\b")
_QUARTER_TO = re.compile(r"\bquarter to (\d{1,2})\b")
_OCLOCK = re.compile(r"\b(\d{1,2}) ?o'?clock\b")
_BARE_HOUR = re.compile(r"^(?:at )?(\d{1,2})(?::(\d{2}))?$")
_MERIDIEM = re.compile(r"\b[ap]\.?m\.?\b")

_PARSER = DateDataParser(languages=["en"])


def spoken_day(day: dt.date) -> str:
    """'Tuesday 8 December': a day as the agent says it back."""
    return f"{day:%A} {day.day} {day:%B}"


def spoken_slot(start: dt.datetime) -> str:
    """'Tuesday 8 December at 15:00'."""
    return f"{spoken_day(start.date())} at {start:%H:%M}"


def day_resolve(phrase: str, today: dt.date) -> dt.date:
    """The day `phrase` names, today or later; ToolError with a sayable reason otherwise."""
    text = _normalized(phrase)
    if _ISO_DATE.fullmatch(text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise ToolError(f"{phrase!r} is not a date") from None
    elif match := _DAY_OF_MONTH.match(text):
        day = _day_of_month(int(match["day"]), match["weekday"], today)
    else:
        day = _parsed_day(phrase, text, today)
    if day < today:
        raise ToolError(f"{spoken_day(day)} is in the past; which day would you like?")
    return day


def time_resolve(phrase: str) -> tuple[dt.time, bool]:
    """The time `phrase` names, and whether it left morning or afternoon open ("at 3")."""
    text = _spoken_time(_normalized(phrase))
    if match := _BARE_HOUR.match(text):
        hour, minute = int(match[1]), int(match[2] or 0)
        if hour < 24 and minute < 60:
            return dt.time(hour, minute), 1 <= hour <= 12
    with warnings.catch_warnings():  # dateparser's own deprecation notices
        warnings.simplefilter("ignore")
        parsed = _PARSER.get_date_data(text)
    if parsed.date_obj is None:
        raise ToolError(f"I could not tell what time {phrase!r} is; a time like 3pm or 15:00?")
    return parsed.date_obj.time().replace(second=0, microsecond=0), False


def _normalized(phrase: str) -> str:
    return " ".join(phrase.lower().replace(",", " ").split())


def _day_of_month(number: int, weekday: str | None, today: dt.date) -> dt.date:
    """The next day `number` of a month, today or later, which falls on `weekday` if named."""
    days = [day for months in range(13) if (day := _in_month(today, months, number))]
    ahead = [day for day in days if day >= today]
    if not ahead:
        raise ToolError(f"No month has a day {number}; which day would you like?")
    if weekday is None or WEEKDAYS[ahead[0].weekday()] == weekday:
        return ahead[0]
    named = WEEKDAYS.index(weekday)
    nearest = today + dt.timedelta(days=(named - today.weekday()) % 7)
    said, nearest_said = weekday.capitalize(), _ordinal(nearest.day)
    suggestion = f"did you mean {said} the {nearest_said}?"
    if days[0] < today and days[0].weekday() == named:  # this month's, already gone
        raise ToolError(f"{said} the {_ordinal(number)} is in the past; {suggestion}")
    raise ToolError(f"The {_ordinal(number)} is a {ahead[0]:%A}, not a {said}; {suggestion}")


def _in_month(today: dt.date, months_ahead: int, number: int) -> dt.date | None:
    month_index = today.month - 1 + months_ahead
    try:
        return dt.date(today.year + month_index // 12, month_index % 12 + 1, number)
    except ValueError:
        return None


def _ordinal(number: int) -> str:
    suffix = "th" if 11 <= number % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10)
    return f"{number}{suffix or 'th'}"


def _parsed_day(phrase: str, text: str, today: dt.date) -> dt.date:
    for index, word in enumerate(ORDINAL_WORDS):  # "the third" reads as "the 3rd"
        text = re.sub(rf"\b{word}\b", _ordinal(index + 1), text)
    if match := _DAY_OF_MONTH.match(text):
        return _day_of_month(int(match["day"]), match["weekday"], today)
    settings = {
        "RELATIVE_BASE": dt.datetime.combine(today, dt.time()),
        "PREFER_DATES_FROM": "future",
        "RETURN_TIME_AS_PERIOD": True,
    }
    with warnings.catch_warnings():  # dateparser's own deprecation notices
        warnings.simplefilter("ignore")
        parsed = DateDataParser(languages=["en"], settings=settings).get_date_data(text)
    if parsed.date_obj is None:
        raise ToolError(
            f"I could not tell which day {phrase!r} is; a day like Friday or 8 December?"
        )
    if parsed.period in ("week", "month", "year"):
        raise ToolError(f"{phrase!r} is not one day; which day would you like?")
    return parsed.date_obj.date()


def _spoken_time(text: str) -> str:
    """Spoken times put in the words dateparser reads: "half past two" -> "2:30"."""
    text = _HOUR_WORD.sub(lambda match: str(NUMBER_WORDS.index(match[1])), text)
    text = text.replace("noon", "12:00").replace("midday", "12:00")
    text = _HALF_PAST.sub(lambda match: f"{match[1]}:30", text)
    text = _QUARTER_PAST.sub(lambda match: f"{match[1]}:15", text)
    text = _QUARTER_TO.sub(lambda match: f"{int(match[1]) - 1 or 12}:45", text)
    text = _OCLOCK.sub(lambda match: f"{match[1]}:00", text)
    if not _MERIDIEM.search(text):
        text = text.removeprefix("at ")
    return text
