"""The tamper-evident audit log of staff actions (roost/domain/audit/chain.py)."""
