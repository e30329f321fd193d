"""Workflows of the API: tokens, members written by API clients, erasure, webhook endpoints."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from api.models import TOKEN_PREFIX, ApiToken, IdempotencyKey, WebhookEndpoint, WebhookEvent
from api.webhooks import webhook_event_emit, webhook_secret_new, webhook_url_check
from members.consent import consent_record, member_opt_out
from members.models import ConsentRecord, Member
from signup.models import SignupToken

# Fields a client may write; everything else about a member is derived or owned by the platform.
# Erased members keep an anonymous row whose phone is "~<id>": not a number, so nothing can be sent to it.
ERASED_PREFIX = "~"
WRITABLE_FIELDS = ("first_name", "last_name", "gender", "birth_date", "email", "language")


# --- tokens ---------------------------------------------------------------------------------------------
def api_token_hash(raw: str) -> str:
    # A plain SHA-256 is enough: the token has 256 random bits, so there is nothing to brute-force.
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token acting as `user` (with their role); returns it and the raw token, which is never stored.

    Call inside the leader's schema. The caller (console, command) shows the raw token once.
    """
    name = (name or "").strip()[:80] or "API token"
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, token_hash=api_token_hash(raw), display_prefix=raw[: len(TOKEN_PREFIX) + 4]
    )
    return token, raw


def api_token_revoke(*, token: ApiToken) -> bool:
    """Refuse this token from now on. Returns False when it was already revoked."""
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return bool(updated)


# --- members --------------------------------------------------------------------------------------------
def member_payload(member: Member) -> dict[str, Any]:
    from api.serializers import MemberSerializer

    return dict(MemberSerializer(member).data)


def message_payload(message) -> dict[str, Any]:
    """A message as the API shows it: the `data` of `message.received` (call it from the inbound path)."""
    from api.serializers import MessageSerializer

    return dict(MessageSerializer(message).data)


def _place_apply(member: Member, city: str, *, country: str | None) -> None:
    from places.gazetteer import resolve_city

    member.city = city
    place = resolve_city(city, country=country) if city else None
    if place is None:
        member.place_id = None
        member.place_name = ""
        member.latitude = member.longitude = None
        return
    member.place_id = place.geoname_id
    member.place_name = place.name
    member.region = place.region
    member.country = place.country
    member.latitude = place.latitude
    member.longitude = place.longitude
    member.time_zone = place.timezone


@transaction.atomic
def member_upsert(*, leader, data: dict[str, Any], token: ApiToken) -> tuple[Member, bool]:
    """Create the member with this phone (and their consent in the ledger), or update the existing one.

    `data` is validated (MemberCreateSerializer). Returns (member, created). An opted-out member stays opted
    out: only the member can opt back in, by texting START.
    """
    phone = data["phone"]
    consent = data["consent"]
    member = Member.objects.select_for_update().filter(phone=phone).first()
    created = member is None
    if created:
        member = Member(
            phone=phone, country=data.get("phone_country") or "", language=leader.default_language
        )
    for field in WRITABLE_FIELDS:
        if field in data:
            setattr(member, field, data[field] if data[field] is not None else None)
    if "city" in data:
        _place_apply(member, data["city"], country=data.get("phone_country"))
    if data.get("tags"):
        member.tags = list(dict.fromkeys([*member.tags, *data["tags"]]))
    if created:
        try:
            with transaction.atomic():
                member.save()
        except IntegrityError:
            # Another request created this phone a moment ago: update that member instead.
            return member_upsert(leader=leader, data=data, token=token)
        consent_record(
            member=member,
            phone=phone,
            kind=ConsentRecord.Kind.OPT_IN,
            source=ConsentRecord.Source.API,
            text=consent["text"],
            ip_address=consent.get("ip_address"),
            detail=f"API token {token.display_prefix}… {consent.get('detail', '')}".strip()[:200],
        )
        from leaders.models import Leader

        Leader.count_members_joined(leader.pk)
        webhook_event_emit(name=WebhookEvent.Name.MEMBER_CREATED, payload=member_payload(member))
    else:
        member.save()
        webhook_event_emit(name=WebhookEvent.Name.MEMBER_UPDATED, payload=member_payload(member))
    return member, created


