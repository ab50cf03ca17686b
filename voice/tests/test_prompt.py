"""The PersonaPlex text prompt: role, greeting, then Information:, within 1000 characters."""

from voice.models import Persona
from voice.prompt import persona_prompt_build
from voice.sidecar.protocol import TEXT_PROMPT_MAX_CHARS as PROMPT_LIMIT


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
