from django.apps import AppConfig


class DistrictsConfig(AppConfig):
    name = "districts"
    verbose_name = "Districts and volunteers"

    def ready(self) -> None:
        from districts import reactions

        reactions.connect()
