from django.core.management.base import BaseCommand

from leaders.schemas import platform_migrate


class Command(BaseCommand):
    help = (
        "Migrate the public schema, the leader template schema, then every leader's schema that is behind "
        "the template."
    )

    def add_arguments(self, parser):
        parser.add_argument("--parallel", type=int, default=0, help="processes for the leaders' schemas")
        parser.add_argument(
            "--all",
            action="store_true",
            dest="everything",
            help="run migrate in every leader's schema, even those whose migrations match the template's",
        )

    def handle(self, *args, **options):
        migrated = platform_migrate(
            parallel=options["parallel"], verbosity=options["verbosity"], everything=options["everything"]
        )
        if options["verbosity"]:
            self.stdout.write(f"migrated {len(migrated)} leader schema(s); the others were up to date")
