from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from accounts.models import User
from api.services import api_token_create
from leaders.models import Leader


class Command(BaseCommand):
    help = (
        "Create an API token acting as a teammate of a leader (with their role) and print it once: "
        "only its hash is stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for (shown in the console).")

    def handle(self, *args, **options):
        leader = Leader.objects.filter(slug=options["slug"]).first()
        if leader is None:
            raise CommandError(f"no leader with the slug {options['slug']!r}")
        with schema_context(leader.schema_name):
            user = User.objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(f"{leader.slug} has no teammate {options['username']!r}")
            if not user.is_active or not user.role:
                raise CommandError(f"{user.username} is not an active teammate of {leader.slug}")
            token, raw = api_token_create(
                user=user, name=options["name"] or f"{user.username} (command line)"
            )
        self.stderr.write(
            f"API token {token.name!r} for {user.username} ({user.role}) at {leader.slug}; "
            "shown once, store it now:"
        )
        self.stdout.write(raw)
