"""The PersonaPlex text prompt: role, greeting, then Information:, within 1000 characters; the
business's opening hours in words come first."""

from tenants_app.tests.test_opening_hours import SETTINGS_POSTED, change_url, week
from voice.call.access import call_access_resolve
from voice.call.protocol import params_parse
from voice.models import Persona
from voice.prompt import persona_prompt_build
from voice.selectors import AgentSnapshot
from voice.services import widget_key_create
from voice.sidecar.protocol import TEXT_PROMPT_MAX_CHARS as PROMPT_LIMIT

ORIGIN = "http://joes.localhost:8000"
WORK = ["09:00", "17:00"]


def test_prompt_follows_the_service_agent_shape():
    build = persona_prompt_build(
        system_prompt="You work for Joe's Barbershop.\n  Your name is Sam.",
        greeting="Thanks for calling!",
        knowledge=[("Hours", "Tue-Sat 9-6."), ("Prices", "Haircut $25.")],
    )

    assert build.text == (
        "You work for Joe's Barbershop. Your name is Sam. Start the call by saying: "
        '"Thanks for calling!" Information: Hours: Tue-Sat 9-6. Prices: Haircut $25.'
    )
    assert not build.knowledge_cut


def test_knowledge_that_does_not_fit_is_left_out_whole_and_reported():
    knowledge = [(f"Fact {n}", "x" * 300) for n in range(5)]

    build = persona_prompt_build(system_prompt="Role.", greeting="", knowledge=knowledge)

    assert len(build.text) <= PROMPT_LIMIT
    assert (build.knowledge_included, build.knowledge_total) == (3, 5)
    assert build.knowledge_cut
    assert "Fact 2" in build.text and "Fact 3" not in build.text


def test_the_persona_admin_page_says_when_knowledge_was_cut(joes_admin_client, joes, in_schema):
    with in_schema(joes):
        persona = Persona.objects.get()
        persona.knowledge.create(title="Long", content="y" * 990, position=9)

    page = joes_admin_client.get(
        f"/admin/voice/persona/{persona.pk}/change/", HTTP_HOST="joes.localhost"
    )

    assert "Knowledge was cut: 3 of 4 items fit" in page.content.decode()


def agent_of_a_call(key: str) -> AgentSnapshot:
    """The agent a call with `key` gets, as a connecting call resolves it."""
    params = params_parse(f"key={key}&mode=text".encode())
    return call_access_resolve(
        params=params, origin=ORIGIN, host="joes.localhost", session_key=None
    ).agent


def voice_prompt(agent: AgentSnapshot) -> str:
    return persona_prompt_build(
        system_prompt=agent.system_prompt, greeting=agent.greeting, knowledge=agent.knowledge
    ).text


def test_the_prompt_offers_the_tenants_opening_hours_in_words(joes_admin_client, joes, in_schema):
    with in_schema(joes):
        persona = Persona.objects.get()
        key = widget_key_create(tenant=joes, persona=persona, allowed_origins=[ORIGIN]).key
    before = agent_of_a_call(key)

    joes_admin_client.post(
        change_url(joes),
        {**SETTINGS_POSTED, **week(mon=WORK, tue=WORK, wed=WORK, sat=["10:00", "14:00"])},
        HTTP_HOST="joes.localhost",
    )
    after = agent_of_a_call(key)

    hours = "Tuesday to Saturday 9:00\N{EN DASH}18:00; closed Monday and Sunday."
    assert before.knowledge[0] == ("Opening hours", hours)
    assert f"Information: Opening hours: {hours} Prices: Haircut 25 dollars" in voice_prompt(before)
    assert after.knowledge[0] == (
        "Opening hours",
        "Monday to Wednesday 9:00\N{EN DASH}17:00; Saturday 10:00\N{EN DASH}14:00;"
        " closed Thursday, Friday and Sunday.",
    )
    assert [title for title, _ in after.knowledge] == ["Opening hours", "Prices", "Address"]
