"""`knowledge_search`: the persona's knowledge items that best match a question."""

from typing import Any

from tenants_app.db import schema_run
from tools_registry.base import BaseTool, ToolContext, ToolResult
from tools_registry.registry import register
from voice.agent.matching import words
from voice.selectors import persona_knowledge

MAX_RESULTS = 3


def _terms(text: str) -> set[str]:
    """The words of `text` that carry meaning here: longer than two letters."""
    return {word for word in words(text) if len(word) > 2}


@register
class KnowledgeSearch(BaseTool):
    name = "knowledge_search"
    title = "Looking it up"
    description = "Search the business's knowledge (hours, prices, policies) for a question."
    parameters = {
        "type": "object",
        "properties": {"query": {"type": "string", "minLength": 1, "description": "the question"}},
        "required": ["query"],
        "additionalProperties": False,
    }

    async def execute(self, context: ToolContext, arguments: dict[str, Any]) -> ToolResult:
        query = _terms(arguments["query"])
        items = await schema_run(
            context.schema_name, persona_knowledge, persona_id=context.persona_id
        )
        scored = sorted(
            (
                (len(query & _terms(f"{title} {content}")), title, content)
                for title, content in items
            ),
            key=lambda item: -item[0],
        )
        matches = [{"title": t, "content": c} for score, t, c in scored if score][:MAX_RESULTS]
        summary = f"Found {len(matches)} matching note(s)" if matches else "Nothing found"
        return ToolResult({"matches": matches}, summary)
