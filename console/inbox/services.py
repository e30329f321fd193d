"""Workflows of the inbox: read, reply, assign, done and reopen, canned replies. In the leader's schema."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.consent import text_refusal
from members.models import REFUSED_OPTED_OUT, REFUSED_PHONE_OPTED_OUT, REFUSED_UNREACHABLE
from messaging.models import Conversation, Message
from messaging.services import conversation_answered, reply_signature, text_send

REPLY_MAX_LENGTH = 400  # segments.MAX_BODY_LENGTH: at most 3 GSM-7 or 7 UCS-2 segments

# What the team reads when a reply may not go (members.consent.text_refusal's reasons).
REFUSALS = {
    REFUSED_OPTED_OUT: gettext_lazy("This member opted out (STOP): they cannot be texted."),
    REFUSED_PHONE_OPTED_OUT: gettext_lazy("This phone opted out (STOP): it cannot be texted."),
    REFUSED_UNREACHABLE: gettext_lazy("This number cannot receive texts."),
}


def conversation_mark_read(*, conversation: Conversation) -> None:
    """Opening a thread reads it: one conditional UPDATE, nothing when it was already read."""
    if Conversation.objects.filter(pk=conversation.pk, unread_count__gt=0).update(unread_count=0):
        conversation.unread_count = 0


def conversation_start(*, member, user) -> Conversation:
    """The member's conversation, for a teammate who wants to text them one to one from their page: theirs
    if they have one (a phone has one conversation), else a new one, assigned to that teammate and done
    (nothing of theirs waits for an answer). An erased member has no phone: the caller never gets here."""
    conversation, _created = Conversation.objects.get_or_create(
        phone=member.phone,
        defaults={
            "member": member,
            "status": Conversation.Status.DONE,
            "assigned_to": user,
            "last_message_preview": "",
        },
    )
    return conversation


def conversation_reply(*, leader, conversation: Conversation, body: str, user) -> Message:
    """Send the team's answer through the priority lane (text_send). Refused, with nothing stored, when it
    could not go out: an empty or too long text, a suspended leader, a fan who said STOP."""
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("Write a reply first."))
    # The signature text_send adds counts: the fan gets (and pays segments for) the signed text.
    length = len(body + reply_signature(leader=leader, user=user))
    if length > REPLY_MAX_LENGTH:
        raise ValidationError(
            _("The reply is %(length)d characters long; the limit is %(limit)d.")
            % {"length": length, "limit": REPLY_MAX_LENGTH}
        )
    if not leader.is_active:
        raise ValidationError(_("This community is suspended: no texts are sent."))
    member = conversation.member
    refusal = text_refusal(phone=str(conversation.phone), member=member)
    if refusal:
        raise ValidationError(REFUSALS[refusal])
    with transaction.atomic():
        return text_send(
            leader=leader,
            phone=str(conversation.phone),
            body=body,
            conversation=conversation,
            sent_by=user,
            member=member,
        )


def conversation_assign(*, conversation: Conversation, user) -> None:
    """Give the conversation to a teammate (None: to no one)."""
    Conversation.objects.filter(pk=conversation.pk).update(assigned_to=user)
    conversation.assigned_to = user


def conversation_close(*, conversation: Conversation, user=None) -> None:
    """Done: out of the open folders until the fan writes again (an inbound text reopens it). The fan is
    answered as far as the team is concerned: nothing stays due."""
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(
            status=Conversation.Status.DONE, unread_count=0
        )
        conversation.status = Conversation.Status.DONE
        conversation.unread_count = 0
        conversation_answered(conversation=conversation, by_user_id=user.pk if user is not None else None)


def conversation_reopen(*, conversation: Conversation) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.OPEN)
    conversation.status = Conversation.Status.OPEN
