from django.apps import AppConfig


class TopicsConfig(AppConfig):
    name = "topics"
    verbose_name = "Topics"

    def ready(self) -> None:
        from topics import reactions

        reactions.connect()
