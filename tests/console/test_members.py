"""The members pages: filters, search, keyset pagination, detail, tags, erasure."""

from __future__ import annotations

import datetime
import html
import re
from urllib.parse import unquote

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from members import selectors, services
from members.consent import phone_hash
from members.models import ConsentRecord, Member
from messaging.models import Conversation, Message
from signup.models import SignupToken
from tests import builders
from tests.console.conftest import client_for
from tests.places import CHICAGO, GUADALAJARA, MONTERREY, MONTREAL, MUMBAI, TOKYO

BASE = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def test_every_filter_narrows_the_members(dana):
    today = timezone.localdate()
    with schema_context(dana.schema_name):
        maya = builders.fan(
            place=MONTREAL,
            first_name="Maya",
            last_name="García",
            gender="female",
            language="es",
            tags=["volunteer"],
            birth_date=today.replace(year=today.year - 25),
            joined_at=BASE,
        )
        liam = builders.fan(
            place=CHICAGO,
            first_name="Liam",
            last_name="Smith",
            gender="male",
            language="en",
            tags=["donor", "vip"],
            birth_date=today.replace(year=today.year - 50),
            joined_at=BASE + datetime.timedelta(days=10),
            email="liam.smith@example.org",
        )
        gone = builders.member(
            first_name="Zoé", status=Member.Status.OPTED_OUT, joined_at=BASE + datetime.timedelta(days=20)
        )
        everyone = Member.objects.all()

        def match(**filters):
            return _ids(selectors.members_filter(everyone, filters))

        assert match() == {maya.pk, liam.pk, gone.pk}
        assert match(place_ids=[MONTREAL.geoname_id]) == {maya.pk}
        assert match(regions=["Illinois"]) == {liam.pk}
        assert match(countries=["ca"]) == {maya.pk}
        assert match(genders=["male"]) == {liam.pk}
        assert match(languages=["es"]) == {maya.pk}
        assert match(tags=["vip", "nobody"]) == {liam.pk}
        assert match(age_min=25, age_max=25) == {maya.pk}
        assert match(age_min=26) == {liam.pk}
        assert match(age_max=24) == set()
        assert match(joined_after=(BASE + datetime.timedelta(days=5)).date()) == {liam.pk, gone.pk}
        assert match(joined_before=(BASE + datetime.timedelta(days=10)).date()) == {maya.pk, liam.pk}
        assert match(status="opted_out") == {gone.pk}
        assert match(q="gar") == {maya.pk}
        assert match(q="MAYA garc") == {maya.pk}
        assert match(q="liam.smith@") == {liam.pk}
        assert match(q="chic") == {liam.pk}
        assert match(q=liam.phone[-4:]) == {liam.pk}
        assert match(q=liam.phone) == {liam.pk}
        assert match(q="ma%ya") == set() and match(q="_aya") == set()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=5), min_size=0, max_size=30),
    size=st.integers(min_value=1, max_value=7),
    only_women=st.booleans(),
)
def test_paging_through_all_pages_yields_every_matching_member_exactly_once(dana, offsets, size, only_women):
    with schema_context(dana.schema_name), transaction.atomic():
        # Few distinct join times, so many members share one: the id breaks ties.
        for index, offset in enumerate(offsets):
            builders.member(
                joined_at=BASE + datetime.timedelta(hours=offset), gender="female" if index % 2 else "male"
            )
        filters = {"genders": ["female"]} if only_women else {}
        queryset = selectors.members_filter(Member.objects.all(), filters)
        seen: list[int] = []
        after = None
        for _ in range(len(offsets) + 2):
            page = selectors.members_page(queryset, after=after, size=size)
            seen.extend(m.pk for m in page.members)
            assert len(page.members) <= size
            if page.next_cursor is None:
                break
            after = page.next_cursor
        expected = list(queryset.order_by("-joined_at", "-id").values_list("pk", flat=True))
        assert seen == expected
        transaction.set_rollback(True)


def test_a_forged_cursor_shows_the_first_page(dana):
    response = client_for(dana, "dora").get("/members/?after=not-a-cursor")
    assert response.status_code == 200


def test_the_members_page_lists_filters_and_pages(dana):
    with schema_context(dana.schema_name):
        for day in range(60):
            builders.member(
                first_name=f"Fan{day}",
                joined_at=BASE + datetime.timedelta(days=day),
                language="fr" if day % 3 == 0 else "en",
            )
    client = client_for(dana, "dmitri")
    first = client.get("/members/", {"language": "fr"}).content.decode()
    assert "Fan57" in first and "Fan58" not in first
    assert 'rel="next"' not in first  # 20 French members fit one page
    everyone = client.get("/members/").content.decode()
    assert 'rel="next"' in everyone and "Fan59" in everyone and "Fan9<" not in everyone
    bad = client.get("/members/", {"age_min": "40", "age_max": "20"})
    assert bad.status_code == 200 and "below the lowest" in bad.content.decode()
    assert "Fan59" not in bad.content.decode()
    unknown_city = client.get("/members/", {"city": "Nowhereville Qqq"}).content.decode()
    assert "No city by this name" in unknown_city


