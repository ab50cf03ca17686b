"""The conversational agent behind a voice or text call: the interface and its providers."""

from tools_registry.base import ToolOutcome, ToolSpec
from voice.agent.base import (
    ANALYSIS_SCHEMA,
    Agent,
    AgentProfile,
    AgentReply,
    ToolRunner,
    Turn,
)
from voice.agent.errors import AnalysisError
from voice.agent.providers import agent_for

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
