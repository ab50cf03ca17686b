"""Small builders for tenant-schema rows used across tests."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tenants_app.permissions import SUPPORT_GROUP

PASSWORD = "test-pass-123"


def user_create(username: str, *, superuser: bool = False, support: bool = False):
    """A staff user in the current schema, with `PASSWORD`."""
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, is_staff=True, is_superuser=superuser
    )
    if support:
        user.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    return user
