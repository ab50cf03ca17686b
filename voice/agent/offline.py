"""The offline agent: deterministic answers from the profile's knowledge, with no network.

For development, tests and demos, and whenever no LLM is configured. It answers the last caller
turn with, in order: what it is (when asked), the content of the knowledge item that best
matches the caller's words, a greeting, a goodbye, or a plain "I don't know" that lists what it
can help with. Matching compares word stems: lowercase, no punctuation, no stop-words, naive
suffix stripping, so "when are you open?" finds "Opening hours".
"""

import datetime as dt
import re
from typing import Any

from voice.agent.base import (
    Agent,
    AgentProfile,
    AgentReply,
    PartialText,
    ToolOutcome,
    ToolRunner,
    Turn,
)
from voice.agent.offline_tools import Question, ToolCall, tool_request

PROVIDERS = ("offline", "gemini")

_IDENTITY = re.compile(
    r"\b(?:(?:who|what) are you\b"
    r"|(?:are you|am i (?:talking|speaking) (?:to|with)|is (?:this|that|it)) (?:an? )?"
    r"(?:real|human|person|robot|bot|chatbot|ai|machine|computer|artificial|automated)\b)"
)
_GREETING = re.compile(r"\b(?:hello|hi|hey|hiya|howdy|good (?:morning|afternoon|evening))\b")
_CLOSING = re.compile(r"\b(?:thanks?|bye|goodbye)\b")

_STOP_WORD_LIST = """
    a about all also am an and any are as at be been but by can could did do does doing for from
    get got had has have he her here him his how i id if ill im in into is it its ive just know
    let like me might more much my need no not of ok okay on or our please she should so some
    tell than that thats the their them then there these they this those to too um uh us very
    want was we were what whats when where which who why will with would yes you youd youre your
    hello hi hey hiya howdy good morning afternoon evening thank thanks bye goodbye
"""
_STOP_WORDS = frozenset(_STOP_WORD_LIST.split())


def _words(text: str) -> list[str]:
    """Lowercase words without punctuation; apostrophes vanish ("what's" -> "whats")."""
    return re.sub(r"[^a-z0-9]+", " ", re.sub(r"['\u2019]", "", text.lower())).split()


def _stem(word: str) -> str:
    """Naive suffix stripping, the same for both sides: "opening"/"opens" -> "open"."""
    for suffix, replacement, min_length in (("ies", "y", 5), ("ing", "", 6), ("ed", "", 5)):
        if word.endswith(suffix) and len(word) >= min_length:
            word = word[: -len(suffix)] + replacement
            if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # "trimmed" -> "trimm" -> "trim"
            break
    else:
        if word.endswith("s") and len(word) > 3 and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
    return word[:-1] if len(word) > 3 and word.endswith("e") else word  # "close"/"closed"


# Question words callers use for things knowledge titles call otherwise.
_CONCEPTS = {
    "when": ("hours", "open"),
    "much": ("price", "cost"),
    "cost": ("price",),
    "charge": ("price",),
    "where": ("address", "location"),
}


def _stems(text: str) -> set[str]:
    return {_stem(word) for word in _words(text) if word not in _STOP_WORDS}


def _query_stems(text: str) -> set[str]:
    stems = _stems(text)
    for word in _words(text):
        stems.update(_stem(concept) for concept in _CONCEPTS.get(word, ()))
    return stems


def _best_knowledge(knowledge: tuple[tuple[str, str], ...], question: str) -> str | None:
    """The content of the item sharing the most stems with ``question`` (title words count
    double; ties go to the earlier item), or None when nothing is shared."""
    query = _query_stems(question)
    best_score, best_content = 0, None
    for title, content in knowledge:
        score = 2 * len(query & _stems(title)) + len(query & _stems(content))
        if score > best_score:
            best_score, best_content = score, content
    return best_content


def _answer(profile: AgentProfile, history: list[Turn]) -> str:
    """The reply text; without any caller turn yet, the greeting."""
    question = next((turn.text for turn in reversed(history) if turn.role == "caller"), "")
    text = " ".join(_words(question))
    topics = ", ".join(title for title, _ in profile.knowledge)
    if _IDENTITY.search(text):
        about = f" I can tell you about: {topics}." if topics else ""
        return (
            f"I'm the offline assistant of {profile.name}: an automated system with no AI"
            f" model connected.{about}"
        )
    if content := _best_knowledge(profile.knowledge, question):
        return content
    if not text or _GREETING.search(text):
        return profile.greeting or f"Hello, this is {profile.name}. How can I help you?"
    if _CLOSING.search(text):
        return f"You're welcome. Thank you for calling {profile.name}. Goodbye!"
    if topics:
        return f"I'm sorry, I don't know that. I can help with: {topics}."
    return f"I'm sorry, I don't know that, and {profile.name} has given me no information yet."


def _tool_answer(profile: AgentProfile, outcome: ToolOutcome) -> str:
    """What the offline agent says about a tool's outcome."""
    if not outcome.ok:
        problem = outcome.result.get("error", "something went wrong")
        return f"Sorry, I couldn't do that: {problem}."
    if outcome.name == "check_availability":
        if not outcome.result["free"]:
            return f"{outcome.summary}. Would another day suit you?"
        return f"{outcome.summary}. Which time would you like to book?"
    if outcome.name == "end_call":
        return f"Thank you for calling {profile.name}. Goodbye!"
    return f"{outcome.summary}."


class OfflineAgent:
    """The "offline" Agent provider: stateless, so one instance can serve every call."""

    async def reply(
        self,
        *,
        profile: AgentProfile,
        history: list[Turn],
        tools: ToolRunner | None = None,
        on_partial: PartialText | None = None,
    ) -> AgentReply:
        """Answer the last caller turn; without any caller turn yet, greet.

        A request that a tool serves (book, check availability, a person, goodbye) is run
        through ``tools``; the whole answer is one "partial".
        """
        request = tool_request(history, tools.specs, dt.date.today()) if tools else None
        outcomes: tuple[ToolOutcome, ...] = ()
        if isinstance(request, Question):
            text = request.text
        elif isinstance(request, ToolCall):
            outcome = await tools.run(request.name, request.arguments)
            outcomes = (outcome,)
            text = _tool_answer(profile, outcome)
        else:
            text = _answer(profile, history)
        if on_partial:
            await on_partial(text)
        return AgentReply(text, outcomes)

    async def analyze(self, *, profile: AgentProfile, history: list[Turn]) -> dict[str, Any]:
        """A deterministic analysis by word matching, labelled "offline (no AI model)"."""
        # Imported here: the analysis builds on this module's matching.
        from voice.agent.analysis_offline import offline_analysis

        return offline_analysis(profile, history)


def agent_for(name: str = "offline") -> Agent:
    """The agent provider called ``name``: "offline" (deterministic, no network) or "gemini"
    (built from the GEMINI_* settings, one per process)."""
    if name == "offline":
        return OfflineAgent()
    if name == "gemini":
        # Imported here: only a process that uses Gemini pays for the SDK.
        from voice.agent.gemini import gemini_agent
        from voice.agent.gemini_client import gemini_config_from_settings

        return gemini_agent(gemini_config_from_settings())
    raise ValueError(f"unknown agent provider {name!r}; known: {', '.join(PROVIDERS)}")
