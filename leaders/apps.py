from django.apps import AppConfig
from django.db.models.signals import post_save


class LeadersConfig(AppConfig):
    name = "leaders"
    verbose_name = "Leaders"

    def ready(self) -> None:
        from leaders.models import Leader
        from leaders.routing import leader_cache_clear

        # A leader saved in this process is routed with its new settings at once (leaders.routing).
        post_save.connect(leader_cache_clear, sender=Leader, dispatch_uid="leaders.leader_cache_clear")
