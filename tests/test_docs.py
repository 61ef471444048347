"""Every ```python block of README.md and docs/guide.md runs and passes.

Each block becomes a test module of its own (its top-level code runs when it is imported, its
``test_*`` functions run as tests), all in one pytest run in a subprocess with the plugin
installed, no credentials and no network. A block preceded by ``<!-- no-test -->`` is skipped:
those need Docker or a package no environment of the suite installs. A block preceded by
``<!-- needs: module -->`` runs only where that module is importable (CI's second environment
has aiobotocore).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "docs" / "guide.md"]
BLOCK = re.compile(r"(?:(?P<marker><!-- no-test -->\n)|<!-- needs: (?P<needs>[\w.]+) -->\n)?"
                   r"```python\n(?P<code>.*?)^```", re.S | re.M)
MAX_SKIPPED = 4

CONFTEST = '''
import os

for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
             "AWS_DEFAULT_REGION", "AWS_REGION"):
    os.environ.pop(name, None)
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
'''


@dataclasses.dataclass(frozen=True)
class Block:
    doc: Path
    line: int
    code: str
    skipped: bool
    needs: str | None = None

    @property
    def runnable(self) -> bool:
        if self.skipped:
            return False
        if self.needs is None:
            return True
        import importlib.util

        return importlib.util.find_spec(self.needs) is not None

    @property
    def module(self) -> str:
        return f"test_{self.doc.stem.lower()}_line{self.line:04d}"

    def __str__(self) -> str:
        return f"{self.doc.name}:{self.line}"


def blocks() -> list[Block]:
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start("code")) + 1
            found.append(Block(doc, line, match.group("code"), bool(match.group("marker")),
                               match.group("needs")))
    return found


ALL = blocks()
TESTED = [block for block in ALL if block.runnable]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, str]]]:
    """Run every tested block once; per module, the (test name, outcome) pairs."""
    folder = tmp_path_factory.mktemp("doc_examples")
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "conftest.py").write_text(CONFTEST)
    for block in TESTED:
        (folder / f"{block.module}.py").write_text(block.code)
    report = folder / "junit.xml"
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         "--continue-on-collection-errors", f"--junitxml={report}", str(folder)],
        cwd=folder, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    outcomes: dict[str, list[tuple[str, str]]] = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        # A module whose top-level code fails is a collection error: pytest reports it with
        # an empty classname and the module as the name.
        module = case.get("classname", "").split(".")[0] or case.get("name", "")
        kind = next((child.tag for child in case if child.tag in ("failure", "error", "skipped")),
                    "passed")
        detail = next((child.get("message", "") + "\n" + (child.text or "") for child in case
                       if child.tag in ("failure", "error")), "")
        outcomes.setdefault(module, []).append((case.get("name", ""), kind + "\n" + detail))
    outcomes["__output__"] = [("stdout", completed.stdout[-5000:])]
    return outcomes


def test_the_docs_have_examples() -> None:
    assert len(ALL) >= 20
    assert {block.doc for block in TESTED} == set(DOCS)


def test_only_a_few_examples_are_not_run() -> None:
    skipped = [str(block) for block in ALL if block.skipped]
    assert len(skipped) <= MAX_SKIPPED, skipped


@pytest.mark.parametrize("block", TESTED, ids=str)
def test_example_runs(block: Block, results: dict[str, list[tuple[str, str]]]) -> None:
    cases = results.get(block.module, [])
    failed = [f"{name}: {outcome}" for name, outcome in cases if not outcome.startswith("passed")]
    assert not failed, f"{block}:\n" + textwrap.indent("\n".join(failed), "  ")
    if not cases:
        # A block without tests runs when its module is imported: a failure there is a
        # collection error, reported as a case named after the module (above); this one passed.
        compile(block.code, str(block), "exec")
