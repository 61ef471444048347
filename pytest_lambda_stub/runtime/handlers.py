"""Handlers: resolving a callable or a dotted ``module.function`` path as Lambda's Handler setting,
and the error payloads the Python runtime sends when a handler fails."""

from __future__ import annotations

import importlib
import os
import sys
import threading
import traceback
from collections.abc import Callable
from types import ModuleType
from typing import Any

Handler = Callable[[Any, Any], Any]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class InitError(Exception):
    """The handler could not be loaded; ``payload`` is what the runtime answers."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload.get("errorMessage"))
        self.payload = payload


class HandlerRef:
    """A handler given as a callable or as a Handler setting (``"module.function"``,
    ``"package.sub.module.function"`` or ``"dir/module.function"``), imported at the function's
    cold start as Lambda's runtime does, from ``code_root`` when given (its task root)."""

    __slots__ = ("_lock", "_module", "_resolved", "_table", "code_root", "reload", "spec",
                 "variables")

    def __init__(self, spec: Handler | str, code_root: str | None = None) -> None:
        if not isinstance(spec, str) and not callable(spec):
            raise TypeError(
                f"a handler must be a callable (event, context) or a 'module.function' path, "
                f"not {spec!r}"
            )
        if code_root is not None and not isinstance(spec, str):
            raise TypeError("code_root= needs a handler given as a 'module.function' path, "
                            f"not the callable {spec!r}")
        self.spec = spec
        self.code_root = code_root
        self._resolved: Handler | None = None if isinstance(spec, str) else spec
        self._module: ModuleType | None = None
        self._table: dict[str, ModuleType] = {}  # modules imported from code_root
        self._lock = threading.Lock()
        self.reload = False  # the next cold start runs the module again (a new environment)
        self.variables: Any = None  # the current execution environment's variables

    @property
    def setting(self) -> str:
        """The Handler setting (``_HANDLER``): the path, or where the callable is defined."""
        spec = self.spec
        if isinstance(spec, str):
            return spec
        module = getattr(spec, "__module__", None) or "__main__"
        return f"{module}.{getattr(spec, '__qualname__', type(spec).__name__)}"

    def resolve(self) -> Handler:
        """The handler, importing it if it is not loaded yet (raises ``InitError``)."""
        resolved = self._resolved
        if resolved is not None:
            return resolved
        return self.load(fresh=False)

    def load(self, fresh: bool) -> Handler:
        """Import the handler (``fresh``: run its module again, as a new execution environment
        does after a cold start was forced or the runtime exited)."""
        spec = self.spec
        if not isinstance(spec, str):
            return spec
        with self._lock:
            if self._resolved is not None and not fresh:
                return self._resolved
            self._resolved = None
            handler, self._module = _import_handler(spec, self.code_root, self._table,
                                                    self._module if fresh else None)
            self._resolved = handler
            return handler

    def __repr__(self) -> str:
        spec = self.spec
        return repr(spec) if isinstance(spec, str) else getattr(spec, "__qualname__", repr(spec))


# Lambda refuses these in a function's environment (the runtime defines them).
RESERVED_VARIABLES = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})


def check_environment(where: str, environment: Any) -> None:
    """Refuse Lambda's reserved variables in ``environment=``, as Lambda does."""
    reserved = sorted(key for key in environment if key in RESERVED_VARIABLES)
    if reserved:
        raise ValueError(
            f"{where}: environment= may not set Lambda's reserved variables "
            f"{', '.join(reserved)} (the runtime defines them while the handler runs; "
            f"credentials come from the test process's environment)")


def check_code_root(where: str, code_root: Any, handler: Any, versions: Any) -> str | None:
    """``code_root=``: an existing directory, for handlers given as paths."""
    if code_root is None:
        return None
    if not isinstance(code_root, (str, os.PathLike)):
        raise TypeError(f"{where}: code_root must be a directory path, not {code_root!r}")
    root = os.path.abspath(os.fspath(code_root))
    if not os.path.isdir(root):
        raise ValueError(f"{where}: code_root {root!r} is not a directory")
    handlers = [handler, *(versions or {}).values()]
    if (handler is None and not versions) or any(
            h is not None and not isinstance(h, str) for h in handlers):
        raise TypeError(f"{where}: code_root= needs handlers given as 'module.function' "
                        f"paths (a callable is already imported)")
    return root


def _fault(error_type: str, message: str, trace: list[str] | None = None) -> InitError:
    # The runtime's make_error: message, type, an empty request id, the trace or [].
    return InitError({"errorMessage": message, "errorType": error_type, "requestId": "",
                      "stackTrace": trace or []})


