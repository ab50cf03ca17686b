"""The Gemini agent replies: the real google-genai SDK against the local fake Gemini server."""

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from voice.agent import agent_for
from voice.agent.base import AgentProfile, ToolOutcome, ToolSpec, Turn
from voice.agent.gemini import MAX_TOOL_ROUNDS, UNAVAILABLE_MESSAGE, GeminiAgent
from voice.agent.gemini_client import _warn_grpc_unsupported
from voice.tests.fake_gemini import (
    API_KEY,
    error_reply,
    fake_gemini,
    function_call_reply,
    hang_reply,
    text_reply,
)

pytestmark = pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession")

HOURS = "Tuesday to Saturday, 9 am to 6 pm."
PRICES = "Haircut 25 dollars, beard trim 15 dollars."
JOES = AgentProfile(
    name="Sam",
    business="Joe's Barbershop",
    system_prompt="You are the friendly receptionist of Joe's Barbershop.",
    greeting="Hi, this is Joe's Barbershop. How can I help you?",
    knowledge=(("Opening hours", HOURS), ("Prices", PRICES)),
)
AVAILABILITY = ToolSpec(
    name="check_availability",
    description="Free appointment slots on a day.",
    parameters={"type": "object", "properties": {"day": {"type": "string"}}, "required": ["day"]},
)
SLOTS = ToolOutcome(
    name="check_availability", ok=True, result={"slots": ["10:00", "11:30"]}, summary="2 slots"
)


def history(question: str) -> list[Turn]:
    return [Turn("agent", JOES.greeting), Turn("caller", question)]


