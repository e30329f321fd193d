"""Phone numbers as a console reader may see them. Every page, export and title of the console shows a number
through `phone_for` (templates: `{% phone number %}` from console_tags); the rule itself is
`Leader.phones_visible_to`, which the API's serializers follow too.

Owners always see numbers in full; responders never do (they answer texts: the thread is what they need, and
a number copied out of the console is a fan's privacy gone); managers do unless the owner turned it off
(`Leader.managers_see_phones`, on the settings page). A masked number is "•••• 0142"
(`common.phones.phone_mask_for_fan`): enough to tell two fans apart, too little to call one.

A masked reader may still find a member by the full number (a fan who gave it on the phone), but only by
the exact number: a prefix or suffix search would let them read the hidden digits one guess at a time
(console/members/views.py).
"""

from __future__ import annotations

from common.phones import phone_mask_for_fan


def phones_visible(user, leader) -> bool:
    return leader is not None and leader.phones_visible_to(user)


def phone_for(user, leader, phone: str) -> str:
    """`phone` as this reader may see it."""
    if not phone:
        return ""
    return str(phone) if phones_visible(user, leader) else phone_mask_for_fan(str(phone))


def phone_for_request(request, phone: str) -> str:
    return phone_for(getattr(request, "user", None), getattr(request, "tenant", None), phone)
