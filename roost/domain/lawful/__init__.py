"""Lawful requests: an authority asks for an account's data.

A request names the authority, the legal basis it cites, how staff verified
that the request really comes from it (and who did), the account, a date range
and the kinds of data asked for. It is ``pending`` until two staff members other
than the one who entered it approve it (``approved``), or one refuses it with a
reason (``refused``). Only an approved request can be packaged, once: the
package holds the approved kinds of the named account's data within the range
(roost/export/lawful.py), its SHA-256 is recorded, and the request becomes
``disclosed``.

Every step needs ``manage_users`` and a named staff member (the console alone
cannot act: an approval must say who gave it), and every step is an audit
entry. The rules are checked in the transaction that writes each step, whatever
the caller (command line or staff pages); the database refuses an approval by
the requester and a second approval by the same person on its own.
"""