@dataclass
class FakeRunner:
    """A ToolRunner that records the calls and answers every one with SLOTS."""

    specs: tuple[ToolSpec, ...] = (AVAILABILITY,)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def run(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        self.calls.append((name, arguments))
        return SLOTS


@pytest.fixture
async def agent(fake):
    agent = GeminiAgent(api_key=API_KEY, base_url=fake.base_url, retries=2, backoff_seconds=0.01)
    yield agent
    await agent.aclose()


async def test_streams_a_plain_answer_from_the_persona_and_knowledge(fake, agent):
    fake.script(text_reply("We're open ", "Tuesday to Saturday, ", "9 am to 6 pm."))
    partials: list[str] = []

    async def on_partial(text: str) -> None:
        partials.append(text)

    reply = await agent.reply(
        profile=JOES,
        history=history("When are you open?"),
        tools=FakeRunner(),
        on_partial=on_partial,
    )

    assert reply.text == "We're open Tuesday to Saturday, 9 am to 6 pm."
    assert reply.tool_outcomes == ()
    assert partials == ["We're open ", "We're open Tuesday to Saturday, ", reply.text]
    [request] = fake.requests
    assert request.stream and request.model == "gemini-2.5-flash"
    for expected in (JOES.system_prompt, JOES.name, JOES.greeting, "Opening hours", HOURS, PRICES):
        assert expected in request.system_text
    assert [c["role"] for c in request.body["contents"]] == ["model", "user"]
    assert request.texts("user") == ["When are you open?"]
    [declaration] = request.body["tools"][0]["functionDeclarations"]
    assert declaration["name"] == "check_availability"
    assert declaration["description"] == AVAILABILITY.description
    assert declaration["parameters_json_schema"] == AVAILABILITY.parameters


async def test_runs_the_function_the_model_calls_and_answers_with_its_result(fake, agent):
    fake.script(
        function_call_reply("check_availability", {"day": "monday"}, call_id="call-1"),
        text_reply("On Monday I have ", "10:00 or 11:30."),
    )
    runner = FakeRunner()

    reply = await agent.reply(profile=JOES, history=history("Anything free Monday?"), tools=runner)

    assert reply.text == "On Monday I have 10:00 or 11:30."
    assert runner.calls == [("check_availability", {"day": "monday"})]
    assert reply.tool_outcomes == (SLOTS,)
    first, follow_up = fake.requests
    *_, model_turn, tool_turn = follow_up.body["contents"]
    assert follow_up.body["contents"][:-2] == first.body["contents"]
    assert model_turn["role"] == "model"
    assert model_turn["parts"][0]["functionCall"]["args"] == {"day": "monday"}
    assert tool_turn["role"] == "user"
    assert tool_turn["parts"] == [
        {
            "functionResponse": {
                "id": "call-1",
                "name": "check_availability",
                "response": {"ok": True, "summary": "2 slots", "result": SLOTS.result},
            }
        }
    ]


async def test_tool_rounds_are_capped_then_text_is_required(fake, agent):
    fake.always(function_call_reply("check_availability", {"day": "monday"}))
    runner = FakeRunner()

    reply = await agent.reply(profile=JOES, history=history("Free Monday?"), tools=runner)

    assert reply.text == UNAVAILABLE_MESSAGE
    assert len(runner.calls) == MAX_TOOL_ROUNDS == len(reply.tool_outcomes)
    assert len(fake.requests) == MAX_TOOL_ROUNDS + 1
    assert "toolConfig" not in fake.requests[-2].body
    mode = fake.requests[-1].body["toolConfig"]["functionCallingConfig"]["mode"]
    assert mode == "NONE"


async def test_retries_after_429_resource_exhausted(fake, agent):
    fake.script(error_reply(429), text_reply("Hello again."))

    reply = await agent.reply(profile=JOES, history=history("Hello?"))

    assert reply.text == "Hello again."
    assert len(fake.requests) == 2
    assert "tools" not in fake.requests[1].body  # no runner, no declarations


@pytest.mark.parametrize("status", [500, 503])
async def test_a_server_down_for_good_gets_a_clear_message_after_bounded_retries(
    fake, agent, status
):
    fake.always(error_reply(status))
    started = time.monotonic()

    reply = await agent.reply(profile=JOES, history=history("Hello?"))

    assert reply.text == UNAVAILABLE_MESSAGE
    assert len(fake.requests) == 3  # the first attempt and 2 retries
    assert time.monotonic() - started < 2


async def test_a_client_error_is_not_retried(fake, agent):
    fake.script(error_reply(400))

    reply = await agent.reply(profile=JOES, history=history("Hello?"))

    assert reply.text == UNAVAILABLE_MESSAGE
    assert len(fake.requests) == 1


async def test_a_hanging_server_times_out_with_the_clear_message(fake):
    agent = GeminiAgent(api_key=API_KEY, base_url=fake.base_url, timeout_seconds=0.3, retries=0)
    fake.script(hang_reply(1.0))
    started = time.monotonic()

    reply = await agent.reply(profile=JOES, history=history("Hello?"))
    await agent.aclose()

    assert reply.text == UNAVAILABLE_MESSAGE
    assert time.monotonic() - started < 0.9


async def test_an_unreachable_server_gets_the_clear_message():
    async with fake_gemini() as fake:
        base_url = fake.base_url  # closed on leaving: nothing listens there any more
    agent = GeminiAgent(api_key=API_KEY, base_url=base_url, retries=1, backoff_seconds=0.01)

    reply = await agent.reply(profile=JOES, history=history("Hello?"))
    await agent.aclose()

    assert reply.text == UNAVAILABLE_MESSAGE


async def test_the_first_reply_before_the_caller_speaks_opens_the_call(fake, agent):
    fake.script(text_reply(JOES.greeting))

    reply = await agent.reply(profile=JOES, history=[])

    assert reply.text == JOES.greeting
    assert fake.requests[0].texts("user") == ["(The call has just started. Greet the caller.)"]


async def test_consecutive_caller_turns_go_as_one_user_content(fake, agent):
    fake.script(text_reply("Yes, 25 dollars."))
    turns = [Turn("caller", "Hi."), Turn("caller", "How much is a haircut?")]

    await agent.reply(profile=JOES, history=turns)

    [content] = fake.requests[0].body["contents"]
    assert content["role"] == "user" and len(content["parts"]) == 2


GEMINI_SETTINGS = {
    "GEMINI_API_KEY": API_KEY,
    "GEMINI_MODEL": "gemini-2.5-flash",
    "GEMINI_BASE_URL": "http://127.0.0.1:9",
    "GEMINI_TIMEOUT_SECONDS": 5.0,
    "GEMINI_RETRIES": 1,
    "GEMINI_TRANSPORT": "rest",
}


def test_agent_for_gemini_builds_one_agent_from_the_settings():
    with override_settings(**GEMINI_SETTINGS):
        agent = agent_for("gemini")
        assert isinstance(agent, GeminiAgent) and agent.model == "gemini-2.5-flash"
        assert agent_for("gemini") is agent


def test_agent_for_gemini_needs_a_key():
    with override_settings(**{**GEMINI_SETTINGS, "GEMINI_API_KEY": ""}):
        with pytest.raises(ImproperlyConfigured, match="GEMINI_API_KEY"):
            agent_for("gemini")


def test_grpc_transport_is_accepted_with_a_warning_and_rest_is_used(caplog):
    _warn_grpc_unsupported.cache_clear()
    with override_settings(**{**GEMINI_SETTINGS, "GEMINI_TRANSPORT": "grpc"}):
        assert isinstance(agent_for("gemini"), GeminiAgent)
    assert "no gRPC transport; using REST" in caplog.text


def test_an_unknown_transport_is_refused():
    with override_settings(**{**GEMINI_SETTINGS, "GEMINI_TRANSPORT": "carrier-pigeon"}):
        with pytest.raises(ImproperlyConfigured, match="GEMINI_TRANSPORT"):
            agent_for("gemini")


@pytest.mark.parametrize(("key", "default_agent"), [("", "offline"), ("a-key", "gemini")])
def test_the_agent_defaults_to_gemini_when_a_key_is_set(key, default_agent):
    env = {name: value for name, value in os.environ.items() if name != "NEXUS_AGENT"}
    env |= {
        "GEMINI_API_KEY": key,
        "DJANGO_SETTINGS_MODULE": "nexus_project.settings",  # the test settings pin "offline"
        "DJANGO_SECRET_KEY": "settings-check",
    }
    code = "from django.conf import settings; print(settings.NEXUS_AGENT)"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True
    )
    assert result.stdout.strip() == default_agent, result.stderr
