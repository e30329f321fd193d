"""Listening: the topic × region (or language) matrix summed from the counter rows, its cells opening as a
filtered inbox, and segments made from a cell becoming a broadcast's audience."""

from __future__ import annotations

import datetime
import html
import re
from urllib.parse import parse_qs, urlparse

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from members.models import Member
from tests import builders
from triage.selectors import matrix


def _cells(page: str) -> dict[str, str]:
    """Each linked cell's accessible name ("Health × Jalisco: 40") → its link."""
    return {
        html.unescape(name): html.unescape(link)
        for link, name in re.findall(r'<a href="([^"]+)" aria-label="([^"]+: \d+)"', page)
    }


def test_the_matrix_sums_the_counters_by_topic_and_region(in_alice):
    now = timezone.now()
    health = builders.topic(name="Health", position=1)
    water = builders.topic(name="Water", position=2)
    gone = builders.topic(name="Gone", position=3)
    builders.count(hour=now, topic_id=health.pk, region="Jalisco", language="es", texts=40, open=30)
    builders.count(
        hour=now - datetime.timedelta(hours=3),
        topic_id=health.pk,
        region="Jalisco",
        language="en",
        texts=2,
        open=2,
    )
    builders.count(hour=now, topic_id=water.pk, region="Oaxaca", language="es", texts=7, open=1)
    builders.count(hour=now, topic_id=0, region="", language="", texts=5, open=5)
    builders.count(hour=now, topic_id=gone.pk, region="Oaxaca", language="es", texts=4, open=4)
    builders.count(
        hour=now - datetime.timedelta(days=3), topic_id=health.pk, region="Jalisco", texts=999, open=999
    )
    gone.delete()  # its texts count as unsorted

    grid = matrix(since=now - datetime.timedelta(hours=24), measure="open")
    assert [column.key for column in grid.columns] == ["Jalisco", "Oaxaca", ""]
    assert [(row.name, row.cells) for row in grid.rows] == [
        ("Health", [32, 0, 0]),
        ("Water", [0, 1, 0]),
        ("", [0, 4, 5]),
    ]
    assert grid.total == 42
    texts = matrix(since=now - datetime.timedelta(hours=24), measure="texts", axis="language")
    assert [column.key for column in texts.columns] == ["es", "en", ""]
    assert [row.cells for row in texts.rows] == [[40, 2, 0], [7, 0, 0], [4, 0, 5]]
    # The busiest columns are shown, the rest add up in "Other".
    narrow = matrix(since=now - datetime.timedelta(hours=24), columns_shown=1)
    assert [column.key for column in narrow.columns] == ["Jalisco", None, ""]
    assert [row.cells for row in narrow.rows] == [[32, 0, 0], [0, 1, 0], [0, 4, 5]]


def test_the_matrix_reads_counters_never_the_labels(in_alice):
    with CaptureQueriesContext(connection) as queries:
        matrix(since=timezone.now() - datetime.timedelta(hours=48))
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert "triage_count" in sql and "triage_label" not in sql


def test_a_cell_opens_as_a_filtered_inbox(rita, world):
    now = timezone.now()
    with schema_context(world.alice.schema_name):
        health = builders.topic(name="Health")
        fan = builders.fan(first_name="Inés")
        talk = builders.conversation(member=fan, last_message_at=now, last_message_preview="clinic")
        text = builders.message(conversation=talk, member=fan, body="la clínica cerró")
        builders.label(message=text, topic=health, region="Jalisco", language="es")
        other = builders.conversation(last_message_at=now, last_message_preview="other")
        builders.label(
            message=builders.message(conversation=other, body="water?"), region="Oaxaca", language="es"
        )
        builders.count(hour=now, topic_id=health.pk, region="Jalisco", language="es", texts=1, open=1)
        builders.count(hour=now, topic_id=0, region="Oaxaca", language="es", texts=1, open=1)

    response = rita.get("/listening/")
    assert response.status_code == 200
    page = response.content.decode()
    cells = _cells(page)
    assert set(cells) == {"Health × Jalisco: 1", "Unsorted × Oaxaca: 1"}
    link = cells["Health × Jalisco: 1"]
    query = parse_qs(urlparse(link).query)
    assert (
        query["topic"] == [str(health.pk)] and query["region"] == ["Jalisco"] and query["folder"] == ["open"]
    )
    assert set(query) == {"folder", "topic", "region", "since"}  # no personal data in the URL
    # A responder reads the matrix but makes no segment.
    assert "Make a segment" not in page

    inbox = rita.get(link).content.decode()
    assert f"/inbox/{talk.pk}/" in inbox and f"/inbox/{other.pk}/" not in inbox
    unsorted = rita.get("/inbox/?topic=unsorted").content.decode()
    assert f"/inbox/{other.pk}/" in unsorted and f"/inbox/{talk.pk}/" not in unsorted
    # The live refresh asks for the table alone.
    partial = rita.get("/listening/", {"partial": "1"}).content.decode()
    assert "<table" in partial and "<html" not in partial

    by_language = rita.get("/listening/", {"axis": "language", "measure": "texts"}).content.decode()
    assert "Health × Spanish: 1" in _cells(by_language)


