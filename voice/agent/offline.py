"""The offline agent: deterministic answers from the profile's knowledge and the call's tools,
with no network.

For development, tests and demos, and whenever no LLM is configured. It answers the last caller
turn with, in order: what it is (when asked), what a tool does for the caller (asking for what
the tool still needs, and for a yes before anything is changed: `voice.agent.offline_tools`),
the content of the knowledge item that best matches the caller's words, a greeting, a goodbye,
or a plain "I can't help with that" that says what it can do (the matching is
`voice.agent.matching`).
"""

import re
from typing import Any

from tools_registry.base import ToolOutcome, ToolSpec
from voice.agent.analysis_offline import offline_analysis
from voice.agent.base import AgentProfile, AgentReply, PartialText, ToolRecord, ToolRunner, Turn
from voice.agent.matching import best_knowledge, words
from voice.agent.offline_tools import CONFIRM, CONFIRMED, DONE, Question, ToolCall, tool_request

_IDENTITY = re.compile(
    r"\b(?:(?:who|what) are you\b"
    r"|(?:are you|am i (?:talking|speaking) (?:to|with)|is (?:this|that|it)) (?:an? )?"
    r"(?:real|human|person|robot|bot|chatbot|ai|machine|computer|artificial|automated)\b)"
)
_GREETING = re.compile(r"\b(?:hello|hi|hey|hiya|howdy|good (?:morning|afternoon|evening))\b")
_CLOSING = re.compile(r"\b(?:thanks?|bye|goodbye)\b")


def _last_caller_turn(history: list[Turn]) -> str:
    return next((turn.text for turn in reversed(history) if turn.role == "caller"), "")


def _answer(profile: AgentProfile, history: list[Turn], specs: tuple[ToolSpec, ...]) -> str:
    """The reply from knowledge; without any caller turn yet, the greeting."""
    question = _last_caller_turn(history)
    text = " ".join(words(question))
    topics = ", ".join(title for title, _ in profile.knowledge)
    if content := best_knowledge(profile.knowledge, question):
        return content
    if not text or _GREETING.search(text):
        return profile.greeting or f"Hello, this is {profile.name}. How can I help you?"
    if _CLOSING.search(text):
        return f"You're welcome. Thank you for calling {profile.business}. Goodbye!"
    tasks = [spec.title for spec in specs if spec.keywords and spec.parameters.get("properties")]
    if topics or tasks:
        can_do = ", ".join(part for part in (topics, *tasks) if part)
        return f"I'm sorry, I don't know that. I can help with: {can_do}."
    return f"I'm sorry, I don't know that, and {profile.business} has given me no information yet."


def _identity(profile: AgentProfile) -> str:
    topics = ", ".join(title for title, _ in profile.knowledge)
    about = f" I can tell you about: {topics}." if topics else ""
    return (
        f"I'm {profile.name}, the offline assistant of {profile.business}: an automated system"
        f" with no AI model connected.{about}"
    )


def _tool_answer(profile: AgentProfile, call: ToolCall, outcome: ToolOutcome) -> str:
    """What the agent says of what a tool did: the tool's words, not said twice."""
    if not outcome.ok:
        return f"Sorry, {outcome.summary or 'I could not do that.'}"
    if confirm := outcome.result.get("confirm_with_caller"):
        return f"{confirm}. {CONFIRM}"
    if outcome.ends_call:
        return f"Thank you for calling {profile.business}. Goodbye!"
    if call.arguments.get(CONFIRMED):
        return f"All done. {DONE}"
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
        """Answer the last caller turn; without any caller turn yet, greet. The whole answer
        is one "partial"."""
        specs = tools.specs if tools else ()
        outcomes: tuple[ToolOutcome, ...] = ()
        if _IDENTITY.search(" ".join(words(_last_caller_turn(history)))):
            text = _identity(profile)
        elif isinstance(request := tool_request(history, specs), Question):
            text = request.text
        elif isinstance(request, ToolCall) and tools is not None:
            outcome = await tools.run(request.name, request.arguments)
            outcomes = (outcome,)
            text = _tool_answer(profile, request, outcome)
        else:
            text = _answer(profile, history, specs)
        if on_partial:
            await on_partial(text)
        return AgentReply(text, outcomes)

    async def analyze(
        self, *, profile: AgentProfile, history: list[Turn], tools: tuple[ToolRecord, ...] = ()
    ) -> dict[str, Any]:
        """A deterministic analysis of what was said and what the tools did, labelled
        "offline (no AI model)"."""
        return offline_analysis(profile, history, tools)

    async def aclose(self) -> None:
        """Nothing to close: the offline agent holds no connection."""
