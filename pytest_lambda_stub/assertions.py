"""Assertion helpers on FakeFunction (``assert_invoked_with`` and friends)."""

from __future__ import annotations


class AssertionsMixin:
    """Mixed into :class:`~pytest_lambda_stub.FakeFunction`."""
