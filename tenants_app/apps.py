from django.apps import AppConfig


class TenantsAppConfig(AppConfig):
    name = "tenants_app"
    verbose_name = "Tenants"

    def ready(self) -> None:
        from tenants_app import connections, signals  # noqa: F401
