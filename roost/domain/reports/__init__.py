"""Reports of accounts and posts to the staff (Mastodon's Report)."""
