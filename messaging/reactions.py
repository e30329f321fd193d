"""What messaging does when something happens elsewhere: an erased member's texts and broadcast deliveries
go (common.events), and a keyword reply saved or deleted refreshes the inbound path's keyword cache.
Connected in MessagingConfig.ready()."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from common import events
from messaging.keyword_replies import keyword_cache_clear
from messaging.models import KeywordReply
from messaging.services import member_deliveries_erase, member_texts_erase


def connect() -> None:
    events.subscribe(events.MEMBER_ERASED, member_texts_erase)
    events.subscribe(events.MEMBER_ERASED, member_deliveries_erase)
    # The inbound path caches keywords per process (messaging.keyword_replies.keyword_replies_cached).
    post_save.connect(keyword_cache_clear, sender=KeywordReply, dispatch_uid="messaging.keyword_cache_save")
    post_delete.connect(keyword_cache_clear, sender=KeywordReply, dispatch_uid="messaging.keyword_cache_del")
