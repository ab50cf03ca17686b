"""The "gemini" Agent provider: Google Gemini through the google-genai SDK, async and streaming.

A reply is one or more streamed requests. When the model asks for tools (functionCall parts),
each call goes through the call's ToolRunner, the outcomes go back as functionResponse parts and
the model is asked again; after MAX_TOOL_ROUNDS such rounds it must answer in text. The SDK's
automatic function calling is off: tools run only through the runner, which validates, records
and reports them. A reply never raises: when Gemini stays down (retries exhausted, timeout) the
error is logged and the caller gets UNAVAILABLE_MESSAGE. ``analyze`` asks for structured JSON
and raises AnalysisError when it cannot deliver a valid analysis.
"""

import functools
import json
import logging
from dataclasses import asdict
from typing import Any

import jsonschema
from google.genai import types

from nexus_project.metrics import gemini_request
from tools_registry.base import ToolOutcome
from voice.agent import gemini_prompt as prompt
from voice.agent.base import (
    ANALYSIS_SCHEMA,
    AgentProfile,
    AgentReply,
    PartialText,
    ToolRecord,
    ToolRunner,
    Turn,
)
from voice.agent.errors import AnalysisError
from voice.agent.gemini_client import GeminiConfig, GeminiService

logger = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 5
UNAVAILABLE_MESSAGE = "Sorry, I'm having trouble answering right now. Please try again in a moment."

_NO_MORE_TOOLS = types.ToolConfig(
    function_calling_config=types.FunctionCallingConfig(mode=types.FunctionCallingConfigMode.NONE)
)
_ANALYSIS_VALIDATOR = jsonschema.Draft202012Validator(ANALYSIS_SCHEMA)


def _parts(chunk: types.GenerateContentResponse) -> list[types.Part]:
    """The parts of a streamed chunk's first candidate (none when it carries only metadata)."""
    if not chunk.candidates or not chunk.candidates[0].content:
        return []
    return chunk.candidates[0].content.parts or []


def _joined(earlier: str, text: str) -> str:
    """The text of an earlier round ("Let me check.") and of this one, one space apart."""
    return f"{earlier.rstrip()} {text.lstrip()}" if earlier.strip() else text


class GeminiAgent(GeminiService):
    """The "gemini" Agent provider; one instance (one SDK client) can serve every call."""

    async def reply(
        self,
        *,
        profile: AgentProfile,
        history: list[Turn],
        tools: ToolRunner | None = None,
        on_partial: PartialText | None = None,
    ) -> AgentReply:
        """Answer the last caller turn, calling tools through ``tools`` as the model asks."""
        outcomes: list[ToolOutcome] = []  # kept on failure: those tools did run
        try:
            text = await self._converse(profile, history, tools, on_partial, outcomes)
        except Exception:  # a reply never raises: the call goes on, and the caller is told
            logger.exception("Gemini (%s) could not answer", self.model)
            return AgentReply(UNAVAILABLE_MESSAGE, tuple(outcomes))
        if not text:
            logger.warning("Gemini (%s) answered with no text", self.model)
        return AgentReply(text or UNAVAILABLE_MESSAGE, tuple(outcomes))

    async def _converse(
        self,
        profile: AgentProfile,
        history: list[Turn],
        tools: ToolRunner | None,
        on_partial: PartialText | None,
        outcomes: list[ToolOutcome],
    ) -> str:
        """Stream requests until the model answers without calling tools; the text said."""
        contents = prompt.history_contents(history)
        config = types.GenerateContentConfig(
            system_instruction=prompt.system_instruction(profile, profile.now()),
            tools=prompt.function_tools(tools.specs if tools else ()),
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        said = ""
        for round_number in range(MAX_TOOL_ROUNDS + 1):
            last_round = round_number == MAX_TOOL_ROUNDS
            if last_round and config.tools:
                config = config.model_copy(update={"tool_config": _NO_MORE_TOOLS})
            earlier, text = said, ""
            parts: list[types.Part] = []
            with gemini_request("agent"):
                stream = await self._client.aio.models.generate_content_stream(
                    model=self.model, contents=contents, config=config
                )
                async for chunk in stream:
                    for part in _parts(chunk):
                        parts.append(part)
                        if part.text and not part.thought:
                            text += part.text
                            said = _joined(earlier, text)
                            if on_partial:
                                await on_partial(said)
            calls = [part.function_call for part in parts if part.function_call]
            if not calls or tools is None or last_round:
                break
            # The model's turn goes back whole: its function calls carry thought signatures.
            contents.append(types.Content(role="model", parts=parts))
            responses: list[types.Part] = []
            for call in calls:
                outcome = await tools.run(call.name or "", dict(call.args or {}))
                outcomes.append(outcome)
                responses.append(prompt.function_response(call, outcome))
            contents.append(types.Content(role="user", parts=responses))
        return said.strip()

    async def analyze(
        self, *, profile: AgentProfile, history: list[Turn], tools: tuple[ToolRecord, ...] = ()
    ) -> dict[str, Any]:
        """The call's analysis as structured JSON, from its words and its tool records;
        AnalysisError when Gemini is down or the answer is not a valid analysis."""
        config = types.GenerateContentConfig(
            system_instruction=prompt.ANALYSIS_INSTRUCTION,
            response_mime_type="application/json",
            response_json_schema=prompt.ANALYSIS_RESPONSE_SCHEMA,
        )
        try:
            with gemini_request("analysis"):
                response = await self._client.aio.models.generate_content(
                    model=self.model,
                    contents=prompt.analysis_contents(profile, history, tools),
                    config=config,
                )
        except Exception as error:  # whatever the cause, the task only needs "it failed, why"
            raise AnalysisError(
                f"Gemini ({self.model}) did not analyze the call: {error}"
            ) from error
        return self._analysis(response.text)

    def _analysis(self, text: str | None) -> dict[str, Any]:
        try:
            analysis = json.loads(text or "")
        except json.JSONDecodeError as error:
            raise AnalysisError(
                f"Gemini ({self.model}) answered the analysis with invalid JSON: {text!r:.200}"
            ) from error
        if isinstance(analysis, dict):
            analysis["analyzer"] = f"gemini:{self.model}"
        if problem := jsonschema.exceptions.best_match(_ANALYSIS_VALIDATOR.iter_errors(analysis)):
            raise AnalysisError(
                f"Gemini ({self.model}) answered an invalid analysis: {problem.message}"
            )
        return analysis


@functools.lru_cache(maxsize=4)
def gemini_agent(config: GeminiConfig) -> GeminiAgent:
    """The process's agent for ``config``: built once, so every call shares its connections."""
    return GeminiAgent(**asdict(config))
