from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Leader console"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from console.selectors import keyword_cache_clear
        from messaging.models import KeywordReply

        # The inbound path caches keywords per process (console.selectors.keyword_replies_cached).
        post_save.connect(keyword_cache_clear, sender=KeywordReply, dispatch_uid="console.keyword_cache_save")
        post_delete.connect(
            keyword_cache_clear, sender=KeywordReply, dispatch_uid="console.keyword_cache_del"
        )
