from django.apps import AppConfig


class SignupConfig(AppConfig):
    name = "signup"
    verbose_name = "Signup links"

    def ready(self) -> None:
        from signup import services, waitlist

        services.connect()
        waitlist.connect()
