"""Post-call analysis by both providers: Gemini's structured JSON (real SDK, fake server) and the
offline agent's deterministic word matching. Every result must be valid against ANALYSIS_SCHEMA.
"""

import jsonschema
import pytest

from voice.agent import AnalysisError
from voice.agent.base import ANALYSIS_SCHEMA, AgentProfile, Turn
from voice.agent.gemini import GeminiAgent
from voice.agent.offline import OfflineAgent
from voice.tests.fake_gemini import API_KEY, error_reply, json_reply

pytestmark = pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession")

HOURS = "Tuesday to Saturday, 9 am to 6 pm."
JOES = AgentProfile(
    name="Sam",
    business="Joe's Barbershop",
    system_prompt="You are the friendly receptionist of Joe's Barbershop.",
    greeting="Hi, this is Joe's Barbershop. How can I help you?",
    knowledge=(("Opening hours", HOURS), ("Prices", "Haircut 25 dollars.")),
)
CALL = [
    Turn("agent", JOES.greeting),
    Turn("caller", "When are you open on Saturday?"),
    Turn("agent", HOURS),
    Turn("caller", "Great, thanks!"),
]
GOOD = {
    "summary": "The caller asked about Saturday hours and was told 9 am to 6 pm.",
    "intent": "opening hours",
    "sentiment": "positive",
    "outcome": "answered",
    "follow_up_needed": False,
}


@pytest.fixture
async def agent(fake):
    agent = GeminiAgent(api_key=API_KEY, base_url=fake.base_url, retries=1, backoff_seconds=0.01)
    yield agent
    await agent.aclose()


async def test_gemini_analysis_is_structured_json_valid_against_the_schema(fake, agent):
    fake.script(json_reply(GOOD))

    analysis = await agent.analyze(profile=JOES, history=CALL)

    assert analysis == {**GOOD, "analyzer": "gemini:gemini-2.5-flash"}
    jsonschema.validate(analysis, ANALYSIS_SCHEMA)
    [request] = fake.requests
    assert not request.stream
    config = request.body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert set(config["responseJsonSchema"]["required"]) == set(GOOD)
    assert "analyze finished customer calls" in request.system_text
    [prompt] = request.texts("user")
    assert "Caller: When are you open on Saturday?" in prompt and f"Agent: {HOURS}" in prompt


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("Sure! The caller was happy.", "invalid JSON"),
        ({**GOOD, "sentiment": "ecstatic"}, "invalid analysis"),
        ({key: value for key, value in GOOD.items() if key != "intent"}, "invalid analysis"),
        (["not", "an", "object"], "invalid analysis"),
    ],
)
async def test_gemini_analysis_that_is_not_valid_raises_analysis_error(
    fake, agent, answer, problem
):
    fake.script(json_reply(answer))

    with pytest.raises(AnalysisError, match=problem):
        await agent.analyze(profile=JOES, history=CALL)


async def test_gemini_down_raises_analysis_error_after_the_retries(fake, agent):
    fake.always(error_reply(503))

    with pytest.raises(AnalysisError, match="did not analyze the call"):
        await agent.analyze(profile=JOES, history=CALL)
    assert len(fake.requests) == 2


async def offline(history: list[Turn]) -> dict:
    analysis = await OfflineAgent().analyze(profile=JOES, history=history)
    jsonschema.validate(analysis, ANALYSIS_SCHEMA)
    assert analysis["analyzer"] == "offline (no AI model)"
    return analysis


async def test_offline_analysis_of_an_answered_call():
    analysis = await offline(CALL)

    assert analysis["intent"] == "Opening hours"
    assert analysis["sentiment"] == "positive"
    assert analysis["outcome"] == "answered"
    assert analysis["follow_up_needed"] is False
    summary = analysis["summary"]
    assert '"When are you open on Saturday?" "Great, thanks!"' in summary and HOURS in summary


async def test_offline_analysis_of_a_question_the_agent_could_not_answer():
    history = [
        Turn("caller", "Do you sell motorcycle parts? This is ridiculous."),
        Turn("agent", "I'm sorry, I don't know that. I can help with: Opening hours, Prices."),
    ]

    analysis = await offline(history)

    assert analysis["intent"] == "general enquiry"
    assert analysis["sentiment"] == "negative"
    assert analysis["outcome"] == "unanswered"
    assert analysis["follow_up_needed"] is True


@pytest.mark.parametrize(
    "request_for_a_person",
    [
        "Can I speak to a real person?",
        "Please call me back tomorrow.",
        "Transfer me to the manager",
    ],
)
async def test_offline_analysis_flags_a_request_for_a_person(request_for_a_person):
    history = [Turn("caller", request_for_a_person), Turn("agent", "Of course.")]

    analysis = await offline(history)

    assert analysis["follow_up_needed"] is True
    assert analysis["outcome"] == "answered"


async def test_offline_analysis_reads_not_before_a_word():
    analysis = await offline([Turn("caller", "I'm not happy about the price.")])

    assert analysis["sentiment"] == "negative"
    assert analysis["intent"] == "Prices"


async def test_offline_analysis_of_a_call_where_the_caller_never_spoke():
    analysis = await offline([Turn("agent", JOES.greeting)])

    assert analysis["summary"] == "The caller did not say anything."
    assert analysis["outcome"] == "unanswered"
    assert analysis["follow_up_needed"] is False
    assert analysis["sentiment"] == "neutral"


async def test_offline_reply_takes_tools_and_gives_its_answer_as_one_partial():
    partials: list[str] = []

    async def on_partial(text: str) -> None:
        partials.append(text)

    history = [Turn("caller", "When are you open?")]
    reply = await OfflineAgent().reply(
        profile=JOES, history=history, tools=None, on_partial=on_partial
    )

    assert reply.text == HOURS and partials == [HOURS]
