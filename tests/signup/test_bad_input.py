"""Whatever is posted to the signup form, the fan gets a page: never a 500, never a half-written member."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from members.models import Member
from tests.signup.helpers import host, leader_today, link_issue, valid_form

pytestmark = pytest.mark.django_db

FIELDS = ["first_name", "last_name", "gender", "birth_date", "city", "email", "consent", "website"]
# Any text the test client can encode (UTF-8 has no lone surrogates), NUL and other controls included.
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
odd_values = st.one_of(
    any_text,
    st.just("x" * 100_000),
    st.just("\x00"),
    st.just("1990-07-14\x00"),
    st.sampled_from(
        ["0000-00-00", "9999-12-31", "1990-13-01", "-1-01-01", "1e9", "2024-02-30", "１９９０-０７-１４"]
    ),
    st.sampled_from(["Zalgo Z̸̢̛̩͎a̴l̷g̶o̵", "‮evil", "مونتريال", "🇨🇦 Montréal", "東京", "\u200b", "nan", "None"]),
    st.lists(any_text, min_size=2, max_size=3),
)


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    overrides=st.dictionaries(st.sampled_from(FIELDS), odd_values, max_size=len(FIELDS)),
    extra=st.dictionaries(any_text.filter(bool), any_text, max_size=3),
)
def test_arbitrary_form_data_gets_a_page_never_a_server_error(client, world, settings, overrides, extra):
    settings.SIGNUP_POST_RATE = (1_000_000, 600)
    path, phone = link_issue(world.alice)
    data = {**extra, **valid_form(), **overrides}
    response = client.post(path, data, HTTP_HOST=host(world.alice))
    assert response.status_code in (200, 400)
    with schema_context(world.alice.schema_name):
        member = Member.objects.filter(phone=phone).first()
    if member is not None:
        assert response.status_code == 200
        assert 0 < len(member.first_name) <= 60 and len(member.last_name) <= 60 and len(member.city) <= 120
        assert "\x00" not in member.first_name + member.last_name + member.city + member.email
        assert member.birth_date is not None and member.birth_date <= leader_today(world.alice)
        assert member.gender in Member.Gender.values


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=2000))
def test_a_raw_body_that_is_not_even_utf8_gets_a_page(client, world, settings, body):
    settings.SIGNUP_POST_RATE = (1_000_000, 600)
    path, _ = link_issue(world.alice)
    response = client.generic(
        "POST", path, body, content_type="application/x-www-form-urlencoded", HTTP_HOST=host(world.alice)
    )
    assert response.status_code in (200, 400)


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(token=any_text, lang=any_text)
def test_any_token_and_language_in_the_url_gets_a_page(client, world, token, lang):
    from urllib.parse import quote

    response = client.get(f"/j/{quote(token, safe='')}", {"lang": lang}, HTTP_HOST=host(world.alice))
    assert response.status_code in (200, 404, 410)
