from django.core.management.base import BaseCommand

from leaders.schemas import platform_migrate


class Command(BaseCommand):
    help = "Migrate the public schema, the leader template schema, then every leader's schema."

    def add_arguments(self, parser):
        parser.add_argument("--parallel", type=int, default=0, help="processes for the leaders' schemas")

    def handle(self, *args, **options):
        platform_migrate(parallel=options["parallel"], verbosity=options["verbosity"])
