"""The conversational agent behind a voice or text call: the interface and its providers."""

from voice.agent.base import Agent, AgentProfile, AgentReply, Turn
from voice.agent.offline import agent_for

__all__ = ["Agent", "AgentProfile", "AgentReply", "Turn", "agent_for"]
