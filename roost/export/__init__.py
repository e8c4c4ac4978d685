"""Exports of an account's data (roost/export/archive.py)."""
