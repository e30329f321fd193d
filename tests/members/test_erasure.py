"""Erasure leaves nothing that identifies the member, anywhere in the database.

A fan goes through every real path that stores something about them (texting the number, the signup form
behind the link it answers with, a broadcast and its status callback, a reply, the API with an idempotency
key, webhook receivers that echo what they get); a teammate erases them (console or API); then every table
of the leader's schema and of the public schema is read, each row as text, for their phone, names, email,
IP address and the Twilio SIDs of their texts.
"""

from __future__ import annotations

import base64
import datetime
import pickle
import re

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django_q.models import Schedule, Task
from django_tenants.utils import schema_context
from psycopg import sql

from members.consent import phone_consent_record, phone_hash, phone_opted_out
from members.models import ConsentRecord, Member
from members.services import member_erase
from messaging.broadcasts.compose import broadcast_create
from messaging.broadcasts.dispatch import broadcast_dispatch
from messaging.broadcasts.queueing import broadcast_queue
from messaging.models import Broadcast, Delivery, DeliveryStatus, Message
from tests import builders
from tests.api.conftest import Api, consent, token_for
from tests.api.helpers import Receiver, run_queued
from tests.console.conftest import client_for
from tests.messaging.webhooks import STATUS_PATH, post_signed, text, twiml_messages
from tests.phones import unique_phone
from tests.queue import queued_tasks
from tests.signup.helpers import host, valid_form

FIRST_NAME = "Zebulon"
LAST_NAME = "Quillfeather"
EMAIL = "zebulon.quillfeather@example.org"
IP_ADDRESS = "203.0.113.77"
BROADCAST_CLUSTER = "broadcasts"


def _tables(schema_name: str) -> list[str]:
    """Every table of the schema, partitioned parents and their partitions included."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname",
            [schema_name],
        )
        return [name for (name,) in cursor.fetchall()]


def _found(schema_name: str, needles: list[str]) -> dict[str, list[str]]:
    """Table -> its rows (as text) that contain any of `needles`, case-insensitively."""
    patterns = ["%" + re.sub(r"([%_\\])", r"\\\1", needle.lower()) + "%" for needle in needles]
    found: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        for table in _tables(schema_name):
            query = sql.SQL("SELECT t::text FROM {}.{} t WHERE lower(t::text) LIKE ANY(%s)").format(
                sql.Identifier(schema_name), sql.Identifier(table)
            )
            cursor.execute(query.as_string(connection.connection), [patterns])
            rows = [row for (row,) in cursor.fetchall()]
            if rows:
                found[f"{schema_name}.{table}"] = rows
    return found


def _encoded_found(schema_name: str, needles: list[str]) -> dict[str, list[str]]:
    """What the database holds in a form a table scan cannot read: sessions (signed, in the leader's schema
    and the public one), the queue's signed or pickled task arguments and results, the database cache's
    pickled values."""
    sessions = []
    for schema in (schema_name, "public"):
        with schema_context(schema):
            sessions += [repr(session.get_decoded()) for session in Session.objects.all()]
    with schema_context("public"):
        stored = {
            "sessions": sessions,
            "queued": [
                repr(task) for cluster in (None, BROADCAST_CLUSTER, "webhooks") for task in _queued(cluster)
            ],
            "tasks": [repr((t.func, t.args, t.kwargs, t.result)) for t in Task.objects.all()],
            "schedules": [repr((s.func, s.args, s.kwargs)) for s in Schedule.objects.all()],
            "cache": _cache_values(),
        }
    lowered = [needle.lower() for needle in needles]
    return {
        name: hits
        for name, items in stored.items()
        if (hits := [item for item in items if any(n in item.lower() for n in lowered)])
    }


def _cache_values() -> list[str]:
    """The database cache's entries (Redis, when configured, is not a table: nothing to read here)."""
    if "community_cache" not in _tables("public"):
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key, value FROM public.community_cache")
        rows = cursor.fetchall()
    return [f"{key} {pickle.loads(base64.b64decode(value))!r}" for key, value in rows]  # noqa: S301 - ours


