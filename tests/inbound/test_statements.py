"""Every hand-written statement of the inbound path (inbound/statements.py) prepares and runs in a real
leader's schema, as the webhook runs it: a server-side prepared statement, with no search path to help.

Each runs inside the test's transaction, which is rolled back: what it writes is never seen."""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from common.sql import Statement, prepared_execute, prepared_fetchone
from inbound import statements
from inbound.statements import STATEMENTS
from leaders.models import Leader
from members.consent import phone_hash
from members.models import Member
from messaging.models import Conversation, Message
from tests.phones import unique_phone


def _params(name: str, leader: Leader) -> dict:
    """Harmless parameters for each statement: a phone that is no one's, a sid never used."""
    now = timezone.now()
    phone = unique_phone()
    if name == "receive":
        return {
            "phone": phone,
            "body": "Hello",
            "sid": "SM" + uuid.uuid4().hex,
            "now": now,
            "preview": "Hello",
            "details": None,
            "plain": True,
            "start": False,
            "queued_since": now - datetime.timedelta(days=3),
            "word": "HELLO",
            "answer": "",
        }
    if name == "file":
        with schema_context(leader.schema_name):
            member = Member.objects.create(phone=phone)
        return {"phone": phone, "member_id": member.pk, "message_id": 0, "now": now, "preview": "Hello"}
    if name == "welcome":
        return {
            **Leader.count_params(leader.pk, 1),
            "phone": phone,
            "phone_hash": phone_hash(phone),
            "recent_since": now - datetime.timedelta(minutes=5),
            "token_hash": None,
            "language": "en",
            "now": now,
            "expires_at": now + datetime.timedelta(days=7),
            "kind": "notice",
            "body": "Hello",
        }
    if name == "waitlist":
        return {
            **Leader.count_params(leader.pk, 1),
            "phone": phone,
            "phone_hash": phone_hash(phone),
            "country": "CA",
            "region": "Ontario",
            "language": "fr",
            "language_told": True,
            "recent_since": now - datetime.timedelta(days=1),
            "now": now,
            "body": "Hello",
        }
    raise AssertionError(f"no sample parameters for the statement {name!r}: add them here")


def _server_text(sql: str) -> str:
    """The statement as psycopg sends it to PREPARE: each named parameter a $n, numbered as first seen."""
    numbers: dict[str, int] = {}

    def number(match: re.Match) -> str:
        return f"${numbers.setdefault(match.group(1), len(numbers) + 1)}"

    return re.sub(r"%\((\w+)\)s", number, sql)


def test_every_statement_of_the_module_is_listed():
    found = {value.name for value in vars(statements).values() if isinstance(value, Statement)}
    assert found == {statement.name for statement in STATEMENTS}
    assert len(found) == len(STATEMENTS)


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda statement: statement.name)
def test_each_statement_prepares_and_runs_in_a_leaders_schema(db, world, statement):
    leader = world.alice
    params = _params(statement.name, leader)
    sql = statement.in_schema(leader.schema_name)
    assert '"leader_alice".' in sql and "{schema}" not in sql
    # Tables are found by the schema named in the text alone: the search path is the public schema's.
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")

    for _ in range(2):  # the second run binds the statement the first one prepared
        if statement.name == "file":
            assert prepared_execute(sql, params) == 0  # message 0 does not exist
        else:
            assert prepared_fetchone(sql, params) is not None

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        prepared = {row[0] for row in cursor.fetchall()}
    assert _server_text(sql) in prepared


def test_the_receive_statement_stores_a_text_once(db, world):
    params = _params("receive", world.alice)
    sql = statements.RECEIVE.in_schema(world.alice.schema_name)

    message_id, conversation_id, member_id, member_status, recent, surveying, at_door, answered = (
        prepared_fetchone(sql, params)
    )
    again = prepared_fetchone(sql, params)

    assert message_id is not None and (conversation_id, member_id, member_status, recent) == (None,) * 4
    assert surveying is False and at_door is False and answered is False
    assert again == (None, None, None, None, None, False, False, False)


def test_a_statement_is_composed_once_per_schema_with_the_schema_quoted():
    statement = Statement("probe", "SELECT '{{}}'::jsonb, {part} FROM {schema}.messaging_message", part="1")

    first = statement.in_schema("leader_alice")

    assert first == """SELECT '{}'::jsonb, 1 FROM "leader_alice".messaging_message"""
    assert statement.in_schema("leader_alice") is first
    assert statement.in_schema('odd"name').endswith('FROM "odd""name".messaging_message')
    assert statements.RECEIVE.in_schema("leader_alice") != statements.RECEIVE.in_schema("leader_bob")


def test_the_file_statement_files_a_text_in_the_conversation_another_text_just_created(db, world):
    leader = world.alice
    params = _params("receive", leader)
    with schema_context(leader.schema_name):
        member = Member.objects.create(phone=params["phone"])
    # A member's text stored without a conversation (RECEIVE lost the race to create it)...
    message_id, conversation_id, member_id, _status, _recent, _surveying, _at_door, _answered = (
        prepared_fetchone(statements.RECEIVE.in_schema(leader.schema_name), {**params, "plain": False})
    )
    assert member_id == member.pk and conversation_id is None
    with schema_context(leader.schema_name):
        other = Conversation.objects.create(phone=params["phone"], member=member, unread_count=1)

        # ...is filed in the one the other text created, counted unread there.
        changed = prepared_execute(
            statements.FILE.in_schema(leader.schema_name),
            {**params, "member_id": member.pk, "message_id": message_id},
        )

        assert changed == 1
        assert Message.objects.get(pk=message_id).conversation_id == other.pk
        other.refresh_from_db()
        assert other.unread_count == 2 and other.last_message_preview == params["preview"]
