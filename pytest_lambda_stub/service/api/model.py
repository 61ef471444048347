"""The configuration the service owns for each declared function, beyond what ``FakeFunction``
holds: revision ids, descriptions, tags, alias metadata, and the frozen configuration of each
version published through the API (``PublishVersion``).

``FakeFunction`` stays the configuration of ``$LATEST`` (timeout, memory, environment...); a
published version is a frozen copy of it, and runs with that copy.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import sys
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...functions import FakeFunction
    from ..state import LambdaService

RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"


def now_text() -> str:
    """Lambda's ``LastModified`` text: ``2024-05-01T12:00:00.000+0000``."""
    moment = datetime.datetime.now(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def new_revision() -> str:
    return str(uuid.uuid4())


@dataclasses.dataclass(frozen=True, slots=True)
class VersionConfig:
    """What a published version runs with: a frozen copy of ``$LATEST`` at publication."""

    version: str
    timeout: float
    memory_size: int
    environment: Mapping[str, str] | None
    description: str
    handler: str
    code_sha256: str
    code_size: int
    last_modified: str
    revision_id: str
    role: str | None = None  # UpdateFunctionConfiguration's Role at publication (None: default)


@dataclasses.dataclass(slots=True)
class AliasMeta:
    description: str = ""
    revision_id: str = dataclasses.field(default_factory=new_revision)


@dataclasses.dataclass(slots=True)
class FunctionState:
    """The service's API-side state of one declared function."""

    description: str = ""
    revision_id: str = dataclasses.field(default_factory=new_revision)
    last_modified: str = dataclasses.field(default_factory=now_text)
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    published: dict[str, VersionConfig] = dataclasses.field(default_factory=dict)
    aliases: dict[str, AliasMeta] = dataclasses.field(default_factory=dict)
    event_invoke_configured: bool | None = None  # None: as declared
    event_invoke_modified: float = 0.0
    policy_statements: int = 0
    role: str | None = None  # set by UpdateFunctionConfiguration (None: the default role)

    def touch(self) -> None:
        self.revision_id = new_revision()
        self.last_modified = now_text()


def state_of(service: LambdaService, function: FakeFunction) -> FunctionState:
    """The API-side state of a declared function (created on first use)."""
    with service.lock:
        state = service.control.get(function.name)
        if state is None:
            state = service.control[function.name] = FunctionState()
        return state


def handler_text(function: FakeFunction, version: str = "$LATEST") -> str:
    """The Handler setting: the dotted path given, or ``module.function`` of a callable."""
    ref = function.versions.get(version) or next(iter(function.versions.values()), None)
    if ref is None:
        return "index.handler"
    spec: Any = ref.spec
    if isinstance(spec, str):
        return spec
    module = getattr(spec, "__module__", None) or "index"
    name = getattr(spec, "__name__", None) or "handler"
    if name == "<lambda>":
        name = "lambda_handler"
    if name == "fixed":  # returns=...
        return "index.handler"
    return f"{module.rpartition('.')[2]}.{name}"


def code_of(function: FakeFunction, version: str = "$LATEST") -> tuple[str, int]:
    """A stable CodeSha256 (base64 of SHA-256) and CodeSize for the version's handler."""
    text = f"{function.name}\n{handler_text(function, version)}\n".encode()
    return base64.b64encode(hashlib.sha256(text).digest()).decode("ascii"), len(text) * 16


def settings_for(service: LambdaService, function: FakeFunction,
                 version: str) -> tuple[float, int, Mapping[str, str] | None]:
    """Timeout, memory and environment a version runs with (published: its frozen copy)."""
    if version != "$LATEST" and service.control:
        state = service.control.get(function.name)
        frozen = state.published.get(version) if state is not None else None
        if frozen is not None:
            return frozen.timeout, frozen.memory_size, frozen.environment
    return function.timeout, function.memory_size, function.environment


def freeze(function: FakeFunction, version: str, description: str,
           role: str | None = None) -> VersionConfig:
    """A frozen copy of ``$LATEST``'s configuration, published as ``version``."""
    sha, size = code_of(function)
    return VersionConfig(
        version=version, timeout=function.timeout, memory_size=function.memory_size,
        environment=dict(function.environment) if function.environment else None,
        description=description, handler=handler_text(function), code_sha256=sha,
        code_size=size, last_modified=now_text(), revision_id=new_revision(), role=role,
    )
