"""Hostile tests: bad handlers, bad input, bad clients, lifecycle, concurrency, interop."""
