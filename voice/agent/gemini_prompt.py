"""What the Gemini agent sends: the persona as a system instruction, the history as contents,
the call's tools as function declarations, and the post-call analysis request."""

import datetime as dt
from typing import Any

from google.genai import types

from tools_registry.base import ToolOutcome, ToolSpec
from voice.agent.base import ANALYSIS_SCHEMA, AgentProfile, ToolRecord, Turn

_ROLES = {"caller": "user", "agent": "model"}
# Contents must not be empty: a reply asked for before the caller spoke is the call's opening.
_CALL_STARTED = "(The call has just started. Greet the caller.)"

_STYLE = (
    "You are in a live conversation with a caller, who reads or hears your replies as they come."
    " Answer in one to three short, friendly sentences of plain text: no markdown, lists or emoji."
)
_DATES = (
    "Give tools the dates and times as the caller said them ('tomorrow', 'Friday', '3pm'): the"
    " tools resolve them in the business's time zone and tell you the exact date to say back."
)
_GROUNDING = (
    "Answer only from these facts, the conversation and the results of your tools. When you do"
    " not know, say so plainly and offer to take a message or have someone call back; never"
    " invent prices, times or policies."
)


def system_instruction(profile: AgentProfile, now: dt.datetime) -> str:
    """Who the agent is and for whom, its persona's prompt, the business's local date and time
    `now`, how the call opened, and the knowledge as facts."""
    business = profile.business
    sections = [
        f"You are {profile.name}, the voice agent of {business}. {_STYLE}",
        profile.system_prompt.strip(),
        f"It is {now:%A %-d %B %Y}, {now:%H:%M}, at {business} ({profile.timezone} time). {_DATES}",
    ]
    if profile.greeting:
        sections.append(f'The call opened with your greeting: "{profile.greeting.strip()}"')
    if profile.knowledge:
        facts = "\n".join(f"- {title}: {content.strip()}" for title, content in profile.knowledge)
        sections.append(f"Facts about {business}:\n{facts}\n{_GROUNDING}")
    else:
        sections.append(f"{business} has given you no facts yet. {_GROUNDING}")
    return "\n\n".join(section for section in sections if section)


def history_contents(history: list[Turn]) -> list[types.Content]:
    """The transcript as Gemini contents: caller -> "user", agent -> "model"; consecutive turns
    of one side (a caller who spoke twice) become one content with a part per turn."""
    contents: list[types.Content] = []
    for turn in history:
        role, part = _ROLES[turn.role], types.Part(text=turn.text)
        if contents and contents[-1].role == role and contents[-1].parts is not None:
            contents[-1].parts.append(part)
        else:
            contents.append(types.Content(role=role, parts=[part]))
    return contents or [types.Content(role="user", parts=[types.Part(text=_CALL_STARTED)])]


def function_tools(specs: tuple[ToolSpec, ...]) -> types.ToolListUnion | None:
    """The runner's tools as one Gemini tool of function declarations (JSON-schema parameters)."""
    if not specs:
        return None
    declarations = [
        types.FunctionDeclaration(
            name=spec.name, description=spec.description, parameters_json_schema=spec.parameters
        )
        for spec in specs
    ]
    return [types.Tool(function_declarations=declarations)]


def function_response(call: types.FunctionCall, outcome: ToolOutcome) -> types.Part:
    """A tool's outcome given back to the model, answering ``call`` (same id and name)."""
    response = {"ok": outcome.ok, "summary": outcome.summary, "result": outcome.result}
    return types.Part(
        function_response=types.FunctionResponse(id=call.id, name=call.name, response=response)
    )


ANALYSIS_INSTRUCTION = (
    "You analyze finished customer calls for the business's support staff. From the transcript,"
    " give: summary (two or three sentences), intent (what the caller wanted, a few words),"
    " sentiment of the caller (positive, neutral or negative), outcome (what came of the call,"
    " a few words, e.g. answered, booked, unanswered: a tool that made a change the caller"
    " confirmed is what came of it), and follow_up_needed (true when a person from the business"
    " must act: the caller asked for a human or a callback, a tool failed and was not made good,"
    " or the agent could not answer). Use only what the transcript and the tool records say."
)

# The schema Gemini must fill: ANALYSIS_SCHEMA without "analyzer" (set by the agent itself).
ANALYSIS_RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        name: {"type": "string", **rule} if name == "sentiment" else rule
        for name, rule in ANALYSIS_SCHEMA["properties"].items()
        if name != "analyzer"
    },
    "required": [name for name in ANALYSIS_SCHEMA["required"] if name != "analyzer"],
}


def analysis_contents(
    profile: AgentProfile, history: list[Turn], tools: tuple[ToolRecord, ...] = ()
) -> str:
    """The analysis request: the business, the transcript (one "Caller:"/"Agent:" line each)
    and what the tools did (one line each)."""
    lines = "\n".join(f"{turn.role.capitalize()}: {turn.text}" for turn in history)
    done = "\n".join(
        f"- {record.title} ({record.name}): {record.status}"
        f"{', confirmed by the caller' if record.confirmed else ''}: {record.summary}"
        for record in tools
    )
    return (
        f"Business: {profile.business}\nAgent: {profile.name}\n"
        f"Transcript:\n{lines or '(nobody spoke)'}\n"
        f"Tools used:\n{done or '(none)'}"
    )
