from django.apps import AppConfig


class LeadersConfig(AppConfig):
    name = "leaders"
    verbose_name = "Leaders"

    def ready(self) -> None:
        from leaders import routing

        routing.connect()
