"""`make run`'s example tenants: onboarded once, never over what their admins changed since."""

import pytest
from django.contrib.auth import get_user_model

from tenants_app.demo import DEMO_PASSWORD, demo_setup
from voice.models import Persona, WidgetKey

ORIGINS = ["http://localhost:8123", "http://127.0.0.1:8123"]


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def test_a_second_run_keeps_what_the_admin_changed(db, debug, joes, in_schema):
    demo_setup(origins=ORIGINS)
    with in_schema(joes):
        persona = Persona.objects.get(slug="receptionist")
        persona.greeting = "Joe's, Sam speaking."
        persona.save()
        admin = get_user_model().objects.get(username="joes-admin")
        admin.set_password("joes-own-password")
        admin.save()

    demo_setup(origins=ORIGINS)

    with in_schema(joes):
        assert Persona.objects.get(slug="receptionist").greeting == "Joe's, Sam speaking."
        assert (
            get_user_model().objects.get(username="joes-admin").check_password("joes-own-password")
        )


def test_reset_applies_the_example_again(db, debug, joes, in_schema):
    demo_setup(origins=ORIGINS)
    with in_schema(joes):
        Persona.objects.filter(slug="receptionist").update(greeting="Changed by the admin")

    demo_setup(origins=ORIGINS, reset=True)

    with in_schema(joes):
        greeting = Persona.objects.get(slug="receptionist").greeting
        admin = get_user_model().objects.get(username="joes-admin")
    assert greeting.startswith("Thanks for calling Joe's Barbershop")
    assert admin.check_password(DEMO_PASSWORD)


def test_the_demo_key_allows_the_port_the_server_runs_on(db, debug, joes, in_schema):
    demos = {demo.slug: demo for demo in demo_setup(origins=ORIGINS)}

    with in_schema(joes):
        key = WidgetKey.objects.get(key=demos["joes"].widget_key)
    assert "http://joes.localhost:8123" in key.allowed_origins
    assert "http://localhost:8123" in key.allowed_origins
