from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        connection_created.connect(_generic_plans, dispatch_uid="messaging.generic_plans")


def _generic_plans(sender, connection, **kwargs) -> None:
    """The only prepared statements are the inbound webhook's (messaging.services._prepared_fetchone; Django's
    own queries bind on the client and are never prepared). PostgreSQL would now and then plan them again
    for the values at hand, which costs more than running them: their plans do not depend on the values
    (unique keys, primary keys), so the generic plan is always the one. A session setting, set once per
    connection (outside any transaction, so no rollback undoes it)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_generic_plan")
