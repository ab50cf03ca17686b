"""The conversational agent behind a voice or text call: the interface and its providers."""

from voice.agent.base import (
    ANALYSIS_SCHEMA,
    Agent,
    AgentProfile,
    AgentReply,
    ToolOutcome,
    ToolRunner,
    ToolSpec,
    Turn,
)
from voice.agent.errors import AnalysisError
from voice.agent.offline import agent_for

__all__ = [
    "ANALYSIS_SCHEMA",
    "Agent",
    "AgentProfile",
    "AgentReply",
    "AnalysisError",
    "ToolOutcome",
    "ToolRunner",
    "ToolSpec",
    "Turn",
    "agent_for",
]