def _queued(cluster: str | None) -> list[dict]:
    return queued_tasks() if cluster is None else queued_tasks(cluster)


@pytest.fixture
def local_twilio(settings):
    """No Twilio account: the local transport answers for Twilio (and signs webhooks with its own token)."""
    settings.TWILIO_ACCOUNT_SID = settings.TWILIO_AUTH_TOKEN = ""
    settings.PUBLIC_BASE_URL = "http://localhost:8000"


@pytest.mark.parametrize("erased_through", ["console", "api"])
def test_an_erased_member_leaves_nothing_identifying_in_any_table(
    db, world, local_twilio, django_capture_on_commit_callbacks, erased_through
):
    alice = world.alice
    phone = unique_phone()
    national = phone.removeprefix("+1")
    owner_api = Api(alice, token_for(alice, "olivia"))
    twilio_client = Client()  # Twilio, on the platform's host
    fan = Client(HTTP_HOST=host(alice), REMOTE_ADDR=IP_ADDRESS)

    with Receiver(echo=True) as receiver:
        events = ["member.created", "member.updated", "member.opted_out", "message.received"]
        response = owner_api.post("/api/v1/webhooks/", {"url": receiver.url, "events": events})
        assert response.status_code == 201, response.content

        # A newcomer texts the number and gets the welcome with a personal link.
        (welcome,) = twiml_messages(text(twilio_client, alice, phone, "Hello!"))
        link = welcome[welcome.index("/j/") :].split()[0]

        # They join through the form, from their own address.
        with django_capture_on_commit_callbacks(execute=True):
            form = valid_form(first_name=FIRST_NAME, last_name=LAST_NAME, email=EMAIL)
            response = fan.post(link, form)
        assert response.status_code == 200, response.content[:500]
        with schema_context(alice.schema_name):
            member = Member.objects.get(phone=phone)
        run_queued("messaging.tasks.message_send")  # the confirmation text, sent

        # A broadcast reaches them (tagged in the console), Twilio reports on it, and they reply.
        tag = builders.new_tag()
        manager = client_for(alice, "mark")
        assert manager.post(f"/members/{member.pk}/", {"tags": tag}).status_code == 302
        with schema_context(alice.schema_name):
            broadcast = broadcast_create(
                leader=alice, body="Hi {first_name}!", filters={"tags_any": [tag]}, ignore_quiet_hours=True
            )
            assert broadcast_queue(leader=alice, broadcast=broadcast) == 1
            assert broadcast_dispatch(leader=alice, broadcast_id=broadcast.pk).sent == 1
            delivery = Delivery.objects.get(broadcast=broadcast, member=member)
        callback = {
            "From": str(alice.phone_number),
            "To": phone,
            "MessageSid": delivery.sid,
            "AccountSid": "AC" + "0" * 32,
            "MessageStatus": "delivered",
        }
        assert (
            post_signed(twilio_client, f"{STATUS_PATH}?broadcast={broadcast.pk}", callback).status_code == 200
        )
        with django_capture_on_commit_callbacks(execute=True):
            text(twilio_client, alice, phone, f"Count me in! {FIRST_NAME} {LAST_NAME}, {EMAIL}")

        # Their CRM updates them through the API, with an idempotency key.
        with django_capture_on_commit_callbacks(execute=True):
            response = owner_api.post(
                "/api/v1/members/",
                {"phone": phone, "first_name": FIRST_NAME, "email": EMAIL, "consent": consent()},
                headers={"Idempotency-Key": "crm-sync-1"},
            )
        assert response.status_code in (200, 201), response.content
        assert run_queued("api.tasks.webhook_deliver", "webhooks")
        assert len(receiver.requests) >= 3  # member.created, message.received, member.updated

        with schema_context(alice.schema_name):
            sids = [
                delivery.sid,
                *Message.objects.filter(phone=phone)
                .exclude(twilio_sid=None)
                .values_list("twilio_sid", flat=True),
            ]
        needles = [phone, national, FIRST_NAME, LAST_NAME, EMAIL, IP_ADDRESS, *sids]
        # The scan sees each of them before the erasure, so it would see what the erasure missed.
        found = {**_found(alice.schema_name, needles), **_found("public", needles)}
        before = "\n".join(row for rows in found.values() for row in rows)
        for needle in needles:
            assert needle.lower() in before.lower(), needle

        # A teammate erases them, in the console or through the API; the opt-out event still goes out.
        with django_capture_on_commit_callbacks(execute=True):
            if erased_through == "console":
                assert manager.post(f"/members/{member.pk}/erase/").status_code == 302
            else:
                assert owner_api.delete(f"/api/v1/members/{member.pk}/").status_code == 204
        run_queued("api.tasks.webhook_deliver", "webhooks")

    assert _found(alice.schema_name, needles) == {}
    assert _found("public", needles) == {}
    assert _encoded_found(alice.schema_name, needles) == {}

    with schema_context(alice.schema_name):
        ledger = list(ConsentRecord.objects.filter(phone_hash=phone_hash(phone)).order_by("created_at", "id"))
        broadcast.refresh_from_db()
        assert not Delivery.objects.filter(member_id=member.pk).exists()
    # The ledger still proves consent: what was shown, in which version, from where, and the day.
    assert [(r.kind, r.source) for r in ledger] == [("opt_in", "web_form"), ("opt_out", erased_through)]
    assert ledger[0].text and ledger[0].text_version
    assert all(r.ip_address is None for r in ledger)
    for record in ledger:
        local = record.created_at.astimezone(alice.zone)
        assert local.time() == datetime.time(0) and local.date() == datetime.datetime.now(alice.zone).date()
    # The broadcast's counts are what they were.
    assert (broadcast.recipient_count, broadcast.sent_count, broadcast.delivered_count) == (1, 1, 1)
    assert broadcast.status == Broadcast.Status.COMPLETED


