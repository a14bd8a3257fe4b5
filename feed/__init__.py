"""The cursor feed of registration events and its signed webhooks (docs/feed.md)."""
