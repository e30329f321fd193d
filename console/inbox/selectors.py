"""Reads for the inbox: the conversation list (folders, filters, keyset pages) and a thread.

Everything runs in the current leader's schema. The list is keyset-paginated on (last_message_at, id), newest
first, along the conversation indexes (messaging/models.py), so a later page costs what the first does.
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from messaging.broadcasts.selectors import conversation_with_broadcasts
from messaging.models import Conversation, Message
from triage.selectors import Cell, cell_labels

PAGE_SIZE = 30
THREAD_LIMIT = 500  # the newest texts of a thread shown at once; older ones stay on the member's page
# The word search reads only the fans' newest texts: at most SEARCH_MAX_TEXTS received in the last
# SEARCH_DAYS, walked newest first along the (status, created_at) index, then an ILIKE over that bounded set.
# Its cost is therefore capped whatever the size of the leader, and no trigram or full-text index on every
# text ever received costs on the inbound hot path (docs/architecture.md, "Inbox").
SEARCH_DAYS = 90
SEARCH_MAX_TEXTS = 100_000
_SEARCH_SQL = """
SELECT recent.conversation_id FROM (
    SELECT conversation_id, body FROM messaging_message
    WHERE status = 'received' AND created_at >= %s
    ORDER BY created_at DESC LIMIT %s
) AS recent
WHERE recent.conversation_id IS NOT NULL AND recent.body ILIKE %s
"""
FOLDERS = ("open", "unread", "mine", "teams", "volunteers", "overdue", "done", "all")


@dataclass(frozen=True)
class InboxFilter:
    folder: str = "open"
    city: str = ""
    tag: str = ""
    q: str = ""
    # Triage's filter (a matrix cell): a conversation matches when one of its labelled texts does.
    cell: Cell = Cell()


def conversations_filter(inbox_filter: InboxFilter, *, user) -> QuerySet[Conversation]:
    queryset = Conversation.objects.all()
    folder = inbox_filter.folder
    if folder == "unread":
        queryset = queryset.filter(unread_count__gt=0)
    elif folder == "mine":
        queryset = queryset.filter(status=Conversation.Status.OPEN, assigned_to=user)
    elif folder == "teams":
        # Routed to a team the teammate is in (triage.routing), whoever of the team has it.
        queryset = queryset.filter(status=Conversation.Status.OPEN, route__team__users=user)
    elif folder == "volunteers":
        # Members who volunteered (districts.Volunteer), open: a coordinator's own are also in "mine"; the
        # ones without a district (none, or several) wait here for an owner or a manager to give out.
        queryset = queryset.filter(status=Conversation.Status.OPEN, member__volunteer__isnull=False)
    elif folder == "overdue":
        queryset = queryset.filter(reply_due_at__lt=timezone.now())
    elif folder == "done":
        queryset = queryset.filter(status=Conversation.Status.DONE)
    elif folder == "all":
        pass
    else:
        queryset = queryset.filter(status=Conversation.Status.OPEN)
    if inbox_filter.city:
        city = inbox_filter.city.strip()
        queryset = queryset.filter(Q(member__city__iexact=city) | Q(member__place_name__iexact=city))
    if inbox_filter.tag:
        queryset = queryset.filter(member__tags__contains=[inbox_filter.tag.strip().lower()])
    if inbox_filter.q:
        since = timezone.now() - datetime.timedelta(days=SEARCH_DAYS)
        words = inbox_filter.q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        # Constant SQL; the words are a bound parameter.
        matching = RawSQL(_SEARCH_SQL, (since, SEARCH_MAX_TEXTS, f"%{words}%"))  # noqa: S611
        queryset = queryset.filter(last_message_at__gte=since, pk__in=matching)
    if not inbox_filter.cell.is_any:
        # EXISTS per conversation along the labels' (conversation, open) index: the list's keyset walk stays
        # the plan, each conversation checked by an index probe.
        labels = cell_labels(inbox_filter.cell).filter(conversation_id=OuterRef("pk"))
        queryset = queryset.filter(Exists(labels))
    return queryset


def cursor_encode(conversation: Conversation) -> str:
    raw = f"{conversation.last_message_at.isoformat()}|{conversation.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime.datetime, int] | None:
    """The (last_message_at, id) a page continues after; None when the cursor is not one we made."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, pk = raw.split("|")
        when = datetime.datetime.fromisoformat(moment)
        if when.tzinfo is None:
            return None
        return when, int(pk)
    except (ValueError, UnicodeDecodeError):
        return None


@dataclass
class ConversationsPage:
    conversations: list[Conversation]
    next_cursor: str | None


def conversations_page(
    queryset: QuerySet[Conversation], *, after: str | None = None, size: int = PAGE_SIZE
) -> ConversationsPage:
    """One page, newest first, after a cursor. The redundant `last_message_at <= t` bound lets PostgreSQL
    start the index scan at the cursor instead of walking every newer conversation."""
    queryset = queryset.select_related("member__volunteer__district", "assigned_to").order_by(
        "-last_message_at", "-id"
    )
    position = cursor_decode(after) if after else None
    if position is not None:
        moment, pk = position
        queryset = queryset.filter(last_message_at__lte=moment).filter(
            Q(last_message_at__lt=moment) | Q(last_message_at=moment, id__lt=pk)
        )
    rows = list(queryset[: size + 1])
    next_cursor = cursor_encode(rows[size - 1]) if len(rows) > size else None
    return ConversationsPage(conversations=rows[:size], next_cursor=next_cursor)


def thread_messages(conversation: Conversation) -> list[Message]:
    """The conversation's texts, oldest first: the fan's, the team's and the automatic answers (the welcome
    and keyword answers are found by phone, since they may predate the conversation)."""
    newest = list(
        Message.objects.filter(phone=conversation.phone)
        .select_related("sent_by")
        .order_by("-created_at", "-id")[:THREAD_LIMIT]
    )
    return newest[::-1]


def thread_with_broadcasts(texts: list[Message], member) -> list:
    """The thread's texts with the broadcasts the member got among them; when the thread shows only the
    newest THREAD_LIMIT texts, broadcasts older than its first are left out as the older texts are."""
    since = texts[0].created_at if len(texts) >= THREAD_LIMIT else None
    return conversation_with_broadcasts(texts, member, since=since)


def conversations_overdue_count() -> int:
    """Conversations past their reply time: an index-only count over the partial index on reply_due_at
    (messaging_conversation_due), which holds only the conversations waiting for a reply."""
    return Conversation.objects.filter(reply_due_at__lt=timezone.now()).count()


def team_users() -> QuerySet:
    """The active teammates a conversation can be assigned to (every role answers texts)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, role__in=("owner", "manager", "responder"))
        .order_by("username")
    )
