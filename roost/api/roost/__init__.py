"""Roost's own API, beside the Mastodon one: what Mastodon has no call for."""
