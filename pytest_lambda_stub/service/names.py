"""FunctionName and Qualifier: parsing the four name forms, and AWS's validation messages."""

from __future__ import annotations

import dataclasses
import re

# The patterns exactly as AWS prints them in ValidationException messages.
FUNCTION_NAME_PATTERN_TEXT = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
QUALIFIER_PATTERN_TEXT = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"
QUALIFIER_MAX_LENGTH = 128
# The length limit of the Invoke family's FunctionName in botocore's model (``NamespacedFunctionName``
# ``max``): 170 in older models, 256 since. The interception layer passes the installed model's
# values in (``NameLimits``); this default is checked against the model by the tests.
FUNCTION_NAME_MAX_LENGTH = 256

# The same patterns in Python's dialect, with named groups.
_FUNCTION_NAME_RE = re.compile(
    r"(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?"
    r"(?:(?P<region>(?:eusc-)?[a-z]{2}(?:(?:-gov)|(?:-iso(?:[a-z]?)))?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?"
    r"(?:function:)?"
    r"(?P<name>[a-zA-Z0-9\-_.]+)"
    r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9\-_]+))?",
    re.ASCII,  # Java's \d is ASCII only: a region with another script's digits fails too
)
_QUALIFIER_RE = re.compile(r"\$(?:LATEST(?:\.PUBLISHED)?)|[a-zA-Z0-9\-_$]+")


@dataclasses.dataclass(frozen=True, slots=True)
class NameLimits:
    """The maximum lengths AWS checks for FunctionName and Qualifier (from the service model)."""

    function_name: int = FUNCTION_NAME_MAX_LENGTH
    qualifier: int = QUALIFIER_MAX_LENGTH

    def allows(self, function_name: str, qualifier: str | None) -> bool:
        return len(function_name) <= self.function_name and (
            qualifier is None or len(qualifier) <= self.qualifier)


DEFAULT_LIMITS = NameLimits()


@dataclasses.dataclass(frozen=True, slots=True)
class FunctionRef:
    """What a FunctionName (plus Qualifier) asks for."""

    name: str
    region: str | None
    account: str | None
    qualifier: str | None  # the qualifier embedded in the name, if any


def validation_messages(function_name: str, qualifier: str | None,
                        limits: NameLimits = DEFAULT_LIMITS) -> list[str]:
    """AWS's constraint violations for the request, in the order AWS lists them."""
    problems: list[str] = []
    if _FUNCTION_NAME_RE.fullmatch(function_name) is None:
        problems.append(
            f"Value '{function_name}' at 'functionName' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {FUNCTION_NAME_PATTERN_TEXT}"
        )
    if len(function_name) > limits.function_name:
        problems.append(
            f"Value '{function_name}' at 'functionName' failed to satisfy constraint: "
            f"Member must have length less than or equal to {limits.function_name}"
        )
    if qualifier is not None:
        if _QUALIFIER_RE.fullmatch(qualifier) is None:
            problems.append(
                f"Value '{qualifier}' at 'qualifier' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {QUALIFIER_PATTERN_TEXT}"
            )
        if len(qualifier) > limits.qualifier:
            problems.append(
                f"Value '{qualifier}' at 'qualifier' failed to satisfy constraint: "
                f"Member must have length less than or equal to {limits.qualifier}"
            )
    return problems


def validation_message(problems: list[str]) -> str:
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(problems)


def qualifier_is_valid(qualifier: str | None) -> bool:
    """Whether the qualifier matches AWS's pattern (its length is checked by ``NameLimits``)."""
    return qualifier is None or _QUALIFIER_RE.fullmatch(qualifier) is not None


def try_parse_function_name(function_name: str) -> FunctionRef | None:
    """The parts of a valid FunctionName, or None when it fails AWS's pattern."""
    match = _FUNCTION_NAME_RE.fullmatch(function_name)
    if match is None:
        return None
    return FunctionRef(match["name"], match["region"], match["account"], match["qualifier"])


def parse_function_name(function_name: str) -> FunctionRef:
    """Split a FunctionName that passed validation into its parts."""
    match = _FUNCTION_NAME_RE.fullmatch(function_name)
    if match is None:  # pragma: no cover - callers validate first
        raise ValueError(function_name)
    return FunctionRef(
        name=match["name"],
        region=match["region"],
        account=match["account"],
        qualifier=match["qualifier"],
    )


def function_arn(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def is_valid_bare_name(name: str) -> bool:
    """True for a name that can be declared (no ARN, no qualifier)."""
    return re.fullmatch(r"[a-zA-Z0-9\-_.]+", name) is not None
