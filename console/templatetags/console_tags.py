from django import template
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.phones import phone_mask_for_fan
from console.masking import phone_for_request
from console.members.forms import MEMBER_GENDER_LABELS, MEMBER_STATUS_LABELS

register = template.Library()

_LABELS = {
    "status": MEMBER_STATUS_LABELS,
    "gender": MEMBER_GENDER_LABELS,
    "consent_kind": {"opt_in": _("Opted in"), "opt_out": _("Opted out")},
    "consent_source": {
        "web_form": _("Signup form"),
        "sms_keyword": _("Text keyword"),
        "carrier": _("Carrier (recipient unsubscribed)"),
        "import": _("Import"),
        "api": _("API"),
        "console": _("Console"),
    },
    "interest_source": {
        "survey": _("Survey answer"),
        "keyword": _("Text keyword"),
        "signup": _("Signup form"),
        "api": _("API"),
        "console": _("Console"),
        "import": _("Import"),
    },
    "role": {"owner": _("Owner"), "manager": _("Manager"), "responder": _("Responder")},
    "sms_status": {
        "queued": _("Queued"),
        "sending": _("Sending"),
        "wired": _("Handed to Twilio"),
        "sent": _("Sent"),
        "delivered": _("Delivered"),
        "undelivered": _("Undelivered"),
        "failed": _("Failed"),
        "received": _("Received"),
    },
}


@register.filter
def label(value: str, kind: str) -> str:
    """The translated label of a stored choice: {{ member.status|label:"status" }}."""
    return _LABELS.get(kind, {}).get(value, value)


@register.simple_tag(takes_context=True)
def phone(context, number) -> str:
    """A phone number as the reader may see it (console/masking.py): {% phone conversation.phone %}."""
    request = context.get("request")
    return (
        phone_for_request(request, number) if request is not None else phone_mask_for_fan(str(number or ""))
    )


@register.simple_tag
def overdue_by(due) -> str:
    """ "Overdue by 2 h" for a reply time in the past, "" otherwise: {% overdue_by c.reply_due_at as late %}."""
    if due is None:
        return ""
    late = timezone.now() - due
    if late.total_seconds() <= 0:
        return ""
    minutes = int(late.total_seconds() // 60)
    if minutes < 60:
        return _("Overdue by %(n)d min") % {"n": max(minutes, 1)}
    if minutes < 48 * 60:
        return _("Overdue by %(n)d h") % {"n": minutes // 60}
    return _("Overdue by %(n)d d") % {"n": minutes // (24 * 60)}
