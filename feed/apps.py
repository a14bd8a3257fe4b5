from django.apps import AppConfig


class FeedConfig(AppConfig):
    name = "feed"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # History announces committed outbox entries without knowing who reads them; the
        # feed's hand-off to its publisher listens (history stays below the feed).
        from feed.tasks import hand_off_publication
        from history.services import outbox_committed

        outbox_committed.connect(hand_off_publication, dispatch_uid="feed-publication")
