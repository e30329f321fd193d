"""Broadcasts from the command line: preview, send, status, cancel (and run a dispatcher in the foreground).

python manage.py broadcast SLUG preview --filter '{"cities": ["Montréal"], "age_min": 18}' [--body …]
python manage.py broadcast SLUG send --body "Rally at 7!" [--filter …] [--at 2026-05-01T18:00]
                                     [--ignore-quiet-hours] [--now]
python manage.py broadcast SLUG status ID [--watch]
python manage.py broadcast SLUG cancel ID
python manage.py broadcast SLUG dispatch ID [--time-budget S] [--stale-after S]
"""

from __future__ import annotations

import datetime
import json
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django_tenants.utils import schema_context

from leaders.models import Leader
from messaging.broadcasts import tasks
from messaging.broadcasts.compose import broadcast_cancel, broadcast_create, broadcast_preview, broadcast_send
from messaging.broadcasts.dispatch import BATCH_SIZE, broadcast_dispatch
from messaging.broadcasts.queueing import broadcast_queue
from messaging.broadcasts.selectors import broadcast_progress
from messaging.models import Broadcast, BroadcastError


class Command(BaseCommand):
    help = "Preview, send, follow and cancel a leader's broadcasts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the leader's slug")
        actions = parser.add_subparsers(dest="action", required=True, parser_class=CommandParser)

        preview = actions.add_parser("preview", help="count the audience and the cost")
        preview.add_argument("--filter", default="{}", help="audience filter as JSON")
        preview.add_argument("--body", default="", help="the message, to count its segments")

        send = actions.add_parser("send", help="queue a broadcast (now, or at --at); prints its id")
        send.add_argument("--body", required=True)
        send.add_argument("--filter", default="{}", help="audience filter as JSON (default: everyone)")
        send.add_argument("--at", help="ISO date and time; without an offset, in the leader's time zone")
        send.add_argument("--ignore-quiet-hours", action="store_true")
        send.add_argument(
            "--now", action="store_true", help="queue in this process instead of the broadcast lane"
        )

        status = actions.add_parser("status", help="a broadcast's progress")
        status.add_argument("id", type=int)
        status.add_argument("--watch", action="store_true", help="print again every 2 s until it is over")

        cancel = actions.add_parser("cancel", help="stop a scheduled or sending broadcast")
        cancel.add_argument("id", type=int)

        dispatch = actions.add_parser("dispatch", help="send a queued broadcast from this process")
        dispatch.add_argument("id", type=int)
        dispatch.add_argument("--time-budget", type=float, default=3600.0)
        dispatch.add_argument("--stale-after", type=float, default=300.0, help="seconds")
        dispatch.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args, **options) -> None:
        leader = Leader.objects.filter(slug=options["slug"]).first()
        if leader is None:
            raise CommandError(f"no leader with the slug {options['slug']!r}")
        try:
            with schema_context(leader.schema_name):
                getattr(self, "do_" + options["action"])(leader, options)
        except BroadcastError as exc:
            raise CommandError(str(exc)) from None

    # -- actions -------------------------------------------------------------------------------------------

    def do_preview(self, leader: Leader, options) -> None:
        preview = broadcast_preview(leader=leader, filters=_json(options["filter"]), body=options["body"])
        line = f"{preview['count']} members"
        if options["body"]:
            line += (
                f", {preview['segments_per_message']} segment(s) each ({preview['encoding']}), "
                f"{preview['total_segments']} segments, about {_duration(preview['estimated_seconds'])} "
                f"at {preview['segments_per_second']} segments/s"
            )
            if preview["gsm7_suggestions"]:
                swaps = ", ".join(f"{k!r}→{v!r}" for k, v in preview["gsm7_suggestions"].items())
                line += f"; GSM-7 would be cheaper: {swaps}"
        self.stdout.write(line)

    def do_send(self, leader: Leader, options) -> None:
        send_at = None
        if options["at"]:
            send_at = parse_datetime(options["at"])
            if send_at is None:
                raise CommandError(f"--at {options['at']!r} is not an ISO date and time (2026-05-01T18:00)")
        with transaction.atomic():
            broadcast = broadcast_create(
                leader=leader,
                body=options["body"],
                filters=_json(options["filter"]),
                send_at=send_at,
                ignore_quiet_hours=options["ignore_quiet_hours"],
            )
            if options["now"] and send_at is None:
                if not leader.is_active:
                    raise BroadcastError("This leader is suspended: nothing can be sent.")
                count = broadcast_queue(leader=leader, broadcast=broadcast)
                schema_name = leader.schema_name
                transaction.on_commit(lambda: tasks.enqueue_dispatch(broadcast.pk, schema_name, count=2))
                self.stdout.write(f"{broadcast.pk} queued to {count} members")
                return
            broadcast_send(leader=leader, broadcast=broadcast)
        when = "queued"
        if broadcast.send_at:
            when = f"scheduled for {broadcast.send_at.astimezone(leader.zone).isoformat()}"
        self.stdout.write(f"{broadcast.pk} {when}")

    def do_status(self, leader: Leader, options) -> None:
        broadcast = _get(options["id"])
        while True:
            progress = broadcast_progress(broadcast)
            self.stdout.write(
                "{id} {status}: {recipients} recipients, {queued} queued, {sent} sent, {delivered} delivered, "
                "{failed} failed, {undelivered} undelivered, {skipped} skipped, {cancelled} cancelled, "
                "{opt_outs} opt-outs, {replies} replies".format(**progress)
            )
            if not options["watch"] or broadcast.is_over:
                return
            time.sleep(2)

    def do_cancel(self, leader: Leader, options) -> None:
        broadcast = _get(options["id"])
        cancelled = broadcast_cancel(broadcast=broadcast)
        self.stdout.write(f"{broadcast.pk} cancelled; {cancelled} deliveries will not be sent")

    def do_dispatch(self, leader: Leader, options) -> None:
        result = broadcast_dispatch(
            leader=leader,
            broadcast_id=_get(options["id"]).pk,
            time_budget=options["time_budget"],
            stale_after=datetime.timedelta(seconds=options["stale_after"]),
            batch_size=options["batch_size"],
        )
        self.stdout.write(
            f"{result.outcome}: sent {result.sent}, failed {result.failed}, skipped {result.skipped}"
        )


def _json(text: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise CommandError(f"--filter is not valid JSON: {exc.msg} at character {exc.pos}") from None
    if not isinstance(value, dict):
        raise CommandError('--filter must be a JSON object, like \'{"cities": ["Montréal"]}\'')
    return value


def _get(broadcast_id: int) -> Broadcast:
    broadcast = Broadcast.objects.filter(pk=broadcast_id).first()
    if broadcast is None:
        raise CommandError(f"no broadcast {broadcast_id} for this leader")
    return broadcast


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"
