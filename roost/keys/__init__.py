"""Per-account keys: crypto-shredding of erased content (docs/operations.md "Erasure")."""
