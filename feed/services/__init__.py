"""Every write of the feed: publishing events, subscriptions, deliveries."""
