from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from common import events
        from messaging.keyword_replies import keyword_cache_clear
        from messaging.models import KeywordReply
        from messaging.services import member_texts_erase

        events.subscribe(events.MEMBER_ERASED, member_texts_erase)
        # The inbound path caches keywords per process (messaging.keyword_replies.keyword_replies_cached).
        post_save.connect(
            keyword_cache_clear, sender=KeywordReply, dispatch_uid="messaging.keyword_cache_save"
        )
        post_delete.connect(
            keyword_cache_clear, sender=KeywordReply, dispatch_uid="messaging.keyword_cache_del"
        )