def test_bad_matrix_and_cell_filters_are_clear_errors(mark, world):
    with schema_context(world.alice.schema_name):
        known = builders.topic(name="Health")
    for query in (
        {"range": "custom"},
        {"range": "custom", "since": "yesterday"},
        {"range": "custom", "since": "2026-12-05", "until": "2026-12-01"},
        {"range": "forever"},
        {"axis": "phones"},
    ):
        assert mark.get("/listening/", query).status_code == 400, query
    for query in (
        {"topic": "999999"},
        {"topic": "drop table"},
        {"since": "2026-13-45"},
        {"since": "2026-12-05", "until": "2026-12-01"},
        {"language": "<script>"},
    ):
        assert mark.get("/inbox/", query).status_code == 400, query
        segment = mark.get("/listening/segment/", query)
        assert segment.status_code == 400 and "This filter is not valid" in segment.content.decode(), query
        assert (
            mark.post(
                "/listening/segment/?" + "&".join(f"{k}={v}" for k, v in query.items()), {"tag": "x"}
            ).status_code
            == 400
        )
    page = mark.get("/inbox/", {"topic": "999999"}).content.decode()
    assert "Select a valid choice" in page
    assert mark.get("/inbox/", {"topic": str(known.pk), "since": "2026-12-01"}).status_code == 200
    custom = mark.get("/listening/", {"range": "custom", "since": "2026-12-01", "until": "2026-12-03"})
    assert custom.status_code == 200


def test_a_segment_tags_every_member_who_wrote_in_the_cell(mark, world):
    now = timezone.now()
    with schema_context(world.alice.schema_name):
        water = builders.topic(name="Water")
        writers = [builders.fan(tag="old") for _ in range(3)]
        elsewhere = builders.fan()
        late = builders.fan()
        for writer in writers:
            builders.label(
                message=builders.message(member=writer, body="sin agua"), topic=water, region="Jalisco"
            )
        # Another region, and a text older than the cell's range: not in the segment.
        builders.label(message=builders.message(member=elsewhere), topic=water, region="Oaxaca")
        old_text = builders.message(member=late, created_at=now - datetime.timedelta(days=10))
        builders.label(message=old_text, topic=water, region="Jalisco")
        # A newcomer (no member) in the cell: nobody to tag.
        builders.label(message=builders.message(), topic=water, region="Jalisco")
        builders.count(hour=now, topic_id=water.pk, region="Jalisco", texts=4, open=4)

    page = mark.get("/listening/").content.decode()
    segment_link = html.unescape(re.search(r'<a class="segment-link" href="([^"]+)"', page).group(1))
    form = mark.get(segment_link)
    assert form.status_code == 200 and "Water" in form.content.decode() and "Jalisco" in form.content.decode()

    with CaptureQueriesContext(connection) as queries:
        response = mark.post(segment_link, {"tag": "  Jalisco Water "})
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1 and "triage_label" in updates[0]  # one UPDATE … SELECT, no loop
    assert response.status_code == 302
    done = mark.get(response["Location"]).content.decode()
    assert "Members who wrote here and carry the tag “jalisco water”: 3. Newly tagged: 3." in done
    preview = html.unescape(
        re.search(r'<a class="button" href="([^"]+)">Preview a broadcast to them', done).group(1)
    )
    assert preview == "/broadcasts/new/?tags_any=jalisco+water"

    with schema_context(world.alice.schema_name):
        tagged = set(Member.objects.filter(tags__contains=["jalisco water"]).values_list("pk", flat=True))
        assert tagged == {writer.pk for writer in writers}
        assert Member.objects.get(pk=writers[0].pk).tags == ["old", "jalisco water"]
    # Again: nothing changes.
    again = mark.get(mark.post(segment_link, {"tag": "jalisco water"})["Location"]).content.decode()
    assert "Newly tagged: 0." in again

    composer = mark.get(preview).content.decode()
    assert re.search(r'name="tags_any" value="jalisco water"', composer)
    count = mark.get("/broadcasts/new/count.json", {"tags_any": "jalisco water"}).json()
    assert count["count"] == 3


def test_a_segment_needs_a_tag_and_a_manager(mark, rita, world):
    response = mark.post("/listening/segment/", {"tag": "  "})
    assert response.status_code == 400 and "Give the segment a tag name." in response.content.decode()
    assert rita.get("/listening/segment/").status_code == 403
    assert rita.post("/listening/segment/", {"tag": "x"}).status_code == 403


def test_another_leaders_counts_and_topics_never_show(olivia, world):
    now = timezone.now()
    with schema_context(world.bob.schema_name):
        secret = builders.topic(name="Bobsecret")
        builders.count(hour=now, topic_id=secret.pk, region="Bobland", texts=77, open=77)
    page = olivia.get("/listening/", {"measure": "texts"}).content.decode()
    assert "Bobsecret" not in page and "Bobland" not in page and ">77<" not in page
    assert olivia.get("/inbox/", {"topic": str(secret.pk)}).status_code == 400
