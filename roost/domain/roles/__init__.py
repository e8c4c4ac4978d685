"""Staff roles and the permissions they grant (Mastodon's UserRole)."""
