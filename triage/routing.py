"""Routing: a triaged conversation to a team by the first matching rule, then to its least-loaded teammate,
with the rule's response-time target; and the team's own workflows on teams and rules.

A conversation is routed once per unanswered stretch: the fan's texts since the team's last reply. Texts a
teammate already answered (a replayed backlog, a reply sent before triage caught up) and conversations
marked done set nothing. A conversation someone already has keeps its teammate (the fan goes on talking to
the same person); its due time still comes from the rule. The rule's clock starts at the stretch's first
text, and a due time already set is never pushed later (LEAST). Replies and "done" clear it
(messaging.services.conversation_answered).

Everything runs in the current leader's schema, in a constant number of statements per batch whatever its
size: the conversations (locked, so a reply committed meanwhile is not overwritten), the last replies, the
rules, the teammates' loads, then one UPDATE and one upsert.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from messaging.models import Conversation
from places.gazetteer import region_names_for
from triage.models import Route, Rule, Team

# Roles that answer texts: a row with another role (platform staff never are in a leader's schema) gets none.
ANSWERING_ROLES = ("owner", "manager", "responder")
MAX_RESPONSE_MINUTES = 60 * 24 * 30  # a month: a longer target is a typo
MAX_RULES = 200

_LAST_REPLIES_SQL = """
SELECT conversation_id, max(created_at) FROM messaging_message
WHERE conversation_id = ANY(%s) AND direction = 'out' AND sent_by_id IS NOT NULL
GROUP BY conversation_id
"""

# Each candidate's open conversations (the load), along the (assigned_to, -last_message_at) index, and when
# routing last gave them one (the tie-break: the longest without goes first), along triage_route_assignee.
_LOADS_SQL = """
SELECT u.id,
    (SELECT count(*) FROM messaging_conversation c WHERE c.assigned_to_id = u.id AND c.status = 'open'),
    (SELECT max(r.routed_at) FROM triage_route r WHERE r.assigned_to_id = u.id)
