"""The client's address (common.clientip): REMOTE_ADDR, or behind a proxy named in TRUSTED_PROXIES the
address that proxy saw; never what a client wrote in X-Forwarded-For on its own."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django_tenants.utils import schema_context

from common.clientip import client_ip
from members.models import ConsentRecord, Member
from tests.platform.test_fail_closed import PRODUCTION, manage, setting
from tests.signup.helpers import host, link_issue, valid_form

PROXIES = ["10.0.0.0/8", "2001:db8:ffff::/48", "192.0.2.1"]


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "client"),
    [
        # No trusted proxy: X-Forwarded-For is the client's word, ignored.
        ([], "203.0.113.5", "198.51.100.1", "203.0.113.5"),
        ([], "", "198.51.100.1", None),
        # From a proxy that is not trusted: the same.
        (PROXIES, "203.0.113.5", "198.51.100.1", "203.0.113.5"),
        # From a trusted proxy: the address it appended.
        (PROXIES, "10.0.0.2", "198.51.100.1", "198.51.100.1"),
        # What the client wrote before it changes nothing.
        (PROXIES, "10.0.0.2", "6.6.6.6, 198.51.100.1", "198.51.100.1"),
        # A chain of trusted proxies is walked from the right, past each of them.
        (PROXIES, "10.0.0.2", "6.6.6.6, 198.51.100.1, 192.0.2.1, 10.9.9.9", "198.51.100.1"),
        # A client claiming to be one of our proxies is still the leftmost hop that is not.
        (PROXIES, "10.0.0.2", "10.1.1.1, 198.51.100.1", "198.51.100.1"),
        # Only trusted hops (a request the proxy made itself): the leftmost.
        (PROXIES, "10.0.0.2", "10.0.0.9", "10.0.0.9"),
        (PROXIES, "10.0.0.2", "", "10.0.0.2"),
        # Ports and brackets, as some load balancers write them; IPv6; IPv4 mapped into IPv6.
        (PROXIES, "10.0.0.2", "198.51.100.1:51234", "198.51.100.1"),
        (PROXIES, "10.0.0.2", "[2001:db8:1::7]:443", "2001:db8:1::7"),
        (PROXIES, "2001:db8:ffff::1", "2001:db8:1::7", "2001:db8:1::7"),
        (PROXIES, "::ffff:10.0.0.2", "198.51.100.1", "198.51.100.1"),
        ([], "::ffff:203.0.113.5", "", "203.0.113.5"),
        # Garbage where the proxy would have written an address: the proxy did not append (it is not set
        # up to), so the hop is the client's: counted as the proxy's own request.
        (PROXIES, "10.0.0.2", "198.51.100.1, not-an-address", "10.0.0.2"),
        # A Unix socket (no address): trusted only when "unix" is listed.
        (PROXIES, "", "198.51.100.1", None),
        (["unix"], "", "198.51.100.1", "198.51.100.1"),
        (["unix"], "203.0.113.5", "198.51.100.1", "203.0.113.5"),
    ],
)
def test_the_client_address(settings, trusted, remote, forwarded, client):
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == client


def consent_ip(world, *, proxies: list[str], settings) -> str:
    """A fan signs up through a proxy at 10.0.0.2, having written their own X-Forwarded-For: the address
    the consent ledger keeps."""
    settings.TRUSTED_PROXIES = proxies
    path, phone = link_issue(world.alice)
    client = Client(HTTP_HOST=host(world.alice))
    response = client.post(
        path, valid_form(), REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )
    assert response.status_code == 200
    with schema_context(world.alice.schema_name):
        return ConsentRecord.objects.get(member=Member.objects.get(phone=phone)).ip_address


def test_the_consent_ledger_records_the_client_behind_a_trusted_proxy_only(db, world, settings):
    assert consent_ip(world, proxies=[], settings=settings) == "10.0.0.2"
    assert consent_ip(world, proxies=["10.0.0.0/8"], settings=settings) == "203.0.113.9"


@pytest.mark.parametrize("value", ["10.0.0.0/33", "proxy.internal", "10.0.0.1;10.0.0.2"])
def test_a_trusted_proxy_that_is_no_address_stops_the_start_with_one_line(db, value):
    result = manage("check", **PRODUCTION, TRUSTED_PROXIES=value)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert result.stderr.startswith("error: TRUSTED_PROXIES must list addresses or networks")


def test_trusted_proxies_are_read_from_a_comma_separated_list(db):
    value = setting("TRUSTED_PROXIES", **PRODUCTION, TRUSTED_PROXIES=" 10.0.0.0/8, 2001:db8::/32 ,unix")
    assert value == "['10.0.0.0/8', '2001:db8::/32', 'unix']"
    assert setting("TRUSTED_PROXIES", **PRODUCTION) == "[]"
