"""The Twilio transport, against the fake Twilio API over real HTTP on loopback.

No database: these tests only need Django settings for ``get_transport`` (the project's when pytest-django
configured them, else a minimal configuration made here).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator

from common.phones import phone_mask
from messaging.twilio.errors import TransportError
from messaging.twilio.http import DEFAULT_API_BASE_URL, _Rebaser
from messaging.twilio.transport import (
    LocalTransport,
    OutboundSms,
    SendResult,
    TwilioTransport,
    get_transport,
)
from tests.fake_twilio import FakeTwilio, FakeTwilioProcess

SENDER = "+15005550006"  # Twilio's magic "valid sender"
ALICE_FAN = "+12025550142"
BOB_FAN = "+12025550143"


def fan(index: int) -> str:
    """Fictional numbers +1 202 555 0100..0199."""
    return f"+1202555{100 + index % 100:04d}"


def sms(to: str = ALICE_FAN, body: str = "See you at the rally", **kwargs: Any) -> OutboundSms:
    return OutboundSms(to=to, from_=kwargs.pop("from_", SENDER), body=body, **kwargs)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_fake(fake: FakeTwilio) -> None:
    fake.reset_rules()
    fake.clear()


@pytest.fixture(scope="module")
def transport(fake: FakeTwilio) -> Iterator[TwilioTransport]:
    transport = TwilioTransport(
        account_sid=fake.account_sid, auth_token=fake.auth_token, base_url=fake.base_url
    )
    yield transport
    transport.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- sending ------------------------------------------------------------------------------------------------


def test_send_returns_the_sid_and_status_twilio_gave(transport: TwilioTransport, fake: FakeTwilio) -> None:
    result = transport.send(sms(reference="out-1"))

    assert result.ok
    assert result.reference == "out-1"
    assert re.fullmatch(r"SM[0-9a-f]{32}", result.sid or "")
    assert result.status == "queued"
    assert result.error is None
    assert [m["sid"] for m in fake.messages] == [result.sid]


def test_send_posts_to_from_body_and_status_callback(transport: TwilioTransport, fake: FakeTwilio) -> None:
    callback = "https://community.example.org/webhooks/twilio/status/"
    transport.send(sms(body="Merci ! À bientôt", status_callback=callback))

    (message,) = fake.messages
    assert message["to"] == ALICE_FAN
    assert message["from"] == SENDER
    assert message["body"] == "Merci ! À bientôt"
    assert message["status_callback"] == callback
    assert message["num_segments"] == 1
    assert isinstance(message["t"], float) and isinstance(message["wall"], float)


def test_send_through_a_messaging_service_lets_twilio_pick_the_sender(
    transport: TwilioTransport, fake: FakeTwilio
) -> None:
    service = "MG" + "1" * 32
    result = transport.send(sms(from_=service))

    assert result.status == "accepted"
    (message,) = fake.messages
    assert message["messaging_service_sid"] == service
    assert message["from"] is None


def test_client_is_pointed_at_the_base_url_for_other_calls(transport: TwilioTransport) -> None:
    result = transport.send(sms(body="hello"))

    fetched = transport.client.messages(result.sid).fetch()

    assert fetched.body == "hello"
    assert fetched.status == "queued"


def test_send_many_sends_each_message_once_and_answers_in_input_order(
    transport: TwilioTransport, fake: FakeTwilio
) -> None:
    messages = [sms(to=fan(i), body=f"message {i}", reference=f"ref-{i}") for i in range(500)]

    results = transport.send_many(messages, concurrency=50)

    assert [r.reference for r in results] == [f"ref-{i}" for i in range(500)]
    assert all(r.ok and r.status == "queued" for r in results)
    recorded = {m["sid"]: m for m in fake.messages}
    assert len(recorded) == 500 == fake.stats()["requests"]
    assert {r.sid for r in results} == set(recorded)
    for i, result in enumerate(results):
        assert recorded[result.sid]["body"] == f"message {i}"
        assert recorded[result.sid]["to"] == fan(i)


def test_send_many_keeps_at_most_concurrency_requests_in_flight(
    transport: TwilioTransport, fake: FakeTwilio
) -> None:
    fake.set_latency(0.02)

    transport.send_many([sms(to=fan(i)) for i in range(60)], concurrency=6)

    assert fake.stats()["in_flight_peak"] == 6


def test_send_many_can_be_called_again_and_again_on_one_loop_thread(transport: TwilioTransport) -> None:
    transport.send_many([sms()])
    threads = threading.active_count()

    for _ in range(5):
        assert all(r.ok for r in transport.send_many([sms(to=fan(i)) for i in range(20)], concurrency=5))

    assert threading.active_count() == threads
    assert transport.send_many([]) == []


def test_send_many_works_from_inside_a_running_event_loop(transport: TwilioTransport) -> None:
    import asyncio

    async def caller() -> list[SendResult]:
        return transport.send_many([sms(), sms(to=BOB_FAN)])

    assert all(r.ok for r in asyncio.run(caller()))


def test_threads_can_share_one_transport(transport: TwilioTransport, fake: FakeTwilio) -> None:
    outcomes: list[bool] = []

    def send_batch(thread: int) -> None:
        batch = [sms(to=fan(i), reference=f"{thread}-{i}") for i in range(50)]
        results = transport.send_many(batch, concurrency=10) + [transport.send(sms())]
        outcomes.append(all(r.ok for r in results))

    threads = [threading.Thread(target=send_batch, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == [True] * 4
    assert len(fake.messages) == 4 * 51


def _send_from_forked_child(transport: TwilioTransport, answers: Any) -> None:
    results = [*transport.send_many([sms(), sms(to=BOB_FAN)]), transport.send(sms())]
    answers.put([r.ok for r in results])


def test_a_forked_worker_builds_its_own_connections(transport: TwilioTransport, fake: FakeTwilio) -> None:
    transport.send_many([sms()])  # the parent now has a loop thread and pooled connections
    transport.send(sms())
    fork = multiprocessing.get_context("fork")
    answers = fork.Queue()

    child = fork.Process(target=_send_from_forked_child, args=(transport, answers))
    child.start()
    from_child = answers.get(timeout=30)
    child.join(timeout=30)

    assert from_child == [True, True, True]
    assert child.exitcode == 0
    assert [r.ok for r in transport.send_many([sms(), sms(to=BOB_FAN)])] == [True, True]
    assert transport.send(sms()).ok
    assert len(fake.messages) == 2 + 3 + 3


def test_send_many_refuses_a_concurrency_below_one(transport: TwilioTransport) -> None:
    with pytest.raises(ValueError):
        transport.send_many([sms()], concurrency=0)


# -- errors -------------------------------------------------------------------------------------------------


def assert_error(result: SendResult, *, code: int | None, http_status: int | None) -> TransportError:
    assert not result.ok and result.sid is None and result.status is None
    assert result.error is not None
    assert (result.error.code, result.error.http_status) == (code, http_status)
    return result.error


def test_a_recipient_who_replied_stop_is_an_opt_out(transport: TwilioTransport) -> None:
    result = transport.send(sms(to="+15005550004", reference="r"))  # Twilio's magic "blocked" number

    error = assert_error(result, code=21610, http_status=400)
    assert result.reference == "r"
    assert error.opts_out_recipient
    assert not error.retryable
    assert not error.invalid_recipient
    assert "unsubscribed recipient" in error.message


@pytest.mark.parametrize("number, code", [("+15005550001", 21211), ("+15005550009", 21614)])
def test_an_invalid_or_non_mobile_number_is_an_invalid_recipient(
    transport: TwilioTransport, number: str, code: int
) -> None:
    error = assert_error(transport.send(sms(to=number)), code=code, http_status=400)

    assert error.invalid_recipient
    assert not error.retryable
    assert not error.opts_out_recipient


def test_an_unroutable_number_is_neither_invalid_nor_retryable(transport: TwilioTransport) -> None:
    error = assert_error(transport.send(sms(to="+15005550002")), code=21612, http_status=400)

    assert not error.invalid_recipient
    assert not error.retryable


def test_error_messages_never_carry_a_full_phone_number(transport: TwilioTransport) -> None:
    error = assert_error(transport.send(sms(to="+15005550001")), code=21211, http_status=400)

    assert "+15005550001" not in error.message
    assert "+1500•••0001" in error.message


def test_errors_injected_for_a_recipient_apply_to_send_many_too(
    transport: TwilioTransport, fake: FakeTwilio
) -> None:
    fake.fail_recipient(BOB_FAN, 21614)

    results = transport.send_many([sms(to=ALICE_FAN), sms(to=BOB_FAN), sms(to=ALICE_FAN)])

    assert [r.ok for r in results] == [True, False, True]
    assert assert_error(results[1], code=21614, http_status=400).invalid_recipient


@pytest.mark.parametrize(
    "status, code",
    [(429, 20429), (500, 20500), (503, 20503)],
)
def test_too_many_requests_and_server_errors_are_retryable(
    transport: TwilioTransport, fake: FakeTwilio, status: int, code: int
) -> None:
    fake.fail_next(2, status=status)

    results = transport.send_many([sms(to=fan(i), reference=str(i)) for i in range(4)], concurrency=1)

    for result in results[:2]:
        assert assert_error(result, code=code, http_status=status).retryable
    assert all(r.ok for r in results[2:])
    assert fake.stats()["by_status"] == {str(status): 2, "201": 2}


def test_a_proxy_error_page_without_a_twilio_code_is_retryable(
    transport: TwilioTransport, fake: FakeTwilio
) -> None:
    fake.fail_next(2, status=502, html=True)

    one = transport.send(sms())
    (many,) = transport.send_many([sms()])

    for result in (one, many):
        assert assert_error(result, code=None, http_status=502).retryable


def test_a_full_sender_queue_is_retryable(transport: TwilioTransport, fake: FakeTwilio) -> None:
    fake.fail_recipient(BOB_FAN, 30001)

    queue_full = assert_error(transport.send(sms(from_="+15005550008")), code=21611, http_status=400)
    overflow = assert_error(transport.send(sms(to=BOB_FAN)), code=30001, http_status=400)

    assert queue_full.retryable and overflow.retryable


def test_wrong_credentials_are_refused_and_not_retryable(fake: FakeTwilio) -> None:
    wrong = TwilioTransport(account_sid=fake.account_sid, auth_token="not-the-token", base_url=fake.base_url)
    try:
        error = assert_error(wrong.send(sms()), code=20003, http_status=401)
        (batch_result,) = wrong.send_many([sms()])
    finally:
        wrong.close()

    assert not error.retryable
    assert assert_error(batch_result, code=20003, http_status=401) is not None
    assert fake.messages == []
    assert fake.stats()["rejected"] == 2


def test_a_refused_connection_is_retryable() -> None:
    nobody = TwilioTransport(
        account_sid="AC" + "0" * 32, auth_token="t", base_url=f"http://127.0.0.1:{free_port()}"
    )
    try:
        one = nobody.send(sms())
        many = nobody.send_many([sms(), sms(to=BOB_FAN)])
    finally:
        nobody.close()

    for result in [one, *many]:
        error = assert_error(result, code=None, http_status=None)
        assert error.connection_error and error.retryable


def test_a_timeout_is_retryable(fake: FakeTwilio) -> None:
    fake.set_latency(1.0)
    slow = TwilioTransport(
        account_sid=fake.account_sid, auth_token=fake.auth_token, base_url=fake.base_url, timeout=0.2
    )
    try:
        one = slow.send(sms())
        (many,) = slow.send_many([sms()])
    finally:
        slow.close()

    for result in (one, many):
        error = assert_error(result, code=None, http_status=None)
        assert error.connection_error and error.retryable


def test_the_fake_requires_to_and_from(transport: TwilioTransport) -> None:
    assert_error(transport.send(sms(to="")), code=21604, http_status=400)
    assert_error(transport.send(sms(from_="")), code=21603, http_status=400)


def test_a_transport_error_survives_pickling_with_its_fields() -> None:
    pickled = pickle.dumps(TransportError("Too Many Requests", code=20429, http_status=429))
    error = pickle.loads(pickled)  # noqa: S301 (our own bytes)

    assert (error.message, error.code, error.http_status, error.retryable) == (
        "Too Many Requests",
        20429,
        429,
        True,
    )


def test_a_delivery_error_from_a_status_callback_can_be_classified() -> None:
    assert TransportError("Queue overflow", code=30001).retryable
    assert not TransportError("Carrier filtered", code=30007).retryable


def test_a_send_result_has_a_sid_or_an_error_never_both() -> None:
    with pytest.raises(ValueError):
        SendResult(reference=None, sid=None, status=None, error=None)
    with pytest.raises(ValueError):
        SendResult(reference=None, sid="SM1", status="queued", error=TransportError("x"))


# -- the base URL -------------------------------------------------------------------------------------------


def test_the_default_base_url_leaves_twilio_urls_alone() -> None:
    rebase = _Rebaser(DEFAULT_API_BASE_URL + "/")

    assert rebase("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json") == (
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
    )


def test_another_base_url_takes_over_every_twilio_domain() -> None:
    rebase = _Rebaser("http://127.0.0.1:8123/twilio")

    assert rebase("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=2") == (
        "http://127.0.0.1:8123/twilio/2010-04-01/Accounts/AC1/Messages.json?PageSize=2"
    )
    assert rebase("https://messaging.twilio.com/v1/Services") == "http://127.0.0.1:8123/twilio/v1/Services"
    assert rebase("https://api.dublin.ie1.twilio.com/x") == "http://127.0.0.1:8123/twilio/x"
    assert rebase("https://example.org/not-twilio") == "https://example.org/not-twilio"


def test_a_base_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError):
        TwilioTransport(account_sid="AC1", auth_token="t", base_url="api.twilio.com")


def test_twilio_environment_variables_do_not_leak_into_the_client(
    fake: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "9" * 32)
    isolated = TwilioTransport(
        account_sid=fake.account_sid, auth_token=fake.auth_token, base_url=fake.base_url
    )
    try:
        assert (isolated.client.region, isolated.client.edge) == (None, None)
        assert isolated.client.account_sid == fake.account_sid
        assert isolated.send(sms()).ok
    finally:
        isolated.close()


# -- status callbacks ---------------------------------------------------------------------------------------


class _Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)

    @property
    def port(self) -> int:
        return self.server_address[1]


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        form = dict(parse_qsl(self.rfile.read(length).decode()))
        with self.server.lock:
            self.server.requests.append({"path": self.path, "headers": dict(self.headers), "form": form})
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_status_callbacks_are_signed_like_twilios(
    transport: TwilioTransport, fake: FakeTwilio, receiver: _Receiver
) -> None:
    url = f"http://127.0.0.1:{receiver.port}/webhooks/twilio/status/"
    results = transport.send_many([sms(to=fan(i), status_callback=url) for i in range(3)] + [sms()])

    delivered = fake.send_status_callbacks(status="delivered")

    assert [d["http_status"] for d in delivered] == [204, 204, 204]
    assert sorted(r["form"]["MessageSid"] for r in receiver.requests) == sorted(r.sid for r in results[:3])
    validator = transport.request_validator()
    for request in receiver.requests:
        form = request["form"]
        assert request["path"] == "/webhooks/twilio/status/"
        assert form["MessageStatus"] == form["SmsStatus"] == "delivered"
        assert form["SmsSid"] == form["MessageSid"]
        assert form["AccountSid"] == fake.account_sid and form["ApiVersion"] == "2010-04-01"
        assert form["From"] == SENDER and form["To"].startswith("+1202555")
        assert "ErrorCode" not in form
        assert validator.validate(url, form, request["headers"]["X-Twilio-Signature"])
        assert not validator.validate(
            url, {**form, "MessageStatus": "failed"}, request["headers"]["X-Twilio-Signature"]
        )


def test_a_failure_callback_carries_the_error_code_and_updates_the_message(
    transport: TwilioTransport, fake: FakeTwilio, receiver: _Receiver
) -> None:
    url = f"http://127.0.0.1:{receiver.port}/webhooks/twilio/status/"
    first, second = transport.send_many([sms(status_callback=url), sms(to=BOB_FAN, status_callback=url)])

    fake.send_status_callbacks(status="undelivered", error_code=30007, sids=[second.sid])

    (request,) = receiver.requests
    assert request["form"]["MessageSid"] == second.sid
    assert request["form"]["ErrorCode"] == "30007"
    fetched = transport.client.messages(second.sid).fetch()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30007)
    assert transport.client.messages(first.sid).fetch().status == "queued"


def test_status_callbacks_reach_localhost_subdomains_with_their_host_header(
    transport: TwilioTransport, fake: FakeTwilio, receiver: _Receiver
) -> None:
    url = f"http://alice.localhost:{receiver.port}/webhooks/twilio/status/"
    transport.send(sms(status_callback=url))

    (result,) = fake.send_status_callbacks(status="sent")

    assert result["http_status"] == 204
    (request,) = receiver.requests
    assert request["headers"]["Host"] == f"alice.localhost:{receiver.port}"
    assert transport.request_validator().validate(
        url, request["form"], request["headers"]["X-Twilio-Signature"]
    )


def test_status_callbacks_can_be_sent_elsewhere_with_another_host_header(
    transport: TwilioTransport, fake: FakeTwilio, receiver: _Receiver
) -> None:
    url = "https://community.example.org/webhooks/twilio/status/"
    transport.send(sms(status_callback=url))

    fake.send_status_callbacks(connect_to=f"http://127.0.0.1:{receiver.port}", host="alice.example.org")

    (request,) = receiver.requests
    assert request["headers"]["Host"] == "alice.example.org"
    assert transport.request_validator().validate(
        url, request["form"], request["headers"]["X-Twilio-Signature"]
    )


def test_the_fake_runs_in_its_own_process_too(receiver: _Receiver) -> None:
    with FakeTwilioProcess() as process:
        remote = TwilioTransport(
            account_sid=process.account_sid, auth_token=process.auth_token, base_url=process.base_url
        )
        try:
            process.fail_recipient(BOB_FAN, 21610)
            url = f"http://127.0.0.1:{receiver.port}/status"
            results = remote.send_many([sms(status_callback=url), sms(to=BOB_FAN)])
            assert results[0].ok and results[1].error is not None and results[1].error.opts_out_recipient
            assert [m["sid"] for m in process.messages] == [results[0].sid]
            assert process.stats()["requests"] == 2
            assert process.send_status_callbacks()[0]["http_status"] == 204
            process.clear()
            assert process.messages == []
        finally:
            remote.close()
    assert receiver.requests[0]["form"]["MessageSid"] == results[0].sid


# -- personal data ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number, masked",
    [
        ("+12025550142", "+1202•••0142"),
        ("+33612345678", "+3361•••5678"),
        ("+4791234567", "+479•••4567"),
        ("whatsapp:+12025550142", "whatsapp:+1202•••0142"),
        ("+6831234", "+•••34"),
        ("12345", "•••45"),
        ("not a number", "•••"),
        ("", ""),
    ],
)
def test_mask_phone_keeps_country_area_and_last_four_only(number: str, masked: str) -> None:
    assert phone_mask(number) == masked


def test_log_lines_never_carry_full_numbers(
    fake: FakeTwilio, transport: TwilioTransport, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")

    transport.send(sms(to="+15005550004"))
    transport.send_many([sms(to="+15005550001"), sms(to=ALICE_FAN)])

    assert caplog.records
    assert not [r for r in caplog.records if re.search(r"\+\d{7,}", r.getMessage())]


# -- the local transport and get_transport ------------------------------------------------------------------


def test_the_local_transport_sends_nothing_and_answers_sent() -> None:
    local = LocalTransport(auth_token="dev-token")

    results = local.send_many([sms(reference="a"), sms(to=BOB_FAN, reference="b")])

    assert [r.reference for r in results] == ["a", "b"]
    assert all(re.fullmatch(r"SM[0-9a-f]{32}", r.sid or "") and r.status == "sent" for r in results)
    assert len({r.sid for r in results}) == 2


def test_the_local_transport_checks_signatures_made_with_its_own_validator() -> None:
    local = LocalTransport(auth_token="dev-token")
    url = "http://alice.localhost:8000/webhooks/twilio/sms/"
    params = {"From": ALICE_FAN, "Body": "JOIN"}

    signature = local.request_validator().compute_signature(url, params)

    assert local.request_validator().validate(url, params, signature)
    assert not RequestValidator("someone-else").validate(url, params, signature)


@pytest.fixture
def django_settings() -> Any:
    from django.conf import settings

    if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
        settings.configure(SECRET_KEY="transport-tests-secret")
    return settings


def test_get_transport_follows_the_settings(django_settings: Any, fake: FakeTwilio) -> None:
    from django.test import override_settings

    twilio = {"TWILIO_ACCOUNT_SID": fake.account_sid, "TWILIO_AUTH_TOKEN": fake.auth_token}
    with override_settings(TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="", SECRET_KEY="one"):
        local = get_transport()
        assert isinstance(local, LocalTransport)
        assert get_transport() is local
    with override_settings(TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="", SECRET_KEY="two"):
        assert get_transport().auth_token != local.auth_token  # type: ignore[union-attr]
    with override_settings(**twilio, TWILIO_API_BASE_URL=fake.base_url):
        remote = get_transport()
        assert isinstance(remote, TwilioTransport)
        assert get_transport() is remote
        assert remote.send(sms()).ok
        assert remote.request_validator().token == fake.auth_token.encode()
    with override_settings(TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="shared-token"):
        local = get_transport()
        assert isinstance(local, LocalTransport) and local.auth_token == "shared-token"


def test_a_replaced_transport_is_closed_once_nobody_uses_it(django_settings: Any, fake: FakeTwilio) -> None:
    import gc

    from django.test import override_settings

    twilio = {"TWILIO_ACCOUNT_SID": fake.account_sid, "TWILIO_AUTH_TOKEN": fake.auth_token}
    with override_settings(**twilio, TWILIO_API_BASE_URL=fake.base_url):
        old = get_transport()
        assert isinstance(old, TwilioTransport) and old.send_many([sms()])[0].ok
    loop_thread = old._connections._thread
    with override_settings(TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN=""):
        get_transport()
    assert old.send(sms()).ok  # still usable by whoever holds it
    assert loop_thread is not None and loop_thread.is_alive()

    del old
    gc.collect()

    loop_thread.join(timeout=5)
    assert not loop_thread.is_alive()


def test_closing_a_transport_mid_batch_cancels_the_batch_instead_of_hanging(fake: FakeTwilio) -> None:
    import concurrent.futures
    import time

    fake.set_latency(0.5)
    busy = TwilioTransport(account_sid=fake.account_sid, auth_token=fake.auth_token, base_url=fake.base_url)
    outcome: list[BaseException | list[SendResult]] = []

    def send() -> None:
        try:
            outcome.append(busy.send_many([sms() for _ in range(20)], concurrency=2))
        except BaseException as exc:
            outcome.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(0.2)
    busy.close()
    sender.join(timeout=10)

    assert not sender.is_alive()
    assert isinstance(outcome[0], concurrent.futures.CancelledError)
    fake.set_latency(0)
    assert busy.send_many([sms()])[0].ok  # rebuilt on use
    busy.close()


# -- the HTTP client under twilio-python --------------------------------------------------------------------


class _Scripted(threading.Thread):
    """A server that answers each request on one connection with the next of `answers`, bytes as given."""

    def __init__(self, answers: list[bytes]) -> None:
        super().__init__(daemon=True)
        self.answers = answers
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]

    def run(self) -> None:
        while self.answers:
            conn, _ = self.listener.accept()
            self.connections += 1
            with conn:
                while self.answers:
                    request = b""
                    while b"\r\n\r\n" not in request:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        request += chunk
                    if not request:
                        break
                    head, _, body = request.partition(b"\r\n\r\n")
                    length = re.search(rb"(?i)content-length: *(\d+)", head)
                    while length and len(body) < int(length.group(1)):
                        body += conn.recv(65536)
                    self.requests.append(head + b"\r\n\r\n" + body)
                    answer = self.answers.pop(0)
                    conn.sendall(answer)
                    if (
                        b"Connection: close" in answer
                        or b"Content-Length" not in answer
                        and b"chunked" not in answer
                    ):
                        break


def _request(port: int, *, method: str = "POST", data: dict[str, object] | None = None) -> Any:
    import asyncio

    from messaging.twilio.http import _AsyncHttpClient

    async def go() -> list[Any]:
        client = _AsyncHttpClient(rebase=_Rebaser(f"http://127.0.0.1:{port}"), timeout=5)
        try:
            return [
                await client.request(method, f"{DEFAULT_API_BASE_URL}/x.json", data=data or {"A": "1"})
                for _ in range(2)
            ]
        finally:
            await client.close()

    return asyncio.run(go())


def test_the_http_client_reads_chunked_answers_and_reuses_the_connection() -> None:
    chunked = b'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n3;x=1\r\n: 1\r\n1\r\n}\r\n0\r\n\r\n'
    server = _Scripted([chunked, chunked])
    server.start()

    first, second = _request(server.port)

    assert (first.status_code, first.text) == (201, '{"a": 1}')
    assert second.text == '{"a": 1}'
    assert server.connections == 1


def test_the_http_client_reads_an_answer_that_ends_when_the_server_closes() -> None:
    until_close = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"sid": "SM1"}'
    server = _Scripted([until_close, until_close])
    server.start()

    first, second = _request(server.port)

    assert first.text == second.text == '{"sid": "SM1"}'
    assert server.connections == 2  # not reused: the body ended with the connection


def test_the_http_client_sends_the_form_twilio_gave_it_with_its_length() -> None:
    from urllib.parse import urlencode

    ok = b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}"
    server = _Scripted([ok, ok])
    server.start()
    form = {"To": "+12025550142", "Body": "Hé & = +/? 7pm", "MediaUrl": ["a b", "c"], "N": 5}

    _request(server.port, data=form)

    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    assert body.decode() == urlencode(form, doseq=True)
    assert f"Content-Length: {len(body)}".encode() in head
    assert head.startswith(b"POST /x.json HTTP/1.1\r\nHost: 127.0.0.1:")


def test_the_http_client_refuses_a_header_that_would_smuggle_another() -> None:
    import asyncio

    from messaging.twilio.http import _AsyncHttpClient

    async def go() -> None:
        client = _AsyncHttpClient(rebase=_Rebaser(f"http://127.0.0.1:{free_port()}"), timeout=5)
        await client.request("GET", f"{DEFAULT_API_BASE_URL}/x.json", headers={"X-A": "1\r\nX-B: 2"})

    with pytest.raises(ValueError):
        asyncio.run(go())


def test_a_garbled_answer_is_a_retryable_connection_error(fake: FakeTwilio) -> None:
    server = _Scripted([b"SMTP ready\r\n\r\n"])
    server.start()
    garbled = TwilioTransport(
        account_sid=fake.account_sid, auth_token=fake.auth_token, base_url=f"http://127.0.0.1:{server.port}"
    )
    try:
        (result,) = garbled.send_many([sms()])
    finally:
        garbled.close()

    error = assert_error(result, code=None, http_status=None)
    assert error.connection_error and error.retryable


def test_the_fake_answers_a_created_message_with_its_resource_document(fake: FakeTwilio) -> None:
    import json

    import requests

    response = requests.post(
        f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json",
        data={"To": ALICE_FAN, "From": SENDER, "Body": 'Zoë says "hi" & 7pm'},
        auth=(fake.account_sid, fake.auth_token),
        timeout=5,
    )

    assert response.status_code == 201
    (message,) = [m for m in fake._messages if m["sid"] == response.json()["sid"]]
    assert response.json() == json.loads(json.dumps(fake._resource(message)))
