"""Backup Inspector: check, browse and extract Home Assistant backups."""

__version__ = "0.2.0"
