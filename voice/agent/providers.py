"""The agent providers by name: "offline" (deterministic, no network) and "gemini".

A web process serves every call from one event loop, so it shares one agent per provider
(`agent_for`). A Celery task runs each job in an event loop of its own (`asyncio.run`), and an
SDK client's connections belong to the loop that opened them: a task uses `agent_in_this_loop`,
which builds an agent for that loop and closes it there.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict

from voice.agent.base import Agent
from voice.agent.offline import OfflineAgent

PROVIDERS = ("offline", "gemini")


def agent_for(name: str = "offline") -> Agent:
    """The process's agent called `name`; Gemini's is built from the GEMINI_* settings once."""
    if name == "gemini":
        # Imported here: only a process that uses Gemini pays for the SDK.
        from voice.agent.gemini import gemini_agent
        from voice.agent.gemini_client import gemini_config_from_settings

        return gemini_agent(gemini_config_from_settings())
    return _agent_new(name)


@asynccontextmanager
async def agent_in_this_loop(name: str) -> AsyncIterator[Agent]:
    """A new agent called `name` for the running event loop, closed when the block ends."""
    agent = _agent_new(name)
    try:
        yield agent
    finally:
        await agent.aclose()


def _agent_new(name: str) -> Agent:
    if name == "offline":
        return OfflineAgent()
    if name == "gemini":
        from voice.agent.gemini import GeminiAgent
        from voice.agent.gemini_client import gemini_config_from_settings

        return GeminiAgent(**asdict(gemini_config_from_settings()))
    raise ValueError(f"unknown agent provider {name!r}; known: {', '.join(PROVIDERS)}")
