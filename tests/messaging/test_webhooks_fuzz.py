"""Whatever a signed form holds, the webhooks answer 2xx or 4xx: never a 500, never half-written data."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leaders.routing import leader_cache_clear
from tests.messaging.webhooks import SMS_PATH, STATUS_PATH, VOICE_PATH, post_signed

pytestmark = pytest.mark.django_db

# Form text as a client can really post it: no surrogates (not encodable in UTF-8).
form_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
numbers = st.one_of(
    st.sampled_from(["+12025550142", "+15145550199", "+12025550143", "+33639980142", "", "+", "whatsapp:+1"]),
    st.from_regex(r"\+[0-9]{1,17}", fullmatch=True),
    form_text,
)
bodies = st.one_of(
    form_text,
    st.sampled_from(["STOP", " stop! ", "START", "HELP", "opt out", "Hi", "مرحبا", "\x00", "a" * 1700]),
)
sids = st.one_of(st.from_regex(r"(SM|MM|CA)[0-9a-f]{32}", fullmatch=True), form_text, st.just("S" * 64))


@st.composite
def twilio_forms(draw):
    form = {
        "MessageSid": draw(sids),
        "CallSid": draw(sids),
        "From": draw(numbers),
        "To": draw(numbers),
        "Body": draw(bodies),
        "MessageStatus": draw(st.one_of(st.sampled_from(["delivered", "sent", "failed", "read"]), form_text)),
        "ErrorCode": draw(st.one_of(st.sampled_from(["21610", "30007", "", "-1", "99999999999"]), form_text)),
        "NumMedia": draw(form_text),
        "FromCountry": draw(form_text),
        "MediaUrl0": draw(form_text),
    }
    extra = draw(st.dictionaries(form_text.filter(bool), form_text, max_size=4))
    form.update(extra)
    drop = draw(st.sets(st.sampled_from(sorted(form)), max_size=4))
    return {key: value for key, value in form.items() if key not in drop}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=twilio_forms(), path=st.sampled_from([SMS_PATH, VOICE_PATH, STATUS_PATH]))
def test_arbitrary_signed_forms_never_get_a_500(client, world, form, path):
    leader_cache_clear()

    response = post_signed(client, path, form)

    assert response.status_code in (200, 400), (response.status_code, response.content[:300])


@pytest.mark.parametrize("code", ["²", "١٢", "12345678901234567890", " 30007 ", "-1"])
def test_a_status_callback_with_an_odd_error_code_is_answered_not_crashed(client, world, code):
    # Found by the property test above: "²" passes str.isdigit() but not int().
    response = post_signed(
        client, STATUS_PATH, {"MessageSid": "SM" + "0" * 32, "MessageStatus": "failed", "ErrorCode": code}
    )
    assert response.status_code == 200


def _wsgi_post(body: bytes, signature: str) -> tuple[int, bytes]:
    """A POST to the production WSGI application (community.wsgi), in this thread and transaction."""
    import io

    from community.wsgi import application

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": SMS_PATH,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_TWILIO_SIGNATURE": signature,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
    }
    status: list[str] = []
    chunks = application(environ, lambda line, headers: status.append(line))
    return int(status[0].split()[0]), b"".join(chunks)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=twilio_forms())
def test_arbitrary_signed_forms_through_the_wsgi_receiver_never_get_a_500(world, form):
    from urllib.parse import urlencode

    from tests.messaging.webhooks import sign

    leader_cache_clear()

    status, body = _wsgi_post(urlencode(form).encode(), sign(SMS_PATH, form))

    assert status in (200, 400), (status, body[:300])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300), signature=st.one_of(st.just(""), form_text))
def test_arbitrary_bytes_through_the_wsgi_receiver_get_a_4xx(world, body, signature):
    status, answer = _wsgi_post(body, signature)

    assert status in (400, 403), (status, answer[:300])
