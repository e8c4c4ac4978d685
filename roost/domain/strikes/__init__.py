"""Strikes and appeals (Mastodon's AccountWarning and Appeal): what staff did
to an account and told it, and the one appeal it may make against each."""
