"""The offline agent's post-call analysis: deterministic word matching, no AI model.

It says what it is (``"analyzer": "offline (no AI model)"``) and fills ANALYSIS_SCHEMA from what
happened: the summary quotes the caller's first turns, the agent's last one and what a tool
did; the intent is what the tools were used for ("Booking"), else the knowledge topic the
caller's words match best, else "general enquiry"; the sentiment counts a few telling words in
the caller's turns ("not" flips the next one); the outcome is what a tool did for the caller
("Booking made"), else "unanswered" when the agent said it did not know (or the caller never
spoke), else "answered"; a follow-up is needed when the caller asked for a person or a
callback, when a tool failed and was not made good later, or when the agent did not know and
did nothing else.
"""

import itertools
import re
from typing import Any

from voice.agent.base import AgentProfile, ToolRecord, Turn
from voice.agent.matching import best_knowledge, words

ANALYZER = "offline (no AI model)"
GENERAL_INTENT = "general enquiry"
QUOTE_LIMIT = 160  # characters of each quoted turn in the summary
FAILED = ("failed", "timed_out")
HANDOVER = "transfer_to_human"  # a person must act
QUIET = ("end_call",)  # says nothing of what the caller wanted

_POSITIVE = frozenset(
    {"thanks", "thank", "great", "perfect", "wonderful", "awesome", "excellent", "lovely"}
    | {"brilliant", "fantastic", "helpful", "happy", "glad", "appreciate", "amazing"}
)
_NEGATIVE = frozenset(
    {"angry", "annoyed", "annoying", "terrible", "awful", "horrible", "bad", "worst", "useless"}
    | {"frustrated", "frustrating", "disappointed", "disappointing", "upset", "ridiculous"}
    | {"complaint", "complain", "rude", "hate", "unacceptable", "unhappy"}
)
_NEGATIONS = frozenset({"not", "never", "dont", "isnt", "wasnt", "arent"})
_PERSON_WANTED = re.compile(
    r"\b(?:speak|talk|transfer me|put me through|connect me)\b.*"
    r"\b(?:human|person|someone|somebody|manager|representative|operator|staff)\b"
    r"|\b(?:call me|ring me|callback|give me a call)\b"
)
_NOT_KNOWN = re.compile(r"\b(?:dont know|do not know|not sure|cannot help|cant help)\b")


def _plain(text: str) -> str:
    """Lowercase words without punctuation, one space apart ("Don't!" -> "dont")."""
    return " ".join(words(text))


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return f'"{text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 3] + "..."}"'


def _summary(caller: list[str], agent: list[str], made: list[ToolRecord]) -> str:
    if not caller:
        return "The caller did not say anything."
    said = " ".join(_quote(text) for text in caller[:2])
    answer = f" The agent's last answer: {_quote(agent[-1])}." if agent else " No answer."
    done = "".join(f" {record.summary}." for record in made)
    return f"The caller said: {said}.{answer}{done}"


def _intent(profile: AgentProfile, caller: list[str], used: list[ToolRecord]) -> str:
    if used:
        return ", ".join(dict.fromkeys(record.title for record in used))
    best = best_knowledge(profile.knowledge, " ".join(caller))
    return next((title for title, content in profile.knowledge if content == best), GENERAL_INTENT)


def _unresolved(tools: tuple[ToolRecord, ...]) -> bool:
    """Whether a tool's last run failed (a slot taken, then another booked: not)."""
    last = {record.name: record.status for record in tools}
    return any(status in FAILED for status in last.values())


def _sentiment(caller: list[str]) -> str:
    score = 0
    for text in caller:
        for previous, word in itertools.pairwise(["", *words(text)]):
            weight = (word in _POSITIVE) - (word in _NEGATIVE)
            score += -weight if previous in _NEGATIONS else weight
    return "positive" if score > 0 else "negative" if score < 0 else "neutral"


def offline_analysis(
    profile: AgentProfile, history: list[Turn], tools: tuple[ToolRecord, ...] = ()
) -> dict[str, Any]:
    """The analysis of a finished call, valid against ANALYSIS_SCHEMA."""
    caller = [turn.text for turn in history if turn.role == "caller"]
    agent = [turn.text for turn in history if turn.role == "agent"]
    used = [record for record in tools if record.status != "rejected" and record.name not in QUIET]
    made = [record for record in tools if record.status == "succeeded" and record.confirmed]
    not_known = any(_NOT_KNOWN.search(_plain(text)) for text in agent)
    person_wanted = any(_PERSON_WANTED.search(_plain(text)) for text in caller) or any(
        record.name == HANDOVER and record.status == "succeeded" for record in tools
    )
    if made:
        outcome = f"{made[-1].title} made"
    elif not caller or (not_known and not used):
        outcome = "unanswered"
    else:
        outcome = "answered"
    return {
        "summary": _summary(caller, agent, made),
        "intent": _intent(profile, caller, used),
        "sentiment": _sentiment(caller),
        "outcome": outcome,
        "follow_up_needed": person_wanted or _unresolved(tools) or (not_known and not used),
        "analyzer": ANALYZER,
    }
