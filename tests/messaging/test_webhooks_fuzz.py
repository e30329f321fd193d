"""Whatever a signed form holds, the webhooks answer 2xx or 4xx: never a 500, never half-written data."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging.services import leader_cache_clear
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
