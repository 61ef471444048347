"""The one options object shared by every entry point (constructor, decorator, fixture, marker, ini).

Precedence when layered: package defaults < ini file < module marker < class marker <
function marker < decorator / constructor arguments.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, Literal

EventDelivery = Literal["immediate", "manual", "background"]
ReportMode = Literal["on-failure", "always", "never"]
Passthrough = bool | frozenset[str]

EVENT_DELIVERY_MODES: tuple[str, ...] = ("immediate", "manual", "background")
REPORT_MODES: tuple[str, ...] = ("on-failure", "always", "never")
_BOOLEANS = ("strict", "instant_retries", "send_destinations", "serve", "export_endpoint")


class OptionError(ValueError):
    """An unknown option name or a bad option value."""


@dataclasses.dataclass(frozen=True)
class StubOptions:
    """Every option of a :class:`~pytest_lambda_stub.LambdaStub`, with the package defaults.

    - ``strict``: report calls of undeclared functions (by any operation), calls in another
      region or account than a function's, operations refused as not emulated, and events left
      queued when the stub stops, failing the test even when the code under test swallowed the
      error.
    - ``passthrough``: function names, or Lambda operation names (``"CreateFunction"`` or
      ``"create_function"``), or ``True`` for all, whose calls the stub leaves alone, so they
      go on to wherever botocore would send them.
    - ``account_id``: the 12-digit account of declared functions.
    - ``region``: the region of declared functions (a function's own ``region=`` wins);
      ``None``: whichever region the client calls. A call in another region is answered
      ``ResourceNotFoundException`` (never sent) and reported by strict mode.
    - ``instant_retries``: botocore's retry delays are recorded, not slept.
    - ``event_delivery``: ``"immediate"``, ``"manual"`` or ``"background"`` for ``Event`` invokes.
    - ``report``: when pytest's report gets a "lambda invocations" section.
    - ``seed``: seeds the randomness of ``duplicate_delivery`` and of weighted aliases.
    - ``account_concurrency``: account-wide concurrent executions before throttling.
    - ``serve``: also answer over HTTP on 127.0.0.1 (``stub.serve()``), for other processes.
    - ``export_endpoint``: while serving, set ``AWS_ENDPOINT_URL_LAMBDA`` for child processes;
      ``None`` (the default) does so under pytest only.
    - ``send_destinations``: send SQS, SNS and EventBridge destination and dead-letter records
      with boto3 even when moto's ``mock_aws`` is not active, to whatever endpoint botocore is
      configured for, with the credentials present (off: they are only recorded).
    """

    strict: bool = True
    passthrough: Passthrough = frozenset()
    account_id: str = "123456789012"
    region: str | None = None
    instant_retries: bool = True
    event_delivery: EventDelivery = "immediate"
    report: ReportMode = "on-failure"
    seed: int | None = None
    account_concurrency: int = 1000
    serve: bool = False
    export_endpoint: bool | None = None
    send_destinations: bool = False

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    def replace(self, overrides: Mapping[str, Any]) -> StubOptions:
        """A copy with ``overrides`` applied after validating every name and value."""
        if not overrides:
            return self
        unknown = sorted(set(overrides) - set(self.names()))
        if unknown:
            raise OptionError(
                f"unknown lambda_stub option(s) {', '.join(map(repr, unknown))}; "
                f"valid options are: {', '.join(self.names())}"
            )
        cleaned = {name: _validate(name, value) for name, value in overrides.items()}
        return dataclasses.replace(self, **cleaned)

    def passes_through(self, function_name: str) -> bool:
        """Whether calls naming this (bare) function go on to botocore's endpoint."""
        if self.passthrough is True:
            return True
        if self.passthrough is False:
            return False
        return function_name in self.passthrough


def _validate(name: str, value: Any) -> Any:
    if name == "export_endpoint" and value is None:
        return value
    if name in _BOOLEANS:
        if not isinstance(value, bool):
            allowed = "True, False or None" if name == "export_endpoint" else "True or False"
            raise OptionError(f"lambda_stub option {name!r} must be {allowed}, not {value!r}")
        return value
    if name == "passthrough":
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return frozenset([value])
        if isinstance(value, Iterable) and all(isinstance(v, str) for v in value):
            return frozenset(value)
        raise OptionError(
            f"lambda_stub option 'passthrough' must be True, False, or names of functions or "
            f"Lambda operations ('CreateFunction' or 'create_function'), not {value!r}"
        )
    if name == "account_id":
        if not (isinstance(value, str) and len(value) == 12 and value.isdigit()):
            raise OptionError(
                f"lambda_stub option 'account_id' must be 12 digits as a str, not {value!r}"
            )
        return value
    if name == "region":
        if value is not None and not (isinstance(value, str) and value):
            raise OptionError(
                f"lambda_stub option 'region' must be a region name or None, not {value!r}"
            )
        return value
    if name == "event_delivery":
        return _choice(name, value, EVENT_DELIVERY_MODES)
    if name == "report":
        return _choice(name, value, REPORT_MODES)
    if name == "seed":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise OptionError(f"lambda_stub option 'seed' must be an int or None, not {value!r}")
        return value
    if name == "account_concurrency":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise OptionError(
                f"lambda_stub option 'account_concurrency' must be an int >= 0, not {value!r}"
            )
        return value
    raise AssertionError(name)  # pragma: no cover - names are checked first


def _choice(name: str, value: Any, valid: tuple[str, ...]) -> Any:
    if value not in valid:
        raise OptionError(
            f"lambda_stub option {name!r} must be one of {', '.join(map(repr, valid))}, "
            f"not {value!r}"
        )
    return value


# The defaults every entry point starts from. The pytest plugin layers the ini file's values on
# top for the duration of a test session, so the context manager, the decorator and the fixture
# agree.
_session_defaults: StubOptions = StubOptions()


def session_defaults() -> StubOptions:
    return _session_defaults


def set_session_defaults(options: StubOptions) -> None:
    global _session_defaults
    _session_defaults = options


def parse_ini_value(name: str, raw: str) -> Any:
    """Turn an ini file's text into the option's Python value (before validation)."""
    text = raw.strip()
    if name == "export_endpoint" and text.lower() in ("", "auto"):
        return None
    if name in _BOOLEANS:
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        allowed = "true, false or auto" if name == "export_endpoint" else "true or false"
        raise OptionError(f"ini option lambda_stub_{name} must be {allowed}, not {raw!r}")
    if name == "passthrough":
        if text.lower() in ("true", "all"):
            return True
        return frozenset(part for part in text.replace(",", " ").split() if part)
    if name in ("seed", "account_concurrency"):
        try:
            return int(text)
        except ValueError:
            raise OptionError(f"ini option lambda_stub_{name} must be an integer, not {raw!r}") from None
    if name == "region" and not text:
        return None
    return text
