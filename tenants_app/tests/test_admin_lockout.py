"""Admin logins are locked out after repeated failures, in the tenant where they failed only."""

import pytest

from tenants_app.tests.factories import user_create
from tenants_app.tests.test_isolation import JOES, PIZZA, admin_login


@pytest.fixture
def admins(joes, pizza, in_schema):
    for tenant in (joes, pizza):
        with in_schema(tenant):
            user_create(f"{tenant.slug}-guard", superuser=True)


def test_repeated_failures_lock_out_that_tenants_admin_login_only(client, admins, settings):
    failures = [
        admin_login(client, JOES, "joes-guard", password="not-the-password").status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    with_the_password = admin_login(client, JOES, "joes-guard")
    elsewhere = admin_login(client, PIZZA, "pizza-guard")

    assert failures == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    assert with_the_password.status_code == 429  # locked out: the right password is refused
    assert elsewhere.status_code == 302 and elsewhere["Location"] == "/admin/"


def test_a_failure_or_two_do_not_lock_anyone_out(client, admins):
    admin_login(client, JOES, "joes-guard", password="typo")

    assert admin_login(client, JOES, "joes-guard").status_code == 302
