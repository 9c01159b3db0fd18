"""Service layer: check, list and extract jobs over the format layer.

Owns running work: progress, cancellation, free-space checks, caches. Knows
nothing about HTTP or terminals.
"""
