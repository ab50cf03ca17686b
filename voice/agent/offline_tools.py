"""How the offline agent uses a call's tools: read from their specs, with no model.

Nothing here knows a particular tool. A caller asks for a tool with one of its keywords ("book",
"speak person"), or by giving what only that tool takes ("10 am, my name is Ann" after the free
times). Its arguments are read from everything the caller said since the agent last finished
something: each property of the tool's JSON schema is a day, a time, a name, a yes/no or a text
by its name and description, and the latest value said for it counts. A required one that is
missing is asked for, one at a time, and the caller's answer to that question is taken as its
value (a bare name, "3pm", "Tuesday"). A tool with a `confirmed` property changes something: it
runs first without it, its answer ("Haircut on Tuesday 8 December at 15:00 for Jamie Lee") is
put to the caller, and it runs for real only once the caller says yes.

The conversation is read again from the history at every turn: what the agent asks, confirms
and finishes ends with fixed phrases (`ASK`, `CONFIRM`, `CHANGE`, `DONE`), so each turn knows
where the last one left off.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from tools_registry.base import ToolSpec
from voice.agent.base import Turn
from voice.agent.matching import stem, words

CONFIRM = "Shall I go ahead?"
CHANGE = "What would you like to change?"
DONE = "Anything else I can do for you?"
ASK = {
    "day": "Which day would you like?",
    "time": "What time would suit you?",
    "name": "Can I have your full name, please?",
}
CONFIRMED = "confirmed"  # the property of a tool that asks the caller first

_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
)
_ORDINAL = (
    r"(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)"
)
_DAY_PHRASE = re.compile(
    rf"\b(?:\d{{4}}-\d{{2}}-\d{{2}}|today|tomorrow|(?:(?:next|this) )?{_WEEKDAY}"
    rf"(?: the {_ORDINAL})?|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTH}|the {_ORDINAL})\b"
)
_HOUR = r"(?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_TIME_PHRASE = re.compile(
    rf"\b(?:{_HOUR}(?:[:.]\d{{2}})? ?(?:am|pm|a\.m\.|p\.m\.|o'?clock)"
    rf"|\d{{1,2}}:\d{{2}}|(?:half|quarter) (?:past|to) {_HOUR}|noon|midday|at {_HOUR})(?!\w)"
)
_NAME_INTRO = re.compile(r"\b(?:my name is|my name's|name's|this is|it's for|booking for) (.+)")
_LEADING_FILLER = re.compile(
    r"^(?:(?:yes|yeah|sure|ok|okay|well|um|uh|so|hi|hello)\W+)*"
    r"(?:(?:it's|it is|i'm|i am|my name is|my name's|name's|this is|call me)\s+)?"
)
_NOT_A_NAME = frozenset(
    {"a", "an", "and", "the", "please", "thanks", "thank", "at", "on", "for", "to", "in"}
    | {"tomorrow", "today", "booking", "calling", "looking", "here", "there", "just", "not"}
    | {"sure", "yes", "no", "ok", "okay", "hi", "hello", "i", "would", "like", "can", "could"}
)
_YES = re.compile(r"\b(?:yes|yeah|yep|yup|sure|correct|right|ok|okay|please do|go ahead)\b")
_NO = re.compile(r"\b(?:no|nope|not|don't|dont|wait|change|cancel|actually)\b")


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Question:
    """What the agent says instead of calling a tool: a question for the caller."""

    text: str


def property_kind(key: str, schema: dict[str, Any]) -> str:
    """What a property holds, by its name and description: day, time, name, yes/no or text."""
    if schema.get("type") == "boolean":
        return "yes/no"
    about = f"{key} {schema.get('description', '')}".lower()
    for kind, cue in (("day", r"\b(?:date|day)\b"), ("time", r"\btime\b"), ("name", r"\bname\b")):
        if re.search(cue, about):
            return kind
    return "text"


def question_for(key: str, schema: dict[str, Any]) -> str:
    """How the agent asks for a missing property."""
    return ASK.get(property_kind(key, schema), f"What {key.replace('_', ' ')} should I use?")


def tool_request(history: list[Turn], specs: tuple[ToolSpec, ...]) -> ToolCall | Question | None:
    """The tool call, or the question, that the last caller turn leads to; None: no tool."""
    turns = _since_last_done(history)
    spec = _current_tool(turns, specs)
    if spec is None:
        return None
    last = turns[-1].text.lower()
    last_agent = next((t.text for t in reversed(turns) if t.role == "agent"), "")
    arguments = _arguments(spec, turns)
    properties = _properties(spec)
    if last_agent.endswith(CONFIRM) and CONFIRMED in properties:
        if _NO.search(last) and not _YES.search(last):
            return Question(f"No problem. {CHANGE}")
        if _YES.search(last):
            return ToolCall(spec.name, {**arguments, CONFIRMED: True})
    for key in spec.parameters.get("required", []):
        if key not in arguments:
            return Question(question_for(key, properties[key]))
    return ToolCall(spec.name, arguments)


def _since_last_done(history: list[Turn]) -> list[Turn]:
    """The turns since the agent last finished something (said `DONE`)."""
    done = [i for i, t in enumerate(history) if t.role == "agent" and t.text.endswith(DONE)]
    return history[done[-1] + 1 :] if done else history


def _properties(spec: ToolSpec) -> dict[str, dict[str, Any]]:
    return spec.parameters.get("properties", {})


def _current_tool(turns: list[Turn], specs: tuple[ToolSpec, ...]) -> ToolSpec | None:
    """The tool the last caller turn is about, followed turn by turn: one asked for by keyword;
    else the one the agent's question before it was about; else the one that takes what the
    caller gives. A tool that asked nothing is done with."""
    questions = (
        *ASK.values(),
        CONFIRM,
        CHANGE,
        *(question_for(key, prop) for spec in specs for key, prop in _properties(spec).items()),
    )
    current: ToolSpec | None = None
    asking = False  # whether the agent's last turn asked the caller something
    for turn in turns:
        if turn.role == "agent":
            asking = turn.text.endswith(questions)
            continue
        text = turn.text.lower()
        asked_for = [spec for spec in specs if any(_keyword_in(text, k) for k in spec.keywords)]
        if asked_for:
            current = asked_for[0]
        elif not (asking and current):
            current = _taking(_values(text), specs)
    return current


def _keyword_in(text: str, keyword: str) -> bool:
    """Whether every word of `keyword` is in `text` (compared by stem: "booking" has "book")."""
    stems = {stem(word) for word in words(text)}
    return all(stem(word) in stems for word in words(keyword))


def _taking(values: list[tuple[str, str]], specs: tuple[ToolSpec, ...]) -> ToolSpec | None:
    """The tool that takes every kind of value given (the one that takes most, of several)."""
    given = {kind for kind, _ in values}
    fitting = [
        spec
        for spec in specs
        if given and given <= {property_kind(k, p) for k, p in _properties(spec).items()}
    ]
    return max(fitting, key=lambda spec: len(_properties(spec)), default=None)


def _values(text: str) -> list[tuple[str, str]]:
    """The days, times and names `text` gives, as (kind, words as said)."""
    found = [("day", match[0]) for match in _DAY_PHRASE.finditer(text)]
    found += [("time", match[0]) for match in _TIME_PHRASE.finditer(text)]
    if (match := _NAME_INTRO.search(text)) and (name := _name(match[1])):
        found.append(("name", name))
    return found


def _name(text: str) -> str | None:
    """The name at the start of `text`: up to three words, before any filler or day."""
    name: list[str] = []
    for word in re.findall(r"[a-z][a-z'-]*|\S+", _LEADING_FILLER.sub("", text.strip())):
        if word in _NOT_A_NAME or not re.fullmatch(r"[a-z][a-z'-]*", word) or len(name) == 3:
            break
        name.append(word)
    return " ".join(name).title() or None


def _arguments(spec: ToolSpec, turns: list[Turn]) -> dict[str, Any]:
    """Each property's latest value said by the caller, answers to our questions included."""
    properties = _properties(spec)
    kinds = {key: property_kind(key, prop) for key, prop in properties.items()}
    questions = {question_for(key, prop): key for key, prop in properties.items()}
    arguments: dict[str, Any] = {}
    asked: str | None = None  # the property the agent's last turn asked for
    for turn in turns:
        if turn.role == "agent":
            asked = next((key for q, key in questions.items() if turn.text.endswith(q)), None)
            continue
        text = turn.text.lower()
        values = _values(text)
        for key, kind in kinds.items():
            said = [value for value_kind, value in values if value_kind == kind]
            if said:
                arguments[key] = said[-1]
            elif key == asked:  # the answer to our question, as said
                answer = _name(text) if kind == "name" else text.strip(" .!?")
                if answer:
                    arguments[key] = answer
    return arguments
