"""The tool contract: a handful of attributes and one async method.

A tool is a class with a `name`, a `title` for the caller's card ("Booking"), a `description`
for the LLM, JSON-schema `parameters` (what the LLM passes) and `settings_schema` (what a tenant
configures), a `timeout`, and `slow` (run it in a Celery worker, off the call's socket loop).
`execute` gets the call's context and validated arguments and returns a `ToolResult`: data for
the LLM and a short summary for the caller.

What an agent sees of a tool is a `ToolSpec`; what came of running it, a `ToolOutcome`.
"""

from dataclasses import dataclass, field
from typing import Any, ClassVar

from nexus_project.errors import ApplicationError
from tools_registry.validation import schema_errors

EMPTY_OBJECT: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}


class ToolError(ApplicationError):
    """A tool could not do what was asked; the message is told to the LLM and the caller."""

    default_code = "tool_failed"


@dataclass(frozen=True)
class ToolContext:
    """Where a tool runs: the tenant's schema, the call, the invocation, the tenant's settings
    for the tool, the tenant's time zone (IANA name): dates callers say are its dates, and its
    opening hours (as `Tenant.opening_hours` has them)."""

    schema_name: str
    call_id: str
    persona_id: int
    invocation_id: int
    settings: dict[str, Any] = field(default_factory=dict)
    timezone: str = "UTC"
    opening_hours: dict[str, list[list[str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolResult:
    data: dict[str, Any]
    summary: str
    ends_call: bool = False


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the agent sees it: a name, what it does, and its JSON-schema parameters; its
    title and the words callers ask for it with, for an agent that matches words."""

    name: str
    description: str
    parameters: dict[str, Any]
    title: str = ""
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolOutcome:
    """What came of one tool call: the result given back to the agent, and a caller summary.

    `ends_call`: the tool asked to end the call once the agent has answered.
    """

    name: str
    ok: bool
    result: dict[str, Any]
    summary: str
    ends_call: bool = False


class BaseTool:
    name: ClassVar[str]
    title: ClassVar[str] = ""  # what the caller's card says it is; the name in words if empty
    description: ClassVar[str]
    # Words (or several, all needed) a caller asks for it with: "book", "speak person".
    keywords: ClassVar[tuple[str, ...]] = ()
    parameters: ClassVar[dict[str, Any]] = EMPTY_OBJECT
    settings_schema: ClassVar[dict[str, Any]] = EMPTY_OBJECT
    timeout: ClassVar[float] = 10.0
    slow: ClassVar[bool] = False

    def settings_errors(self, settings: dict[str, Any]) -> list[str]:
        """What is wrong with a tenant's settings for this tool (empty when they are valid)."""
        return schema_errors(settings, self.settings_schema)

    def title_for(self, settings: dict[str, Any]) -> str:
        """The tool as the caller's card names it (a configured tool may name itself)."""
        return self.title or self.name.replace("_", " ").capitalize()

    def description_for(self, settings: dict[str, Any]) -> str:
        """What the LLM is told the tool does (a configured tool may describe itself)."""
        return self.description

    def parameters_for(self, settings: dict[str, Any]) -> dict[str, Any]:
        """The tool's parameters for one tenant (a configured tool may declare its own)."""
        return self.parameters

    def spec_for(self, settings: dict[str, Any]) -> ToolSpec:
        """The tool as an agent sees it, for one tenant."""
        return ToolSpec(
            self.name,
            self.description_for(settings),
            self.parameters_for(settings),
            self.title_for(settings),
            self.keywords,
        )

    async def execute(self, context: ToolContext, arguments: dict[str, Any]) -> ToolResult:
        raise NotImplementedError
