"""The offline agent: deterministic answers from the profile's knowledge, with no network.

For development, tests and demos, and whenever no LLM is configured. It answers the last caller
turn with, in order: what it is (when asked), the content of the knowledge item that best
matches the caller's words, a greeting, a goodbye, or a plain "I don't know" that lists what it
can help with (the matching is `voice.agent.matching`).
"""

import datetime as dt
import re
from typing import Any

from tools_registry.base import ToolOutcome
from voice.agent.analysis_offline import offline_analysis
from voice.agent.base import (
    AgentProfile,
    AgentReply,
    PartialText,
    ToolRunner,
    Turn,
)
from voice.agent.matching import best_knowledge, words
from voice.agent.offline_tools import Question, ToolCall, tool_request

_IDENTITY = re.compile(
    r"\b(?:(?:who|what) are you\b"
    r"|(?:are you|am i (?:talking|speaking) (?:to|with)|is (?:this|that|it)) (?:an? )?"
    r"(?:real|human|person|robot|bot|chatbot|ai|machine|computer|artificial|automated)\b)"
)
_GREETING = re.compile(r"\b(?:hello|hi|hey|hiya|howdy|good (?:morning|afternoon|evening))\b")
_CLOSING = re.compile(r"\b(?:thanks?|bye|goodbye)\b")


def _answer(profile: AgentProfile, history: list[Turn]) -> str:
    """The reply text; without any caller turn yet, the greeting."""
    question = next((turn.text for turn in reversed(history) if turn.role == "caller"), "")
    text = " ".join(words(question))
    topics = ", ".join(title for title, _ in profile.knowledge)
    if _IDENTITY.search(text):
        about = f" I can tell you about: {topics}." if topics else ""
        return (
            f"I'm the offline assistant of {profile.name}: an automated system with no AI"
            f" model connected.{about}"
        )
    if content := best_knowledge(profile.knowledge, question):
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
        elif isinstance(request, ToolCall) and tools is not None:
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
        return offline_analysis(profile, history)

    async def aclose(self) -> None:
        """Nothing to close: the offline agent holds no connection."""
