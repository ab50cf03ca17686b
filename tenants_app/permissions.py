"""The roles of a tenant's admin beyond its superusers."""

from django.contrib.auth.models import Group, Permission

SUPPORT_GROUP = "Support"
SUPPORT_VIEWS = {
    "voice": ["persona", "knowledgeitem", "call", "transcriptentry"],
    "tools_registry": ["toolenablement", "toolinvocation"],
}


def support_group_ensure() -> Group:
    """The tenant's read-only support role (in the current schema): view permissions only."""
    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    codenames = [f"view_{model}" for app_models in SUPPORT_VIEWS.values() for model in app_models]
    permissions = Permission.objects.filter(
        content_type__app_label__in=SUPPORT_VIEWS, codename__in=codenames
    )
    group.permissions.set(permissions)
    return group