def _links(page: str) -> list[str]:
    return [unquote(html.unescape(link)) for link in re.findall(r'(?:href|action)="([^"]*)"', page)]


def test_a_search_by_number_or_email_is_posted_and_no_url_of_the_list_holds_it(dana):
    with schema_context(dana.schema_name):
        fan = builders.member(first_name="Nadia", email="nadia.search@example.org", language="fr")
        builders.member(first_name="Otto", language="fr")
    client = client_for(dana, "dmitri")
    assert re.search(r'<form method="post"[^>]*role="search"', client.get("/members/").content.decode())
    national = fan.phone[2:]  # +1 and the ten digits a teammate may type
    for text in (fan.phone, national, "nadia.search@"):
        submitted = client.post("/members/", {"q": text, "language": "fr", "gender": ""})
        assert submitted.status_code == 302
        location = submitted["Location"]
        assert location.startswith("/members/?") and "language=fr" in location
        listing = client.get(location)
        page = listing.content.decode()
        assert listing.status_code == 200 and f"/members/{fan.pk}/" in page and "Otto" not in page
        assert 'value="' + html.escape(text) + '"' in page  # the box still shows what was searched
        for link in [location, *_links(page)]:
            assert national not in link and "nadia" not in link, link
        export = re.search(r'href="(/members/export\.csv\?[^"]+)"', page).group(1)
        rows = client.get(html.unescape(export)).getvalue().decode().splitlines()
        assert len(rows) == 2 and fan.phone in rows[1]

    # The id means nothing in another teammate's session: nobody is listed, and nobody exported.
    other = client_for(dana, "dora")
    elsewhere = other.get(location).content.decode()
    assert "This search is no longer available" in elsewhere and f"/members/{fan.pk}/" not in elsewhere
    assert len(other.get(html.unescape(export)).getvalue().decode().splitlines()) == 1


def test_a_url_holding_the_search_text_is_moved_out_of_the_address_bar(dana):
    with schema_context(dana.schema_name):
        fan = builders.member(first_name="Ines")
    client = client_for(dana, "dmitri")
    for path in ("/members/", "/members/export.csv"):
        moved = client.get(path, {"q": fan.phone, "status": "subscribed"})
        assert moved.status_code == 302 and fan.phone[2:] not in moved["Location"]
        assert moved["Location"].startswith(path + "?") and "status=subscribed" in moved["Location"]
    page = client.get(client.get("/members/", {"q": fan.phone})["Location"]).content.decode()
    assert f"/members/{fan.pk}/" in page


def test_filters_that_do_not_hold_together_are_answered_on_the_page(dana):
    response = client_for(dana, "dmitri").post("/members/", {"q": "5550", "age_min": "40", "age_max": "20"})
    assert response.status_code == 400 and "below the lowest" in response.content.decode()


def test_the_members_page_filters_by_region_name_in_any_country(dana):
    with schema_context(dana.schema_name):
        for place in (GUADALAJARA, MONTERREY, TOKYO, MUMBAI, MONTREAL):
            builders.fan(place=place, first_name=f"Fan of {place.name}")
    client = client_for(dana, "dmitri")

    def names(region: str) -> set[str]:
        page = client.get("/members/", {"region": region}).content.decode()
        return {
            name
            for name in ("Guadalajara", "Monterrey", "Tokyo", "Mumbai", "Montréal")
            if f"Fan of {name}" in page
        }

    assert names("jalisco") == {"Guadalajara"}
    assert names("Tokyo") == {"Tokyo"}
    assert names("MAHARASHTRA") == {"Mumbai"}
    assert names("nuevo leon") == {"Monterrey"}
    unknown = client.get("/members/", {"region": "Jaliscoo"})
    assert unknown.status_code == 200
    assert "No region by this name is known." in unknown.content.decode()
    assert "Fan of" not in unknown.content.decode()


def test_member_detail_shows_profile_consent_and_the_whole_conversation(dana):
    with schema_context(dana.schema_name):
        member = builders.member(first_name="Nour", last_name="Haddad", email="nour@example.org")
        ConsentRecord.objects.create(
            member=member,
            phone_hash=phone_hash(member.phone),
            kind="opt_in",
            source="web_form",
            detail="form v1",
        )
        conversation = builders.conversation(member=member)
        builders.message(conversation=conversation, direction="in", body="Hello team", status="received")
        builders.message(conversation=conversation, direction="out", body="Hi Nour!", status="delivered")
    page = client_for(dana, "dmitri").get(f"/members/{member.pk}/").content.decode()
    for text in ("Nour Haddad", "nour@example.org", "form v1", "Hello team", "Hi Nour!", "Signup form"):
        assert text in page
    assert page.index("Hello team") < page.index("Hi Nour!")


def test_tags_are_edited_from_the_member_page(dana):
    with schema_context(dana.schema_name):
        member = builders.member()
    client = client_for(dana, "dmitri")
    response = client.post(f"/members/{member.pk}/", {"tags": "Volunteer, rally-2026; volunteer"})
    assert response.status_code == 302
    with schema_context(dana.schema_name):
        member.refresh_from_db()
    assert member.tags == ["volunteer", "rally-2026"]


