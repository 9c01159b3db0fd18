"""Backup Inspector: check, browse and extract Home Assistant backups."""

__version__ = "0.1.1"