FROM unnest(%s::bigint[]) AS u(id)
"""

_CANDIDATES_SQL = """
SELECT tu.team_id, u.id FROM triage_team_users tu JOIN accounts_user u ON u.id = tu.user_id
WHERE tu.team_id = ANY(%s) AND u.is_active AND u.role = ANY(%s)
"""

# Assignment only where no one has it (a teammate may have taken it since it was read); due time only ever
# earlier (LEAST ignores NULL).
_APPLY_SQL = """
UPDATE messaging_conversation c
SET assigned_to_id = COALESCE(c.assigned_to_id, v.user_id), reply_due_at = LEAST(c.reply_due_at, v.due)
FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[]) AS v(id, user_id, due)
WHERE c.id = v.id
"""


def rule_matches(rule: Rule, *, topic_id: int | None, country: str, region: str) -> bool:
    """Topic and/or place: each part the rule names must be the text's; a rule naming neither is a
    catch-all. A region is compared with its country, case and spacing aside (gazetteer names)."""
    if rule.topic_id is not None and rule.topic_id != topic_id:
        return False
    if rule.country and rule.country.upper() != (country or "").upper():
        return False
    return not rule.region or _folded(rule.region) == _folded(region)


def _folded(text: str) -> str:
    return " ".join((text or "").split()).casefold()


def rule_for(rules: Sequence[Rule], *, topic_id: int | None, country: str, region: str) -> Rule | None:
    """The first rule (by position) a text matches, None when none does."""
    for rule in rules:
        if rule_matches(rule, topic_id=topic_id, country=country, region=region):
            return rule
    return None


@dataclass
class _Plan:
    conversation_id: int
    rule: Rule
    due: datetime.datetime | None
    assign: bool


def conversations_route(*, labels: Sequence) -> None:
    """Route the conversations of freshly written `labels` (triage.models.Label) that no teammate has yet.
    Called by the triage batch, in the leader's schema, after the labels are saved."""
    by_conversation: dict[int, list] = {}
    for label in labels:
        if label.conversation_id is not None:
            by_conversation.setdefault(label.conversation_id, []).append(label)
    if not by_conversation:
        return
    rules = list(Rule.objects.all())
    if not rules:
        return
    with transaction.atomic():
        conversations = {
            row["id"]: row
            for row in Conversation.objects.filter(
                pk__in=list(by_conversation), status=Conversation.Status.OPEN
            )
            .order_by("id")
            .select_for_update()
            .values("id", "assigned_to_id", "reply_due_at")
        }
        if not conversations:
            return
        with connection.cursor() as cursor:
            cursor.execute(_LAST_REPLIES_SQL, [list(conversations)])
            last_reply = dict(cursor.fetchall())
        plans = []
        for conversation_id, row in conversations.items():
            answered = last_reply.get(conversation_id)
            waiting = sorted(
                (
                    label
                    for label in by_conversation[conversation_id]
                    if answered is None or label.received_at > answered
                ),
                key=lambda label: label.received_at,
            )
            # The stretch's first text that some rule matches decides the team.
            rule = None
            for label in waiting:
                rule = rule_for(rules, topic_id=label.topic_id, country=label.country, region=label.region)
                if rule is not None:
                    break
            if rule is None:
                continue
            due = None
            if rule.response_minutes is not None:
                due = waiting[0].received_at + datetime.timedelta(minutes=rule.response_minutes)
            plans.append(_Plan(conversation_id, rule, due, assign=row["assigned_to_id"] is None))
        if not plans:
            return
        assignees = _assignees([plan for plan in plans if plan.assign])
        with connection.cursor() as cursor:
            cursor.execute(
                _APPLY_SQL,
                [
                    [plan.conversation_id for plan in plans],
                    [assignees.get(plan.conversation_id) for plan in plans],
                    [plan.due for plan in plans],
                ],
            )
        now = timezone.now()
        given = [plan for plan in plans if plan.conversation_id in assignees]
        kept = [plan for plan in plans if plan.conversation_id not in assignees]
        # A conversation given to someone now records who and when (the next tie-break reads it); one that
        # keeps its teammate only records the team and rule it matched, so its teammate's turn is not spent.
        for batch, fields in (
            (given, ["team", "rule", "routed_at", "assigned_to"]),
            (kept, ["team", "rule"]),
        ):
            if batch:
                Route.objects.bulk_create(
                    [
                        Route(
                            conversation_id=plan.conversation_id,
                            team_id=plan.rule.team_id,
                            rule=plan.rule,
                            routed_at=now,
                            assigned_to_id=assignees.get(plan.conversation_id),
                        )
                        for plan in batch
                    ],
                    update_conflicts=True,
                    unique_fields=["conversation"],
                    update_fields=fields,
                )


def _assignees(plans: list[_Plan]) -> dict[int, int]:
    """conversation id → the teammate it goes to: per team, the active teammate with the fewest open
    conversations, ties to the one longest without a new one; each assignment counts for the next."""
    team_ids = sorted({plan.rule.team_id for plan in plans})
    if not team_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATES_SQL, [team_ids, list(ANSWERING_ROLES)])
        members = cursor.fetchall()
        user_ids = sorted({user_id for _team, user_id in members})
        loads: dict[int, tuple[int, datetime.datetime | None]] = {}
        if user_ids:
            cursor.execute(_LOADS_SQL, [user_ids])
            loads = {user_id: (count, last) for user_id, count, last in cursor.fetchall()}
    # One shared state per teammate: someone in two teams is loaded by both.
    state = {user_id: list(loads.get(user_id, (0, None))) for user_id in user_ids}
    teams: dict[int, list[int]] = {}
    for team_id, user_id in members:
        teams.setdefault(team_id, []).append(user_id)
    never = datetime.datetime.min.replace(tzinfo=datetime.UTC)
    tick = 0
    chosen: dict[int, int] = {}
    for plan in plans:
        candidates = teams.get(plan.rule.team_id)
        if not candidates:
            continue  # a team with no active teammate: routed to the team, given to no one
        # A few teammates per team: a scan is as quick as a heap per team and keeps shared state simple.
        user_id = min(candidates, key=lambda uid: (state[uid][0], state[uid][1] or never, uid))
        tick += 1
        state[user_id][0] += 1
        state[user_id][1] = timezone.now() + datetime.timedelta(microseconds=tick)
        chosen[plan.conversation_id] = user_id
    return chosen


