from django.core.management.base import BaseCommand, CommandError

from leaders.migrating import platform_migrate


class Command(BaseCommand):
    help = (
        "Migrate the public schema, the leader template schema, then every leader's schema that is behind "
        "the template (replaying the template's SQL where it can)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--parallel", type=int, default=0, help="connections for the leaders' schemas")
        parser.add_argument(
            "--all",
            action="store_true",
            dest="everything",
            help="run migrate in every leader's schema, even those whose migrations match the template's",
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="django-tenants' migrate in each schema behind, as before the replay (stops at a failure)",
        )

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        result = platform_migrate(
            parallel=options["parallel"],
            verbosity=verbosity,
            everything=options["everything"],
            full=options["full"],
            write=self.stdout.write,
        )
        for schema, problem in result.failed.items():
            self.stderr.write(f"{schema}: failed, left as it was: {problem}")
        if verbosity:
            self.stdout.write(
                f"migrated {len(result.migrated)} leader schema(s) ({len(result.replayed)} replayed as SQL, "
                f"{len(result.migrated_fully)} by a full migrate); the others were up to date"
            )
        if result.failed:
            raise CommandError(f"{len(result.failed)} leader schema(s) failed to migrate")
