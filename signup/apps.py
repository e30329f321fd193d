from django.apps import AppConfig


class SignupConfig(AppConfig):
    name = "signup"
    verbose_name = "Signup links"

    def ready(self) -> None:
        from common import events
        from signup.services import signup_links_erase

        events.subscribe(events.MEMBER_ERASED, signup_links_erase)
