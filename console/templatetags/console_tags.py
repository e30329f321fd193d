from django import template
from django.utils.translation import gettext_lazy as _

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
