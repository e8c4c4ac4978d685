"""Annual reports ("Wrapstodon"): a yearly summary of an account's own activity."""
