"""Workflows of the API: tokens, members written by API clients, erasure, webhook endpoints."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from api.models import TOKEN_PREFIX, ApiToken, WebhookEndpoint
from api.serializers import MemberSerializer, MessageSerializer
from api.webhooks import webhook_secret_new, webhook_url_check
from common import events
from leaders.models import Leader
from members.audience import audience_count
from members.consent import consent_record, member_opt_out, members_opt_out_keep
from members.models import ConsentRecord, Member
from messaging.broadcasts.compose import broadcast_create, broadcast_send
from places.gazetteer import resolve_city

# Fields a client may write; everything else about a member is derived or owned by the platform.
WRITABLE_FIELDS = ("first_name", "last_name", "gender", "birth_date", "email", "language")


# --- tokens ---------------------------------------------------------------------------------------------
def api_token_hash(raw: str) -> str:
    # A plain SHA-256 is enough: the token has 256 random bits, so there is nothing to brute-force.
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, user, name: str, created_by=None) -> tuple[ApiToken, str]:
    """A new token acting as `user` (with their role); returns it and the raw token, which is never stored.

    Call inside the leader's schema. The caller (the owners' token page, the command) shows the raw token
    once; `created_by` is the owner who made it there (none from the command line).
    """
    name = (name or "").strip()[:80] or "API token"
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        token_hash=api_token_hash(raw),
        display_prefix=raw[: len(TOKEN_PREFIX) + 4],
        created_by=created_by,
    )
    return token, raw


def api_token_revoke(*, token: ApiToken) -> bool:
    """Refuse this token from now on. Returns False when it was already revoked."""
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return bool(updated)


# --- members --------------------------------------------------------------------------------------------
def member_payload(member: Member) -> dict[str, Any]:
    return dict(MemberSerializer(member).data)


def message_payload(message) -> dict[str, Any]:
    """A message as the API shows it: the `data` of `message.received` (call it from the inbound path) and
    of `message.triaged`. Load it with its label (`api.selectors.messages_with_triage`) to save a query."""

    return dict(MessageSerializer(message).data)


def _place_apply(member: Member, city: str, *, country: str | None) -> None:
    member.city = city
    member.place_set(resolve_city(city, country=country) if city else None)


@dataclasses.dataclass(frozen=True)
class MemberUpserted:
    member: Member
    created: bool
    # The phone asked to stop and never asked to start again (members.consent.members_opt_out_keep): the
    # member is opted out, and the consent the client sent was not recorded.
    kept_opted_out: bool


@transaction.atomic
def member_upsert(*, leader, data: dict[str, Any], token: ApiToken) -> MemberUpserted:
    """Create the member with this phone (and their consent in the ledger), or update the existing one.

    `data` is validated (MemberCreateSerializer). A phone that opted out stays opted out, member or not yet
    (STOP before joining, an erased member's phone): the member is created or kept opted out and the
    consent sent is not recorded. Only the phone can opt back in, by texting START (or signing up through a
    link texted to it after it did).
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
    kept_opted_out = bool(members_opt_out_keep([member]))
    if created:
        try:
            with transaction.atomic():
                member.save()
        except IntegrityError:
            # Another request created this phone a moment ago: update that member instead.
            return member_upsert(leader=leader, data=data, token=token)
    if created and not kept_opted_out:
        consent_record(
            member=member,
            phone=phone,
            kind=ConsentRecord.Kind.OPT_IN,
            source=ConsentRecord.Source.API,
            text=consent["text"],
            ip_address=consent.get("ip_address"),
            detail=f"API token {token.display_prefix}… {consent.get('detail', '')}".strip()[:200],
        )
    if created:
        Leader.count_members_joined(leader.pk)
    else:
        member.save()
    events.emit(events.MEMBER_SAVED, member=member, created=created)
    return MemberUpserted(member=member, created=created, kept_opted_out=kept_opted_out)


@transaction.atomic
def member_update(*, member: Member, data: dict[str, Any], token: ApiToken) -> Member:
    """Change a member's fields and tags (validated by MemberUpdateSerializer); `status: opted_out` opts out."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    members_opt_out_keep([member])
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
        events.emit(events.MEMBER_SAVED, member=member, created=False)
    if data.get("status") == Member.Status.OPTED_OUT:
        member_opt_out(
            member=member, source=ConsentRecord.Source.API, detail=f"API token {token.display_prefix}…"
        )
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
