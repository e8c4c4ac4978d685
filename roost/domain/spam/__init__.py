"""Spam waves: near-duplicate new posts clustered for staff to act on at once.

Every new local post leaves a job (``ClusterPost``) that computes a MinHash
signature of its features (roost/domain/spam/minhash.py: word pairs, link
domains, mentions, and for new accounts their sign-up e-mail domain and
network), finds earlier posts sharing an LSH band in the database, and puts
the post in a cluster with those similar enough (clustering.py). The state is
in tables, never only in a process, so one server or many workers cluster
the same way.

Staff see the clusters of at least ROOST_SPAM_CLUSTER_MIN_SIZE posts
(``roost spam clusters``, /admin/spam) and act on a whole cluster at once
(actions.py): suspend its accounts, delete its posts, or mark it not spam
(which releases its held posts). With ROOST_SPAM_HOLD_CLUSTER_SIZE set, posts
of a cluster that large by young accounts are held: the privacy policy
(roost/domain/privacy.py) shows them to their author alone until staff
decide. Every action needs ``manage_reports`` (suspending also
``manage_users``) and is an entry of the audit log. docs/abuse.md tells the
whole story and its measured figures.
"""
