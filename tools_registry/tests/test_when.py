"""Days and times as callers say them, against a fixed local "today"."""

import datetime as dt

import pytest

from tools_registry.base import ToolError
from tools_registry.when import day_resolve, spoken_day, spoken_slot, time_resolve

SATURDAY = dt.date(2026, 12, 5)


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("today", "Saturday 5 December"),
        ("tomorrow", "Sunday 6 December"),
        ("Tuesday", "Tuesday 8 December"),
        ("on Tuesday", "Tuesday 8 December"),
        ("next Friday", "Friday 11 December"),
        ("the 8th", "Tuesday 8 December"),
        ("the eighth", "Tuesday 8 December"),
        ("the 3rd", "Sunday 3 January"),  # this month's 3rd is gone: the next one
        ("Tuesday the 8th", "Tuesday 8 December"),
        ("8 December", "Tuesday 8 December"),
        ("December 8", "Tuesday 8 December"),
        ("2026-12-08", "Tuesday 8 December"),
    ],
)
def test_days_as_callers_say_them(said, day):
    assert spoken_day(day_resolve(said, SATURDAY)) == day


@pytest.mark.parametrize(
    ("said", "reason"),
    [
        ("Tuesday the 1st", "Tuesday the 1st is in the past; did you mean Tuesday the 8th?"),
        ("Friday the 8th", "The 8th is a Tuesday, not a Friday; did you mean Friday the 11th?"),
        ("2026-11-30", "Monday 30 November is in the past; which day would you like?"),
        ("next week", "'next week' is not one day; which day would you like?"),
        ("some day", "I could not tell which day 'some day' is"),
    ],
)
def test_days_refused_with_a_sentence_the_agent_can_say(said, reason):
    with pytest.raises(ToolError) as refused:
        day_resolve(said, SATURDAY)

    assert refused.value.message.startswith(reason)


@pytest.mark.parametrize(
    ("said", "time", "either_half"),
    [
        ("3pm", "15:00", False),
        ("3 p.m.", "15:00", False),
        ("15:00", "15:00", False),
        ("ten am", "10:00", False),
        ("2.30pm", "14:30", False),
        ("half past two", "02:30", True),
        ("quarter to three", "02:45", True),
        ("three o'clock", "03:00", True),
        ("at 3", "03:00", True),
        ("noon", "12:00", True),
    ],
)
def test_times_as_callers_say_them(said, time, either_half):
    resolved, open_half = time_resolve(said)

    assert f"{resolved:%H:%M}" == time and open_half is either_half


def test_a_slot_is_said_back_in_full():
    start = dt.datetime(2026, 12, 8, 15, 0)

    assert spoken_slot(start) == "Tuesday 8 December at 15:00"
