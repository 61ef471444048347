"""Handler results marshalled as the runtime's encoder does (awslambdaric's marshaller)."""

from __future__ import annotations

import sys
from decimal import Decimal

from pytest_lambda_stub import stub_lambda
from tests.helpers import client


def body_of(result: object) -> bytes:
    with stub_lambda(functions={"f": lambda e, c: result}):
        return bytes(client().invoke(FunctionName="f")["Payload"].read())


def test_a_decimal_is_written_as_its_exact_text() -> None:
    assert body_of({"price": Decimal("1.10"), "big": Decimal("12345678901234567890.5"),
                    "sci": Decimal("-3E+2"), "nan": Decimal("NaN")}) == (
        b'{"price": 1.10, "big": 12345678901234567890.5, "sci": -3E+2, "nan": NaN}')


def test_non_ascii_text_as_the_runtime_of_this_python_writes_it() -> None:
    body = body_of({"name": "café"})
    if sys.version_info >= (3, 12):
        assert body == '{"name": "café"}'.encode()
    else:
        assert body == b'{"name": "caf\\u00e9"}'


def test_a_string_looking_like_the_decimal_marker_is_left_alone() -> None:
    assert body_of(["\x00decimal-1-2:3\x00", Decimal("4")]) == (
        b'["\\u0000decimal-1-2:3\\u0000", 4]')