# -- teams and rules (the console's routing pages) --------------------------------------------------------


def _teammates(user_ids: Iterable[int]) -> list:
    """The leader's teammates with these ids; ValidationError when any is not one (another schema's id, a
    deleted user, staff)."""
    wanted = {int(user_id) for user_id in user_ids}
    found = list(get_user_model().objects.filter(pk__in=wanted, role__in=ANSWERING_ROLES))
    if len(found) != len(wanted):
        raise ValidationError(_("Choose teammates from the list."))
    return found


def team_save(*, team: Team | None = None, name: str, user_ids: Iterable[int]) -> Team:
    """Create a team (team=None) or rename it and set its teammates."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(_("Give the team a name."))
    if Team.objects.filter(name__iexact=name).exclude(pk=team.pk if team else None).exists():
        raise ValidationError(_("A team with this name already exists."))
    users = _teammates(user_ids)
    with transaction.atomic():
        if team is None:
            team = Team.objects.create(name=name)
        else:
            team.name = name
            team.save(update_fields=["name"])
        team.users.set(users)
    return team


def team_delete(*, team: Team) -> None:
    """A team goes with its rules (their conversations keep their teammate and due time)."""
    team.delete()


def rule_save(
    *,
    rule: Rule | None = None,
    team: Team | None,
    topic=None,
    country: str = "",
    region: str = "",
    response_minutes: int | None = None,
) -> Rule:
    """Create a rule (at the end of the list) or change one. Checked here, whoever calls."""
    country = (country or "").strip().upper()
    region = " ".join((region or "").split())
    if team is None:
        raise ValidationError(_("Choose the team this rule routes to."))
    if country and (len(country) != 2 or not country.isalpha() or not country.isascii()):
        raise ValidationError(_("A country is a two-letter code (US, CA, MX)."))
    if region and not country:
        raise ValidationError(_("Give the region's country too."))
    if region:
        # Stored as the gazetteer names it, the name triage gives a text's place ("québec" → "Quebec").
        names = region_names_for(region)
        if not names:
            raise ValidationError(_("No region is called “%(region)s”.") % {"region": region})
        region = names[0]
    if response_minutes is not None and not 1 <= response_minutes <= MAX_RESPONSE_MINUTES:
        raise ValidationError(
            _("A response time is between 1 and %(max)d minutes.") % {"max": MAX_RESPONSE_MINUTES}
        )
    with transaction.atomic():
        if rule is None:
            if Rule.objects.count() >= MAX_RULES:
                raise ValidationError(_("A leader has at most %(n)d rules.") % {"n": MAX_RULES})
            last = Rule.objects.order_by("-position").values_list("position", flat=True).first()
            rule = Rule(position=(last + 1) if last is not None else 0)
        rule.team = team
        rule.topic = topic
        rule.country = country
        rule.region = region
        rule.response_minutes = response_minutes
        rule.save()
    return rule


def rule_delete(*, rule: Rule) -> None:
    rule.delete()


def rule_move(*, rule: Rule, offset: int) -> None:
    """Up (-1) or down (+1) one place; positions are rewritten 0..n-1 so they stay distinct."""
    with transaction.atomic():
        rules = list(Rule.objects.select_for_update().order_by("position", "id"))
        index = next(i for i, row in enumerate(rules) if row.pk == rule.pk)
        target = max(0, min(len(rules) - 1, index + offset))
        rules.insert(target, rules.pop(index))
        for position, row in enumerate(rules):
            if row.position != position:
                row.position = position
                Rule.objects.filter(pk=row.pk).update(position=position)
