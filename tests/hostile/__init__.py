"""Hostile tests: bad input, bad clients, lifecycle and concurrency abuse."""
