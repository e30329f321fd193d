from django.apps import AppConfig


class InboundConfig(AppConfig):
    """What Twilio talks to: the inbound-text receiver ahead of Django, the webhooks (texts, calls,
    delivery statuses) and the staff's phone simulator. No models."""

    name = "inbound"
    verbose_name = "Inbound (Twilio webhooks)"

    def ready(self) -> None:
        from inbound import reactions

        reactions.connect()
