"""Copies grouped: exact copies by their folded text's fingerprint, near copies by MinHash resemblance; and in
the leader's table, forty thousand copies are one group with their count."""

from __future__ import annotations

import os
import uuid

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from triage import duplicates, services
from triage.duplicates import fingerprint, groups_assign, text_fold
from triage.models import DuplicateGroup, Label


def test_folding_drops_case_accents_spacing_punctuation_and_emoji():
    assert text_fold("  Fund our HOSPITALS!!! 🙏🙏 ") == "fund our hospitals"
    assert text_fold("¡Más  agua, por favor!") == "mas agua por favor"
    assert text_fold("مُونْتْرِيَال") == text_fold("مونتريال")
    assert fingerprint("Fund our hospitals!!!") == fingerprint("fund our hospitals")
    assert fingerprint("👍") != fingerprint("❤️")  # nothing but emoji: their own characters
    assert len(fingerprint("x" * 1000)) <= 64


def test_near_copies_join_the_closest_group_and_others_start_their_own():
    schema = f"test_{uuid.uuid4().hex}"
    texts = [
        "Please fund the public hospital in Guadalajara now, our families need it",
        "please fund the public hospitals in Guadalajara now our families need it!!",
        "Please fund the public hospital in Guadalajara NOW, our families really need it",
        "The police never come to our street at night, we are afraid",
        "thank you",
        "thank you!",
    ]
    own, groups = groups_assign(schema_name=schema, texts=texts)
    assert groups[0] == own[0] and groups[1] == groups[2] == own[0]
    assert groups[3] == own[3] != own[0]
    assert groups[4] == groups[5] == own[4]  # short: exact copies only, and these are
    # An exact copy of a near copy joins the same group.
    assert groups_assign(schema_name=schema, texts=[texts[1]])[1] == [own[0]]


def test_an_exact_copy_of_a_group_in_the_table_joins_it_after_a_restart():
    schema = f"test_{uuid.uuid4().hex}"
    text = "Please fund the public hospital in Guadalajara now, our families need it"
    near = "please fund the public hospitals in Guadalajara now our families need it!!"
    duplicates._indexes.pop(schema, None)  # a fresh process: the table knows the group, the index does not
    own, groups = groups_assign(schema_name=schema, texts=[text], known={fingerprint(text)})
    assert groups == own
    assert groups_assign(schema_name=schema, texts=[near])[1] == own  # and its near copies find it again


@pytest.mark.django_db
def test_forty_thousand_copies_are_one_group_with_their_count(world):
    schema = world.alice.schema_name
    body = "STOP the new highway through our park!!! 🌳"
    with schema_context(schema):
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO messaging_message (phone, direction, kind, body, status, failure_reason, attempts,
                    created_at, updated_at)
                SELECT '+1604555' || lpad(n::text, 4, '0'), 'in', 'conversation',
                    CASE WHEN n %% 2 = 0 THEN %s ELSE lower(%s) END, 'received', '', 0, %s, %s
                FROM generate_series(1, 40000) AS n
                """,
                [body, body, timezone.now(), timezone.now()],
            )
        # One run to the end, however loaded the machine (a run otherwise hands its worker back after 20 s).
        services.triage_run(schema_name=schema, last_look=0, seconds=600)
        assert Label.objects.count() == 40_000
        (group,) = DuplicateGroup.objects.all()
        assert group.count == 40_000
        assert Label.objects.filter(duplicates=group).count() == 40_000


def test_signatures_are_the_same_in_every_process():
    """Python salts its string hash per process: signatures built on it grouped near copies differently
    from one run to the next. Two processes with different salts give the same signature."""
    import subprocess
    import sys

    code = (
        "from triage.duplicates import signatures, text_fold;"
        "print(signatures([text_fold('Please fund the public hospital in Guadalajara now')]).tobytes().hex())"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1 and outputs.pop().strip()
