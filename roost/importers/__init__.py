"""Bringing history from other services into Roost (``importers/twitter``)."""
