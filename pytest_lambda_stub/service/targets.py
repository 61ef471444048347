"""The shapes of destination and dead-letter ARNs, checked when a function is declared so a
malformed target is a clear error then, not a failure recorded at delivery."""

from __future__ import annotations

import re

_ACCOUNT = r"\d{12}"
_REGION = r"[a-z]{2}(-[a-z]+)+-\d"
_PARTITION = r"aws[a-zA-Z-]*"
_SHAPES = {
    "sqs": (rf"arn:{_PARTITION}:sqs:{_REGION}:{_ACCOUNT}:[A-Za-z0-9_-]{{1,80}}(\.fifo)?",
            "arn:aws:sqs:<region>:<account>:<queue name>"),
    "sns": (rf"arn:{_PARTITION}:sns:{_REGION}:{_ACCOUNT}:[A-Za-z0-9_-]{{1,256}}(\.fifo)?",
            "arn:aws:sns:<region>:<account>:<topic name>"),
    "events": (rf"arn:{_PARTITION}:events:{_REGION}:{_ACCOUNT}:event-bus/[A-Za-z0-9._/-]+",
               "arn:aws:events:<region>:<account>:event-bus/<name>"),
    "lambda": (rf"arn:{_PARTITION}:lambda:{_REGION}:{_ACCOUNT}:function:[A-Za-z0-9_.-]+"
               r"(:(\$LATEST|[A-Za-z0-9_-]+))?",
               "arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]"),
}
DEAD_LETTER_KINDS = ("sqs", "sns")


def arn_problem(target: str, *, dead_letter: bool = False) -> str | None:
    """What is wrong with an ARN target (None when it is well formed and supported)."""
    parts = target.split(":")
    kind = parts[2] if len(parts) > 2 else ""
    allowed = DEAD_LETTER_KINDS if dead_letter else tuple(_SHAPES)
    if kind not in allowed:
        names = {"sqs": "SQS queue", "sns": "SNS topic", "events": "EventBridge bus",
                 "lambda": "Lambda function"}
        kinds = [names[k] for k in allowed]
        return f"{target!r} is not an {', '.join(kinds[:-1])} or {kinds[-1]} ARN"
    pattern, shape = _SHAPES[kind]
    if re.fullmatch(pattern, target, re.ASCII) is None:
        return f"{target!r} is not a well-formed {kind} ARN ({shape})"
    return None
