"""The PersonaPlex text prompt of a persona: role, greeting guidance, then `Information:`.

PersonaPlex takes the persona as one text prompt when the session starts, capped at
`TEXT_PROMPT_MAX_CHARS` by its official UI (and prompt loading time grows with its length).
Knowledge items are added whole, in order, while they fit; the result says what was left out
so the admin can see it.
"""

import re
from dataclasses import dataclass

from voice.sidecar.protocol import TEXT_PROMPT_MAX_CHARS


@dataclass(frozen=True)
class PromptBuild:
    text: str
    knowledge_included: int
    knowledge_total: int

    @property
    def knowledge_cut(self) -> bool:
        return self.knowledge_included < self.knowledge_total


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def persona_prompt_build(
    *, system_prompt: str, greeting: str, knowledge: list[tuple[str, str]] | tuple
) -> PromptBuild:
    """The text prompt for a persona, within TEXT_PROMPT_MAX_CHARS characters."""
    role = _plain(system_prompt)
    if greeting:
        role += f' Start the call by saying: "{_plain(greeting)}"'
    role = role[:TEXT_PROMPT_MAX_CHARS]
    facts = [f"{_plain(title)}: {_plain(content)}" for title, content in knowledge]
    text, included = role, 0
    for fact in facts:
        candidate = f"{text} {fact}" if included else f"{text} Information: {fact}"
        if len(candidate) > TEXT_PROMPT_MAX_CHARS:
            break
        text, included = candidate, included + 1
    return PromptBuild(text=text, knowledge_included=included, knowledge_total=len(facts))