def test_an_erased_members_queued_copy_stays_to_be_skipped_and_counted(alice_schema):
    member = builders.fan(first_name=FIRST_NAME)
    sent = builders.broadcast(queued_at=datetime.datetime.now(datetime.UTC))
    waiting = builders.broadcast(queued_at=datetime.datetime.now(datetime.UTC))
    builders.delivery(broadcast=sent, member=member, status=DeliveryStatus.DELIVERED, sid="SM" + "1" * 32)
    builders.delivery(broadcast=waiting, member=member)

    member_erase(member=member, source=ConsentRecord.Source.CONSOLE)

    rows = list(Delivery.objects.filter(member_id=member.pk).values_list("broadcast_id", "status", "sid"))
    assert rows == [(waiting.pk, DeliveryStatus.QUEUED, None)]


def test_the_phones_member_less_lines_lose_their_second_too_and_still_answer_in_order(alice_schema):
    phone = unique_phone()
    for kind in (ConsentRecord.Kind.OPT_OUT, ConsentRecord.Kind.OPT_IN):  # STOP, then START, before joining
        phone_consent_record(phone=phone, kind=kind, source=ConsentRecord.Source.SMS_KEYWORD, text=kind)
    member = builders.member(phone=phone, first_name=FIRST_NAME)
    ConsentRecord.objects.create(
        member=member, phone_hash=phone_hash(phone), kind="opt_in", source="web_form", ip_address=IP_ADDRESS
    )

    member_erase(member=member, source=ConsentRecord.Source.CONSOLE)

    ledger = ConsentRecord.objects.filter(phone_hash=phone_hash(phone))
    assert ledger.count() == 4
    zone = alice_schema.zone
    assert {r.created_at.astimezone(zone).time() for r in ledger} == {datetime.time(0)}
    assert not ledger.exclude(ip_address=None).exists()
    # Lines of one day are told apart by their order of writing: START came last, so the phone may be texted.
    assert not phone_opted_out(phone)
