"""The shared sending limiter, one per leader's schema, counted in segments."""

from __future__ import annotations

import time

from django_tenants.utils import schema_context

from messaging import ratelimit


def test_grants_stop_at_the_rate_and_say_how_long_to_wait(alice_schema):
    assert ratelimit.acquire(rate=10, segments_each=3, wanted=5).messages == 3  # 9 of 10 segments
    refused = ratelimit.acquire(rate=10, segments_each=3, wanted=1)
    assert refused.messages == 0 and 0 < refused.wait <= ratelimit.HOLD + ratelimit.WINDOW
    assert ratelimit.acquire(rate=10, segments_each=1, wanted=4).messages == 1  # the last segment


def test_a_released_grant_stops_counting_one_window_after_its_messages_went_out(alice_schema):
    grant = ratelimit.acquire(rate=4, segments_each=2, wanted=2)
    assert grant.messages == 2
    assert ratelimit.acquire(rate=4, segments_each=1, wanted=1).messages == 0  # held until released
    ratelimit.release(grant_ids=[grant.id], rate=4)
    assert ratelimit.acquire(rate=4, segments_each=1, wanted=1).messages == 0  # still within the window
    time.sleep(ratelimit.WINDOW + 0.05)
    assert ratelimit.acquire(rate=4, segments_each=1, wanted=4).messages == 4


def test_a_message_longer_than_one_seconds_rate_goes_alone(alice_schema):
    assert ratelimit.acquire(rate=1, segments_each=3, wanted=5).messages == 1
    assert ratelimit.acquire(rate=1, segments_each=3, wanted=1).messages == 0


def test_a_cancelled_grant_gives_its_room_back(alice_schema):
    grant = ratelimit.acquire(rate=2, segments_each=2, wanted=1)
    ratelimit.cancel(grant_id=grant.id)
    assert ratelimit.acquire(rate=2, segments_each=2, wanted=1).messages == 1


def test_each_leader_has_a_limiter_of_its_own(alice_schema, world):
    assert ratelimit.acquire(rate=1, segments_each=1, wanted=1).messages == 1
    with schema_context(world.bob.schema_name):
        assert ratelimit.acquire(rate=1, segments_each=1, wanted=1).messages == 1
    assert ratelimit.acquire(rate=1, segments_each=1, wanted=1).messages == 0
