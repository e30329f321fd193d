from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from leaders.models import Leader
from leaders.services import leader_create, leader_primary_url


def one_line(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "Create a leader: its schema (cloned from the template), its number and its domain."

    def add_arguments(self, parser):
        parser.add_argument(
            "slug", help="lowercase letters, digits and hyphens; becomes <slug>.<PLATFORM_DOMAIN>"
        )
        parser.add_argument("--name", required=True, help="display name shown to fans")
        parser.add_argument("--number", required=True, help="the number fans text, E.164 (+12025550142)")
        parser.add_argument("--domain", help="host name; default <slug>.<PLATFORM_DOMAIN>")
        parser.add_argument(
            "--countries", default="", help="comma-separated country codes members may text from"
        )
        parser.add_argument(
            "--number-type", default=Leader.NumberType.LONG_CODE, choices=Leader.NumberType.values
        )

    def handle(self, *args, **options):
        countries = [c for c in options["countries"].split(",") if c.strip()]
        try:
            leader = leader_create(
                slug=options["slug"],
                name=options["name"],
                phone_number=options["number"],
                domain=options["domain"],
                countries=countries,
                number_type=options["number_type"],
            )
        except ValidationError as exc:
            raise CommandError(one_line(exc)) from None
        self.stdout.write(
            f"created leader {leader.slug} ({leader.phone_number}) at {leader_primary_url(leader)}"
        )
