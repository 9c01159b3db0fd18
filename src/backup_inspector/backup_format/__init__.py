"""Format layer: pure, synchronous code that knows the bytes of a backup.

Nothing here imports from the service, web or CLI layers, and nothing here is
asynchronous. Functions take bytes or binary file objects and return values or
Findings.
"""
