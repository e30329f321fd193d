"""The demo leader that `make run` brings up, with its team and a staff login."""

from __future__ import annotations

from accounts.models import User
from leaders.models import Leader
from leaders.services import leader_create, leader_user_create

DEMO_SLUG = "demo"
DEMO_PASSWORD = "community-demo"  # noqa: S105 - the documented demo login, printed by make run
DEMO_TEAM = (("owner", "owner"), ("manager", "manager"), ("responder", "responder"))
STAFF_USERNAME = "staff"


def demo_leader_ensure() -> tuple[Leader, bool]:
    """The demo leader, created with its team on first use; (leader, created)."""
    leader = Leader.objects.filter(slug=DEMO_SLUG).first()
    if leader:
        return leader, False
    leader = leader_create(
        slug=DEMO_SLUG,
        name="Maya Fuentes",
        phone_number="+12025550100",
        countries=["US", "CA", "MX", "FR", "ES", "DE", "MA", "EG"],
    )
    for username, role in DEMO_TEAM:
        leader_user_create(
            leader=leader,
            username=username,
            role=role,
            password=DEMO_PASSWORD,
            email=f"{username}@example.org",
        )
    return leader, True


def staff_user_ensure() -> User:
    user = User.objects.filter(username=STAFF_USERNAME).first()
    return user or User.objects.create_superuser(STAFF_USERNAME, "staff@example.org", DEMO_PASSWORD)
