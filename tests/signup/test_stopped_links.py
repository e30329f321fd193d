"""STOP is final on the signup page: a link texted before the phone asked to stop no longer signs it up;
one texted after the phone texted in again does, and subscribes it (issue 12). STOPs and STARTs go through
Twilio's signed webhook."""

from __future__ import annotations

import html

import pytest
from django_tenants.utils import schema_context

from members.consent import phone_hash
from members.models import ConsentRecord, Member
from messaging.models import Message
from signup.models import SignupToken
from tests.messaging.webhooks import text, twiml_messages
from tests.signup.helpers import host, link_issue, valid_form

pytestmark = pytest.mark.django_db


def page(client, leader, path: str, data: dict | None = None):
    if data is None:
        return client.get(path, HTTP_HOST=host(leader))
    return client.post(path, data, HTTP_HOST=host(leader))


def test_a_link_texted_before_the_phone_said_stop_no_longer_signs_it_up(client, world):
    path, phone = link_issue(world.alice)
    assert twiml_messages(text(client, world.alice, phone, "STOP"))

    opened = page(client, world.alice, path)
    submitted = page(client, world.alice, path, valid_form())

    assert opened.status_code == submitted.status_code == 410
    assert "You asked us to stop" in html.unescape(submitted.content.decode())
    assert "START" in submitted.content.decode()
    with schema_context(world.alice.schema_name):
        assert not Member.objects.filter(phone=phone).exists()
        assert not ConsentRecord.objects.filter(phone_hash=phone_hash(phone), kind="opt_in").exists()


def test_the_stopped_page_is_in_the_links_language(client, world):
    path, phone = link_issue(world.alice, language="fr")
    text(client, world.alice, phone, "STOP")

    response = page(client, world.alice, path)

    assert response.status_code == 410 and response["Content-Language"] == "fr"
    assert "Vous nous avez demandé d’arrêter" in html.unescape(response.content.decode())


def test_a_member_who_said_stop_is_not_subscribed_again_by_an_older_link(client, world):
    first, phone = link_issue(world.alice)
    older, _ = link_issue(world.alice, phone=phone)
    page(client, world.alice, first, valid_form())
    assert twiml_messages(text(client, world.alice, phone, "STOP"))

    response = page(client, world.alice, older, valid_form(first_name="Again"))

    assert response.status_code == 410
    with schema_context(world.alice.schema_name):
        member = Member.objects.get(phone=phone)
        assert member.status == Member.Status.OPTED_OUT and member.first_name == "Jordan"
        assert Message.objects.filter(phone=phone, kind=Message.Kind.CONFIRMATION).count() == 1


def test_a_link_texted_after_the_phone_texted_in_again_signs_it_up_and_subscribes_it(client, world):
    _, phone = link_issue(world.alice)
    text(client, world.alice, phone, "STOP")
    assert twiml_messages(text(client, world.alice, phone, "START"))
    (welcome,) = twiml_messages(text(client, world.alice, phone, "hi again"))
    fresh = welcome[welcome.index("/j/") :]

    response = page(client, world.alice, fresh, valid_form())

    assert response.status_code == 200
    with schema_context(world.alice.schema_name):
        member = Member.objects.get(phone=phone)
        assert member.is_subscribed
        assert ConsentRecord.objects.filter(member=member, kind="opt_in", source="web_form").exists()
        assert Member.objects.reachable().filter(pk=member.pk).exists()


def test_a_member_who_said_stop_gets_no_fresh_link_from_the_update_button(client, world):
    path, phone = link_issue(world.alice)
    page(client, world.alice, path, valid_form())
    text(client, world.alice, phone, "STOP")

    response = page(client, world.alice, path + "/update", {})

    assert response.status_code == 200  # the same answer as ever: the page never says whether a text went out
    with schema_context(world.alice.schema_name):
        assert SignupToken.objects.filter(phone=phone).count() == 1  # the used link only
        assert not Message.objects.filter(phone=phone, kind=Message.Kind.NOTICE).exists()
