"""Operating Roost: backups and restores, disk guard, ``roost doctor``."""
