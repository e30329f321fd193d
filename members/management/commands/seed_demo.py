import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from leaders.demo import DEMO_SLUG, demo_leader_ensure, staff_user_ensure
from leaders.management.commands.create_leader import one_line
from leaders.models import Leader
from members.demo import leader_member_count_refresh, members_seed
from members.models import Member


class Command(BaseCommand):
    help = "Load realistic synthetic members (COPY) into a leader; creates the demo leader when needed."

    def add_arguments(self, parser):
        parser.add_argument("--leader", default=DEMO_SLUG, help="leader slug (default: the demo leader)")
        parser.add_argument("--members", type=int, default=3000, help="how many members to add")
        parser.add_argument("--if-empty", action="store_true", help="only seed a leader that has no members")

    def handle(self, *args, **options):
        count = options["members"]
        if count < 0:
            raise CommandError("--members must be zero or more")
        if options["leader"] == DEMO_SLUG:
            try:
                leader, created = demo_leader_ensure()
            except ValidationError as exc:
                raise CommandError(f"cannot create the demo leader: {one_line(exc)}") from None
            staff_user_ensure()
            if created:
                self.stdout.write(f"created the demo leader {leader.slug} ({leader.phone_number})")
        else:
            leader = Leader.objects.filter(slug=options["leader"]).first()
            if leader is None:
                raise CommandError(f"no leader with the slug {options['leader']!r}")
        with schema_context(leader.schema_name):
            existing = Member.objects.count()
            if options["if_empty"] and existing:
                self.stdout.write(f"{leader.slug} already has {existing} members; nothing seeded")
                return
            started = time.perf_counter()
            written = members_seed(count=count, start_index=existing)
            elapsed = time.perf_counter() - started
        total = leader_member_count_refresh(leader)
        self.stdout.write(f"seeded {written} members into {leader.slug} in {elapsed:.1f}s ({total} in all)")
