"""Full-text search over posts: a derived store, rebuilt from ``statuses``.

The index is fed by outbox jobs (roost/domain/search/jobs.py) and can be rebuilt at
any time with ``roost search reindex``; nothing in it is the system of record.
"""
