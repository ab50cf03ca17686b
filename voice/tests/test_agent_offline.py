"""The offline agent answers from the profile: greeting, knowledge, identity, "I don't know"."""

import pytest

from voice.agent import AgentProfile, AgentReply, Turn, agent_for
from voice.agent.offline import OfflineAgent

HOURS = "Tuesday to Saturday, 9 am to 6 pm. Closed Sunday and Monday."
PRICES = "Haircut 25 dollars, beard trim 15 dollars, haircut and beard 35 dollars."
ADDRESS = "12 Elm Street, next to the bakery."

JOES = AgentProfile(
    name="Sam",
    business="Joe's Barbershop",
    system_prompt="You are the friendly receptionist of Joe's Barbershop.",
    greeting="Hi, this is Joe's Barbershop. How can I help you?",
    knowledge=(("Opening hours", HOURS), ("Prices", PRICES), ("Address", ADDRESS)),
)


async def ask(question: str, profile: AgentProfile = JOES) -> str:
    history = [Turn("agent", profile.greeting), Turn("caller", question)]
    reply = await OfflineAgent().reply(profile=profile, history=history)
    assert isinstance(reply, AgentReply)
    return reply.text


@pytest.mark.parametrize("question", ["Hello!", "hi", "Hey there", "Good morning, how are you?"])
async def test_greets_back_with_the_profile_greeting(question):
    assert await ask(question) == JOES.greeting


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("When are you open?", HOURS),
        ("What are your opening hours?", HOURS),
        ("Are you open on Sunday?", HOURS),
        ("What time do you close?", HOURS),
        ("How much is a haircut?", PRICES),
        ("What do you charge for a beard trim?", PRICES),
        ("What are your prices", PRICES),
        ("Hi! How much does it cost?", PRICES),
        ("Where are you?", ADDRESS),
        ("What's your address?", ADDRESS),
    ],
)
async def test_answers_with_the_best_matching_knowledge(question, answer):
    assert await ask(question) == answer


async def test_says_plainly_it_does_not_know_and_offers_what_it_can_help_with():
    text = await ask("Do you sell motorcycle parts?")
    assert "don't know" in text
    for title, _ in JOES.knowledge:
        assert title in text


async def test_without_any_knowledge_it_still_says_it_does_not_know():
    bare = AgentProfile(
        name="Bo", business="Bare Shop", system_prompt="", greeting="Hello.", knowledge=()
    )
    text = await ask("Do you sell motorcycle parts?", bare)
    assert "don't know" in text and "Bare Shop" in text


@pytest.mark.parametrize(
    "question",
    ["Are you a robot?", "are you an AI", "Am I talking to a real person?", "Who are you?"],
)
async def test_says_what_it_is_when_asked(question):
    text = await ask(question)
    assert "offline assistant of Joe's Barbershop" in text
    assert "no AI model" in text


async def test_a_question_about_opening_is_not_a_question_about_what_it_is():
    assert await ask("Are you really open on Saturday?") == HOURS


async def test_thanks_and_goodbye():
    text = await ask("Thanks, bye!")
    assert "Goodbye" in text and "Joe's Barbershop" in text


async def test_answers_the_last_caller_turn_and_greets_when_there_is_none():
    agent = OfflineAgent()
    history = [Turn("caller", "How much is a haircut?"), Turn("agent", PRICES)]
    assert (await agent.reply(profile=JOES, history=history)).text == PRICES
    assert (await agent.reply(profile=JOES, history=[])).text == JOES.greeting


async def test_same_input_same_answer():
    questions = ["When are you open?", "Do you do colouring?", "hello", "are you a bot?"]
    first = [await ask(q) for q in questions]
    again = [await ask(q) for q in questions]
    assert first == again
    assert len(set(first)) == len(first)


async def test_factory_gives_the_offline_agent_and_refuses_unknown_names():
    assert isinstance(agent_for(), OfflineAgent)
    assert isinstance(agent_for("offline"), OfflineAgent)
    with pytest.raises(ValueError, match="unknown agent provider"):
        agent_for("gpt-17")


def test_turn_roles_are_caller_or_agent():
    with pytest.raises(ValueError):
        Turn("system", "hi")
