"""`knowledge_search`: the persona's knowledge items that best match a question."""

import re
from typing import Any

from tenants_app.db import schema_run
from tools_registry.base import BaseTool, ToolContext, ToolResult
from tools_registry.registry import register
from voice.models import KnowledgeItem

MAX_RESULTS = 3


def _words(text: str) -> set[str]:
    return {word for word in re.findall(r"[a-z0-9]+", text.lower()) if len(word) > 2}


def _items(persona_id: int) -> list[tuple[str, str]]:
    return list(KnowledgeItem.objects.filter(persona_id=persona_id).values_list("title", "content"))


@register
class KnowledgeSearch(BaseTool):
    name = "knowledge_search"
    description = "Search the business's knowledge (hours, prices, policies) for a question."
    parameters = {
        "type": "object",
        "properties": {"query": {"type": "string", "minLength": 1, "description": "the question"}},
        "required": ["query"],
        "additionalProperties": False,
    }

    async def execute(self, context: ToolContext, arguments: dict[str, Any]) -> ToolResult:
        query = _words(arguments["query"])
        items = await schema_run(context.schema_name, _items, context.persona_id)
        scored = sorted(
            (
                (len(query & _words(f"{title} {content}")), title, content)
                for title, content in items
            ),
            key=lambda item: -item[0],
        )
        matches = [{"title": t, "content": c} for score, t, c in scored if score][:MAX_RESULTS]
        summary = f"Found {len(matches)} matching note(s)" if matches else "Nothing found"
        return ToolResult({"matches": matches}, summary)
