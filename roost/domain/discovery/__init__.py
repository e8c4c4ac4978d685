"""Finding people and topics: the profile directory, follow suggestions,
featured hashtags, familiar followers, and the domains an account hides."""
