"""Hostile tests: bad handlers, bad input, lifecycle, concurrency, interop."""