def _import_handler(path: str, code_root: str | None, table: dict[str, ModuleType],
                    previous: ModuleType | None) -> tuple[Handler, ModuleType]:
    """As the runtime's bootstrap ``_get_handler``: the same checks, in the same order, with the
    same error types and messages."""
    try:
        module_name, attr = path.rsplit(".", 1)
    except ValueError as exc:
        raise _fault("Runtime.MalformedHandlerName", f"Bad handler '{path}': {exc}") from None
    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise _fault("Runtime.BuiltInModuleConflict",
                         f"Cannot use built-in module {module_name} as a handler module")
        dotted = module_name.replace("/", ".")
        if code_root is not None:
            module = _import_from_root(code_root, dotted, table, fresh=previous is not None)
        elif previous is not None and sys.modules.get(dotted) is previous:
            module = importlib.reload(previous)
        else:
            module = importlib.import_module(dotted)
    except ImportError as exc:
        raise _fault("Runtime.ImportModuleError",
                     f"Unable to import module '{module_name}': {exc}") from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise _fault("Runtime.UserCodeSyntaxError",
                     f"Syntax error in module '{module_name}': {exc}", trace) from None
    try:
        handler = getattr(module, attr)
    except AttributeError:
        raise _fault("Runtime.HandlerNotFound",
                     f"Handler '{attr}' missing on module '{module_name}'") from None
    return handler, module


_import_lock = threading.RLock()


def _top_names(root: str) -> set[str]:
    names = set()
    for entry in os.listdir(root):
        base, dot, ext = entry.partition(".")
        if not dot or ext in ("py", "pyc") or ext.endswith(("so", "pyd")):
            names.add(base)
    return names


def _import_from_root(root: str, dotted: str, table: dict[str, ModuleType],
                      fresh: bool) -> ModuleType:
    """Import ``dotted`` with ``root`` first on ``sys.path`` and only this root's modules under
    the names the root defines, then take them out of ``sys.modules`` again (into ``table``), so
    two code roots with an ``app.py`` each keep their own ``app``, and the test process's own
    modules of those names are untouched."""
    with _import_lock:
        names = _top_names(root)

        def ours(name: str) -> bool:
            return name.partition(".")[0] in names

        displaced = {name: module for name, module in sys.modules.items() if ours(name)}
        for name in displaced:
            del sys.modules[name]
        if fresh:
            table.clear()
        sys.modules.update(table)
        sys.path.insert(0, root)
        importlib.invalidate_caches()
        try:
            return importlib.import_module(dotted)
        finally:
            try:
                sys.path.remove(root)
            except ValueError:
                pass
            for name in [name for name in sys.modules if ours(name)]:
                table[name] = sys.modules.pop(name)
            sys.modules.update(displaced)


def _is_ours(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_PACKAGE_DIR)


def exception_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The runtime's payload for an exception: message, type, request id, and the traceback
    without the runtime's frames, formatted from plain (file, line,
    function, text) tuples as the runtime does (so no ``^^^`` marker lines on any Python).
    Raises what ``str(exc)`` raises (on Lambda that makes the runtime itself exit)."""
    # The runtime drops its own leading frames; the stub's frames are dropped wherever they
    # are (its os.environ stands in for os's own, which stays: "<frozen os>").
    tuples = [(frame.filename, frame.lineno, frame.name, frame.line)
              for frame in traceback.extract_tb(exc.__traceback__)
              if not _is_ours(frame.filename)]
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(tuples),  # type: ignore[arg-type]
    }


def exit_payload(request_id: str, code: object) -> dict[str, Any]:
    """``sys.exit(code)``: as the interpreter exits, ``None``/``0`` is a clean exit, an int its
    status, anything else (``sys.exit("message")``) status 1."""
    if code is None or (isinstance(code, int) and code == 0):
        reason = "Runtime exited without providing a reason"
    else:
        status = int(code) if isinstance(code, int) else 1
        reason = f"Runtime exited with error: exit status {status}"
    return {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {request_id} Error: {reason}"}


def runtime_exit(request_id: str, exc: BaseException) -> tuple[dict[str, Any], str]:
    """What Lambda answers when the runtime process itself ends: an exception the runtime does
    not catch (it catches ``Exception`` only: ``KeyboardInterrupt``, ``GeneratorExit``, other
    ``BaseException`` subclasses, ``SystemExit``) or an exception whose ``str()`` raises while
    the runtime builds its error payload. Returns the payload and what the interpreter prints
    on its way out."""
    if isinstance(exc, SystemExit):
        code = exc.code
        printed = "" if code is None or isinstance(code, int) else f"{code}\n"
        return exit_payload(request_id, code), printed
    try:
        printed = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except Exception:  # a traceback that cannot even be formatted
        printed = f"{type(exc).__name__}: <exception str() failed>\n"
    # The interpreter ends an uncaught KeyboardInterrupt by killing itself with SIGINT.
    reason = ("signal: interrupt" if isinstance(exc, KeyboardInterrupt)
              else "exit status 1")
    return {"errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
                            f"{reason}"}, printed


def marshal_payload(request_id: str, reason: str) -> dict[str, Any]:
    return {
        "errorMessage": f"Unable to marshal response: {reason}",
        "errorType": "Runtime.MarshalError",
        "requestId": request_id,
        "stackTrace": [],
    }


def timeout_payload(request_id: str, timeout: float) -> dict[str, Any]:
    return {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds",
    }


def response_too_large_payload(limit: int) -> dict[str, Any]:
    return {
        "errorMessage": (
            f"Response payload size exceeded maximum allowed payload size ({limit} bytes)."
        ),
        "errorType": "Function.ResponseSizeTooLarge",
    }