@transaction.atomic
def member_update(*, member: Member, data: dict[str, Any], token: ApiToken) -> Member:
    """Change a member's fields and tags (validated by MemberUpdateSerializer); `status: opted_out` opts out."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    changed = False
    for field in WRITABLE_FIELDS:
        if field in data and getattr(member, field) != data[field]:
            setattr(member, field, data[field])
            changed = True
    if "city" in data and data["city"] != member.city:
        _place_apply(member, data["city"], country=member.country or None)
        changed = True
    tags = list(data["tags"]) if "tags" in data else list(member.tags)
    tags = list(dict.fromkeys([*tags, *data.get("add_tags", [])]))
    tags = [tag for tag in tags if tag not in set(data.get("remove_tags", []))]
    if tags != member.tags:
        member.tags = tags
        changed = True
    if changed:
        member.save()
        webhook_event_emit(name=WebhookEvent.Name.MEMBER_UPDATED, payload=member_payload(member))
    if data.get("status") == Member.Status.OPTED_OUT and member_opt_out(
        member=member, source=ConsentRecord.Source.API, detail=f"API token {token.display_prefix}…"
    ):
        webhook_event_emit(name=WebhookEvent.Name.MEMBER_OPTED_OUT, payload=member_payload(member))
    return member


@transaction.atomic
def member_erase(*, member: Member, source: str = ConsentRecord.Source.API, detail: str = "") -> Member:
    """Erase a member's personal data, keeping what counts and proves consent.

    The row stays, as an anonymous tombstone, so counts by country, region, gender, language and join date
    are unchanged; its phone becomes "~<id>" (not a number: nothing can be sent to it), names, email, birth
    date, city, coordinates and tags are cleared, and it is opted out. The consent ledger keeps its rows and
    the keyed phone hash (with an opt-out row for the erasure). Their conversation, messages and signup
    links are deleted, and stored copies of their data (idempotent responses, webhook event payloads) are
    scrubbed.

    Broadcast deliveries are not in this branch yet: at merge, delete or anonymise the member's rows there
    too.
    """
    member = Member.objects.select_for_update().get(pk=member.pk)
    phone = member.phone
    if phone.startswith(ERASED_PREFIX):
        return member  # already erased
    if member.is_subscribed:
        member_opt_out(member=member, source=source, detail=(detail or "erased")[:200])
        webhook_event_emit(
            name=WebhookEvent.Name.MEMBER_OPTED_OUT,
            payload={"id": member.pk, "status": "opted_out", "erased": True},
        )
    from messaging.models import Conversation, Message

    Conversation.objects.filter(phone=phone).delete()  # and its messages
    Message.objects.filter(phone=phone).delete()
    SignupToken.objects.filter(phone=phone).delete()
    IdempotencyKey.objects.filter(response_body__phone=phone).delete()
    erased = {"id": member.pk, "erased": True}
    WebhookEvent.objects.filter(name__startswith="member.", payload__id=member.pk).update(payload=erased)
    WebhookEvent.objects.filter(name=WebhookEvent.Name.MESSAGE_RECEIVED, payload__phone=phone).update(
        payload={"erased": True}
    )
    Member.objects.filter(pk=member.pk).update(
        phone=f"{ERASED_PREFIX}{member.pk}",
        first_name="",
        last_name="",
        birth_date=None,
        email="",
        city="",
        place_id=None,
        place_name="",
        latitude=None,
        longitude=None,
        tags=[],
        status=Member.Status.OPTED_OUT,
        opted_out_at=member.opted_out_at or timezone.now(),
        updated_at=timezone.now(),
    )
    member.refresh_from_db()
    return member


# --- webhook endpoints ----------------------------------------------------------------------------------
def webhook_endpoint_create(
    *, url: str, events: list[str], description: str = "", created_by=None
) -> WebhookEndpoint:
    """Register a receiver (inside the leader's schema). WebhookUrlError for URLs we refuse to call."""
    webhook_url_check(url, resolve=False)
    return WebhookEndpoint.objects.create(
        url=url,
        events=sorted(set(events)),
        description=description,
        secret=webhook_secret_new(),
        created_by=created_by,
    )


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Stop sending to a receiver. The row stays (inactive) so its delivery log can still be read;
    deliveries still pending to it fail instead of being sent."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    endpoint.is_active = False


# --- broadcasts -----------------------------------------------------------------------------------------
class BroadcastRefusedError(Exception):
    """A valid broadcast the leader's state or settings refuse (suspended, above the approval threshold)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def broadcast_api_create(
    *,
    leader,
    body: str,
    audience,
    send_at=None,
    ignore_quiet_hours: bool = False,
    created_by=None,
):
    """Create a broadcast from the API and send it now or at `send_at`, in one transaction.

    Broadcasts to more members than the leader's approval threshold need a second teammate's approval,
    which a token cannot give: the API refuses them (BroadcastRefusedError "approval_required") rather than
    send them unapproved. The audience is counted now; a scheduled broadcast's audience is counted again
    when it starts. BroadcastError (from the engine) when the body or schedule is not valid.
    """
    from members.audience import audience_count
    from messaging.broadcasts.compose import broadcast_create, broadcast_send

    if not leader.is_active:
        raise BroadcastRefusedError("leader_suspended", "This leader is suspended: nothing can be sent.")
    count = audience_count(audience, on=timezone.now().astimezone(leader.zone).date())
    if count > leader.approval_threshold:
        raise BroadcastRefusedError(
            "approval_required",
            f"This broadcast would reach {count} members, above the approval threshold of "
            f"{leader.approval_threshold}: it needs a second teammate's approval, which the API cannot "
            "give. Narrow the audience, or ask the owner to raise the threshold.",
        )
    with transaction.atomic():
        broadcast = broadcast_create(
            leader=leader,
            body=body,
            filters=audience.to_dict(),
            send_at=send_at,
            ignore_quiet_hours=ignore_quiet_hours,
            created_by=created_by,
        )
        broadcast_send(leader=leader, broadcast=broadcast)
    return broadcast
