"""The conversational agent's interface: what it knows, what was said, what it answers.

Providers (``offline``, ``gemini``) implement ``Agent``. The data crossing this boundary is frozen
dataclasses. Tools reach the agent through a ``ToolRunner``: the agent decides which tool to call
with which arguments; the runner validates, executes, records and reports it. The tool types
(``ToolSpec``, ``ToolOutcome``) are the tool contract's own (``tools_registry.base``).
"""

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from tools_registry.base import ToolOutcome, ToolSpec

ROLES = ("caller", "agent")


@dataclass(frozen=True)
class AgentProfile:
    """Who the agent is, and for whom, in one call: a snapshot of the persona (its name, role,
    greeting, knowledge) and of the business it speaks for (its name, its time zone)."""

    name: str  # the agent's own name: "Sam"
    business: str  # the business it speaks for: "Joe's Barbershop"
    system_prompt: str
    greeting: str
    knowledge: tuple[tuple[str, str], ...] = ()  # (title, content), in the admin's order
    timezone: str = "UTC"  # the business's (IANA): its dates and times are the caller's

    def now(self) -> dt.datetime:
        """The business's local time now."""
        return dt.datetime.now(ZoneInfo(self.timezone))


@dataclass(frozen=True)
class Turn:
    """One turn of the conversation, as the transcript has it."""

    role: str  # "caller" or "agent"
    text: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"a turn's role is 'caller' or 'agent', not {self.role!r}")


@dataclass(frozen=True)
class ToolRecord:
    """A tool the agent used in a call, as recorded: what it is, how it ended, what came of it.

    `confirmed`: it was a change the caller had said yes to (a booking made, not offered).
    """

    name: str
    title: str
    status: str  # "succeeded", "failed", "timed_out", "rejected" or "running"
    summary: str  # what came of it, or why not
    confirmed: bool = False


class ToolRunner(Protocol):
    """The tools of one call: what the agent may call, and the way to call them."""

    specs: tuple[ToolSpec, ...]

    async def run(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        """Validate and execute a tool call; failures come back as ``ok=False``, never raise."""
        ...


@dataclass(frozen=True)
class AgentReply:
    text: str
    tool_outcomes: tuple[ToolOutcome, ...] = field(default=())


# Receives the reply's text so far while it streams (for live captions).
PartialText = Callable[[str], Awaitable[None]]

ANALYSIS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["summary", "intent", "sentiment", "outcome", "follow_up_needed", "analyzer"],
    "properties": {
        "summary": {"type": "string"},
        "intent": {"type": "string"},
        "sentiment": {"enum": ["positive", "neutral", "negative"]},
        "outcome": {"type": "string"},
        "follow_up_needed": {"type": "boolean"},
        "analyzer": {"type": "string"},
    },
}


class Agent(Protocol):
    async def reply(
        self,
        *,
        profile: AgentProfile,
        history: list[Turn],
        tools: ToolRunner | None = None,
        on_partial: PartialText | None = None,
    ) -> AgentReply:
        """Answer the conversation so far; ``history`` ends with the caller turn to answer.

        The agent may call ``tools`` (zero or more times) before answering; ``on_partial``, when
        given, receives the text so far as it streams.
        """
        ...

    async def analyze(
        self, *, profile: AgentProfile, history: list[Turn], tools: tuple[ToolRecord, ...] = ()
    ) -> dict[str, Any]:
        """A finished call's analysis, valid against ``ANALYSIS_SCHEMA``, from what was said
        and what the tools did (``tools``, in the order they ran)."""
        ...

    async def aclose(self) -> None:
        """Close the agent's connections in the running event loop."""
        ...
