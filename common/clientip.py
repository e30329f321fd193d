"""The client's address, as every rate limit and the consent ledger read it.

REMOTE_ADDR is the peer that opened the connection. Behind a reverse proxy that peer is the proxy, and the
client is what the proxy wrote in X-Forwarded-For. That header is trusted only when the peer is one of
`settings.TRUSTED_PROXIES`: anyone else can write any X-Forwarded-For they like, and reading it would let a
client choose the address its login failures or signups are counted under.

A proxy appends the address it saw to whatever X-Forwarded-For the client sent, so the header reads
"what the client claims, …, what our proxies saw", left to right. Walking it from the right, past our own
proxies, the first address that is not one of them is the one the outermost trusted proxy saw: the client,
or the last untrusted hop. Everything left of it is the client's to invent.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _trusted(entries: tuple[str, ...]) -> tuple[tuple[Network, ...], bool]:
    """The trusted networks, and whether a peer without an IP address (a Unix socket) is trusted."""
    networks = tuple(ipaddress.ip_network(entry, strict=False) for entry in entries if entry != "unix")
    return networks, "unix" in entries


def _address(text: str) -> Address | None:
    """An address as a proxy writes it: "192.0.2.7", "2001:db8::1", and also with a port ("192.0.2.7:5123",
    "[2001:db8::1]:5123"), which some load balancers add."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 client reaching an IPv6 socket shows as ::ffff:a.b.c.d: count it as the IPv4 address it is.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def client_ip(request) -> str | None:
    """The client's address for this request, as text; None when there is no request or no address."""
    if request is None:
        return None
    remote_text = request.META.get("REMOTE_ADDR") or ""
    remote = _address(remote_text)
    networks, unix = _trusted(tuple(settings.TRUSTED_PROXIES))
    if remote is None:
        # No address: a Unix socket (gunicorn gives "" or the socket's name). Only a proxy named "unix"
        # makes X-Forwarded-For the client's address then.
        if not unix:
            return None
    elif not any(remote in network for network in networks):
        return str(remote)
    seen = str(remote) if remote is not None else None
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # Not an address where our proxy would have written one: the proxy did not append (it is not
            # set up to), and this hop is the client's invention. Count the request as the proxy's own.
            return seen
        seen = str(address)
        if not any(address in network for network in networks):
            return seen
    # Every hop is one of our proxies (or there is none: a request the proxy made itself): the leftmost.
    return seen
