"""Roost: a Mastodon-API social network server."""

__version__ = "0.2.0"
