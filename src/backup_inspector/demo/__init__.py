"""Synthetic Home Assistant backups for tests, the demo folder and benchmarks.

`backup_writer` writes real backup files of every era (outer tar dialects,
metadata schemas, SecureTar v1/v2/v3) from declarative specs, so that the
format layer is exercised against bytes that look like what Supervisor and
Core wrote over the years. `demo_backups` uses it to fill a demo folder.
Nothing in this package is imported by the engine itself.
"""
