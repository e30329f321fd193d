import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from leaders.management.commands.create_leader import one_line
from leaders.models import Leader
from leaders.services import leader_user_create


class Command(BaseCommand):
    help = "Create a team account in a leader's schema (prompts for the password when none is given)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=User.Role.values)
        parser.add_argument("--password")
        parser.add_argument("--email", default="")

    def handle(self, *args, **options):
        try:
            leader = Leader.objects.get(slug=options["slug"])
        except Leader.DoesNotExist:
            raise CommandError(f"no leader with the slug {options['slug']!r}") from None
        password = options["password"]
        if password is None:
            if not options.get("interactive", True) or not self.stdin_is_tty():
                raise CommandError("--password is required when not run from a terminal")
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords do not match")
            if not password:
                raise CommandError("the password is empty")
        try:
            user = leader_user_create(
                leader=leader,
                username=options["username"],
                role=options["role"],
                password=password,
                email=options["email"],
            )
        except ValidationError as exc:
            raise CommandError(one_line(exc)) from None
        self.stdout.write(f"created {user.role} {user.username} for {leader.slug}")

    @staticmethod
    def stdin_is_tty() -> bool:
        import sys

        return sys.stdin is not None and sys.stdin.isatty()