def test_erasing_a_member_keeps_only_the_anonymous_consent_ledger(dana):
    with schema_context(dana.schema_name):
        member = builders.member(first_name="Erin")
        phone = member.phone
        ConsentRecord.objects.create(
            member=member, phone_hash=phone_hash(phone), kind="opt_in", source="web_form"
        )
        conversation = builders.conversation(member=member)
        builders.message(conversation=conversation, direction="in", body="my secret", status="received")
        SignupToken.objects.create(token_hash="x" * 64, phone=phone, expires_at=timezone.now())
    client = client_for(dana, "dmitri")
    confirm = client.get(f"/members/{member.pk}/erase/")
    assert confirm.status_code == 200 and "Erase for good" in confirm.content.decode()
    with schema_context(dana.schema_name):
        assert Member.objects.filter(pk=member.pk).exists()  # asking is not erasing
    assert client.post(f"/members/{member.pk}/erase/").status_code == 302
    with schema_context(dana.schema_name):
        # An anonymous tombstone stays, so counts by country, gender or join date do not change.
        erased = Member.objects.get(pk=member.pk)
        assert erased.phone.startswith("~") and erased.first_name == "" and erased.status == "opted_out"
        assert not Member.objects.filter(phone=phone).exists()
        assert not Message.objects.filter(phone=phone).exists()
        assert not Conversation.objects.filter(phone=phone).exists()
        assert not SignupToken.objects.filter(phone=phone).exists()
        ledger = list(ConsentRecord.objects.filter(phone_hash=phone_hash(phone)).order_by("created_at", "id"))
    assert [r.kind for r in ledger] == ["opt_in", "opt_out"]
    assert ledger[1].detail == "erased from the console"


def test_a_responder_cannot_erase_a_member(dana, world):
    from leaders.services import leader_user_create
    from tests.conftest import TEAM_PASSWORD

    leader_user_create(leader=dana, username="rhea", role="responder", password=TEAM_PASSWORD)
    with schema_context(dana.schema_name):
        member = builders.member()
    assert client_for(dana, "rhea").post(f"/members/{member.pk}/erase/").status_code == 403
    with schema_context(dana.schema_name):
        assert Member.objects.filter(pk=member.pk).exists()


def test_tags_are_parsed_trimmed_and_deduplicated():
    assert services.tags_parse(" VIP ;donor,, vip ,big   rally") == ["vip", "donor", "big rally"]


def test_the_members_list_says_how_many_match_and_leaves_erased_members_out(dana):
    with schema_context(dana.schema_name):
        french = [builders.member(first_name=f"Lea{n}", language="fr") for n in range(3)]
        for n in range(2):
            builders.member(first_name=f"Sam{n}", language="en")
    client = client_for(dana, "dmitri")
    assert client.post(f"/members/{french[0].pk}/erase/").status_code == 302

    everyone = client.get("/members/").content.decode()
    assert 'id="members-total">4 members<' in everyone
    assert f'href="/members/{french[0].pk}/"' not in everyone  # erased: no one to list
    only_french = client.get("/members/", {"language": "fr"}).content.decode()
    assert 'id="members-total">2 members<' in only_french
    assert 'id="members-total">0 members<' in client.get("/members/", {"language": "de"}).content.decode()


def test_above_ten_thousand_the_total_is_the_planners_estimate_and_says_so(dana, monkeypatch):
    monkeypatch.setattr(selectors, "EXACT_COUNT_LIMIT", 3)
    with schema_context(dana.schema_name):
        for n in range(5):
            builders.member(first_name=f"Fan{n}")
        total = selectors.members_total(Member.objects.all())
    assert total.estimated and total.count >= 4
    page = client_for(dana, "dmitri").get("/members/").content.decode()
    assert re.search(r'id="members-total">About [\d,]+ members \(estimated\)<', page)


def test_every_time_in_the_console_is_in_the_leaders_zone_which_the_page_names_once(dana):
    from leaders.models import Leader
    from leaders.routing import leader_cache_clear

    Leader.objects.filter(pk=dana.pk).update(time_zone="Asia/Tokyo")
    leader_cache_clear()
    at = datetime.datetime(2026, 1, 15, 3, 30, tzinfo=datetime.UTC)  # 12:30 in Tokyo
    with schema_context(dana.schema_name):
        member = builders.member(first_name="Aiko", joined_at=at)
        conversation = builders.conversation(member=member)
        builders.message(conversation=conversation, member=member, body="Konnichiwa", created_at=at)
    client = client_for(dana, "dmitri")
    thread = client.get(f"/inbox/{conversation.pk}/").content.decode()
    assert "12:30 p.m." in thread and "3:30 a.m." not in thread
    assert thread.count("Asia/Tokyo") == 1 and 'Times are in <bdi dir="ltr">Asia/Tokyo</bdi>.' in thread
    member_page = client.get(f"/members/{member.pk}/").content.decode()
    assert "Jan. 15, 2026, 12:30 p.m." in member_page
