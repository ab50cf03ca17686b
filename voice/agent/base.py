"""The conversational agent's interface: what it knows, what was said, what it answers.

Providers (``offline`` now, an LLM with tool calling later) implement ``Agent``. The data
crossing this boundary is frozen dataclasses, so a provider can add fields to ``AgentReply``
(tool calls, an end-of-call flag) without changing its callers.
"""

from dataclasses import dataclass
from typing import Protocol

ROLES = ("caller", "agent")


@dataclass(frozen=True)
class AgentProfile:
    """Who the agent is for one call: a snapshot of the tenant's persona and knowledge."""

    name: str
    system_prompt: str
    greeting: str
    knowledge: tuple[tuple[str, str], ...] = ()  # (title, content), in the admin's order


@dataclass(frozen=True)
class Turn:
    """One turn of the conversation, as the transcript has it."""

    role: str  # "caller" or "agent"
    text: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"a turn's role is 'caller' or 'agent', not {self.role!r}")


@dataclass(frozen=True)
class AgentReply:
    text: str


class Agent(Protocol):
    async def reply(self, *, profile: AgentProfile, history: list[Turn]) -> AgentReply:
        """Answer the conversation so far; ``history`` ends with the caller turn to answer."""
        ...
