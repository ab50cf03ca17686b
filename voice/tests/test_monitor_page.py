"""The "Live calls" admin page, and the transfer alert's script on every admin page of a tenant:
for the tenant's staff who may view calls, and nobody else."""

import pytest
from django.contrib.auth import get_user_model

from tenants_app.tests.factories import PASSWORD, user_create

JOES = "joes.localhost"
PIZZA = "pizza.localhost"
SCRIPT = "/static/nexus/monitor.js"
CALL_URL = "/admin/voice/call/00000000-0000-0000-0000-000000000000/change/"


def login(client, host: str, username: str) -> None:
    response = client.post(
        "/admin/login/", {"username": username, "password": PASSWORD}, HTTP_HOST=host
    )
    assert response.status_code == 302, "the login failed"


@pytest.fixture
def joes_support(client, joes, in_schema):
    """A client logged in to Joe's admin in the read-only Support role (it may view calls)."""
    with in_schema(joes):
        user_create("joes-desk", support=True)
    login(client, JOES, "joes-desk")
    return client


def test_the_live_calls_page_is_in_joes_admin_for_staff_who_view_calls(joes_support):
    page = joes_support.get("/admin/monitor/", HTTP_HOST=JOES).content.decode()
    index = joes_support.get("/admin/", HTTP_HOST=JOES).content.decode()

    assert "<h1>Live calls</h1>" in page
    assert 'id="nexus-live-calls"' in page
    assert "Joe&#x27;s Barbershop · Nexus" in page  # the tenant's admin, its look
    assert f'<script src="{SCRIPT}" data-call-url="{CALL_URL}"' in page
    assert 'data-timezone="America/New_York"' in page  # times shown in Joe's time zone
    assert '<a href="/admin/monitor/">Live calls</a>' in index
    assert SCRIPT in index  # the transfer alert listens on every admin page


def test_a_staff_member_who_may_not_view_calls_has_no_page_and_no_alerts(client, joes, in_schema):
    with in_schema(joes):
        user_create("joes-intern")
    login(client, JOES, "joes-intern")

    assert client.get("/admin/monitor/", HTTP_HOST=JOES).status_code == 403
    index = client.get("/admin/", HTTP_HOST=JOES).content.decode()
    assert "Live calls" not in index and SCRIPT not in index


def test_the_page_asks_for_a_login_on_its_own_tenants_host(joes_support):
    on_pizza = joes_support.get("/admin/monitor/", HTTP_HOST=PIZZA)
    joes_support.logout()
    anonymous = joes_support.get("/admin/monitor/", HTTP_HOST=JOES)

    assert on_pizza.status_code == 302 and on_pizza["Location"].startswith("/admin/login/")
    assert anonymous.status_code == 302
    assert anonymous["Location"] == "/admin/login/?next=/admin/monitor/"


def test_the_platform_admin_has_no_live_calls(client, db):
    client.force_login(get_user_model().objects.create_superuser("monitor-operator"))
    index = client.get("/admin/", HTTP_HOST="localhost")

    assert index.status_code == 200 and "Nexus platform" in index.content.decode()
    assert SCRIPT not in index.content.decode()
    assert client.get("/admin/monitor/", HTTP_HOST="localhost").status_code == 404
