from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API and outbound webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the token scheme with drf-spectacular.
        from django.db.models.signals import post_delete, post_migrate, post_save

        from api import reactions, schema  # noqa: F401
        from api.models import WebhookEndpoint
        from api.webhooks import webhook_listeners_clear

        reactions.subscribe()
        post_migrate.connect(_cache_table_create, sender=self)
        # Inbound texts read the schema's webhook listeners from a cache (api.webhooks._events_listened).
        for signal in (post_save, post_delete):
            signal.connect(
                webhook_listeners_clear, sender=WebhookEndpoint, dispatch_uid=f"api.listeners.{signal}"
            )


def _cache_table_create(using: str = "default", **kwargs) -> None:
    """The database cache (API throttling without Redis) needs its table in the public schema: create it
    whenever the public schema is migrated, so no deployment step can forget it. Idempotent."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    uses_database_cache = any(
        cache["BACKEND"].endswith("DatabaseCache") for cache in settings.CACHES.values()
    )
    if uses_database_cache and getattr(connections[using], "schema_name", "public") == "public":
        call_command("createcachetable", database=using, verbosity=0)
