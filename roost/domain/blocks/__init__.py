"""Instance-wide blocks staff set: other servers (domain blocks and allows),
address ranges (IP blocks) and e-mail addresses in every spelling
(canonical e-mail blocks). E-mail domains live with the accounts
(roost/domain/accounts/email_domains.py)."""
