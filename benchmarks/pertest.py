"""Benchmark: what one test that uses the stub costs, against the same test written with
botocore's ``Stubber``.

Run from the repository root::

    python benchmarks/pertest.py              # 300 tests per suite, 5 rounds
    python benchmarks/pertest.py --quick      # 100 tests, 3 rounds (noisier)
    python benchmarks/pertest.py --profile fixture   # cProfile of one suite's run instead
    python benchmarks/pertest.py --instructions      # instructions per test (valgrind)

Five pytest suites of ``--tests`` tests each are written to a temporary directory and run as
subprocesses, interleaved (empty, stubber, fixture, decorator, context-manager, then again),
``--rounds`` times. A suite's per-test cost is the median of its CPU times (user + system of
the pytest subprocess: on a shared machine other processes stretch wall-clock time far more than
CPU time; wall-clock figures are in the JSON too) minus the empty suite's median, divided by the
number of tests. Every suite has the same module-level
set-up (imports, one boto3 Lambda client); each test of the non-empty suites declares one
function (or queues one response) and invokes it once:

- ``empty``: ``def test_n(): pass``;
- ``stubber``: ``with Stubber(client) as stubber: stubber.add_response(...)``, one invoke;
- ``fixture``: ``def test_n(lambda_stub): lambda_stub.add_function(...)``, one invoke;
- ``decorator``: ``@stub_lambda(functions={...})``, one invoke;
- ``context-manager``: ``with stub_lambda(functions={...}):``, one invoke.

``--instructions`` counts instructions instead of CPU time, under ``valgrind --tool=cachegrind``
(deterministic: other processes do not change it, so a change worth 2% shows; the kernel's work
for threads and pipes is not counted): each suite is run with 20 and with 120 tests, and the
difference, divided by 100, is a test's cost (start-up and collection cancel out), shown above
the empty suite's.

``benchmarks/invoke.py`` runs this too and writes the figures to its JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SUITES = ("empty", "stubber", "fixture", "decorator", "context-manager")

_HEADER = textwrap.dedent("""
    import io
    import boto3
    from botocore.response import StreamingBody
    from botocore.stub import Stubber
    from pytest_lambda_stub import stub_lambda

    client = boto3.client("lambda", region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE",
                          aws_secret_access_key="fake-secret")


    def handler(event, context):
        return {"ok": True}

""")

_BODIES = {
    "empty": "def test_{n}():\n    pass\n",
    "stubber": (
        "def test_{n}():\n"
        "    with Stubber(client) as stubber:\n"
        "        stubber.add_response('invoke', {{'StatusCode': 200, 'Payload': StreamingBody("
        "io.BytesIO(b'{{\"ok\": true}}'), 12)}})\n"
        "        client.invoke(FunctionName='f')['Payload'].read()\n"),
    "fixture": (
        "def test_{n}(lambda_stub):\n"
        "    lambda_stub.add_function('f', handler)\n"
        "    client.invoke(FunctionName='f')['Payload'].read()\n"),
    "decorator": (
        "@stub_lambda(functions={{'f': handler}})\n"
        "def test_{n}():\n"
        "    client.invoke(FunctionName='f')['Payload'].read()\n"),
    "context-manager": (
        "def test_{n}():\n"
        "    with stub_lambda(functions={{'f': handler}}):\n"
        "        client.invoke(FunctionName='f')['Payload'].read()\n"),
}


def write_suites(directory: Path, tests: int) -> dict[str, Path]:
    paths: dict[str, Path] = {}
    for name in SUITES:
        suite = directory / name.replace("-", "_")
        suite.mkdir(parents=True)
        (suite / "pytest.ini").write_text("[pytest]\n")
        body = "\n\n".join(_BODIES[name].format(n=n) for n in range(tests))
        (suite / f"test_{suite.name}.py").write_text(_HEADER + "\n" + body)
        paths[name] = suite
    return paths


def _env(package: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "AWS_")) or k == "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    if package is not None:  # another copy of pytest_lambda_stub (--variant)
        env["PYTHONPATH"] = os.pathsep.join([str(package), *filter(None, [
            env.get("PYTHONPATH")])])
    env.update({"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                # Only this plugin (loaded explicitly below): other installed plugins (xdist,
                # hypothesis, randomly...) would add the same noise to every suite.
                "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    return env


def command(suite: Path) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "-p", "pytest_lambda_stub.plugin", str(suite)]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_suite(suite: Path, tests: int, package: Path | None = None) -> tuple[float, float]:
    """(CPU ms, wall-clock ms) of one run of a suite in a pytest subprocess."""
    cpu, started = _children_cpu(), time.perf_counter()
    result = subprocess.run(command(suite), cwd=suite, env=_env(package), capture_output=True,
                            text=True, check=False)
    elapsed, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if result.returncode != 0 or f"{tests} passed" not in result.stdout:
        raise RuntimeError(f"suite {suite.name} failed:\n{result.stdout}{result.stderr}")
    return cpu * 1000, elapsed * 1000


def measure(tests: int = 300, rounds: int = 5, progress: bool = True,
            variants: dict[str, Path] | None = None) -> dict[str, Any]:
    """Per-test figures (ms above an empty test) and their ratios to Stubber's. ``variants``
    adds the fixture suite run against other copies of the package (``{label: directory}``)."""
    runs: dict[str, tuple[str, Path | None]] = {name: (name, None) for name in SUITES}
    for label, directory in (variants or {}).items():
        runs[f"fixture[{label}]"] = ("fixture", directory)
    names = list(runs)
    times: dict[str, list[float]] = {name: [] for name in names}
    walls: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="lambda-stub-pertest-") as tmp:
        suites = write_suites(Path(tmp), tests)
        for suite, package in runs.values():  # warm-up: bytecode caches, the OS's file cache
            run_suite(suites[suite], tests, package)
        for number in range(rounds):
            # Rotate the order each round, so no suite always runs after the same one.
            order = names[number % len(names):] + names[:number % len(names)]
            for name in order:
                suite, package = runs[name]
                cpu, wall = run_suite(suites[suite], tests, package)
                times[name].append(cpu)
                walls[name].append(wall)
            if progress:
                print(f"  per-test round {number + 1}/{rounds}: " + ", ".join(
                    f"{name} {times[name][-1]:.0f} ms" for name in names), file=sys.stderr)
    medians = {name: statistics.median(values) for name, values in times.items()}
    per_test = {name: (medians[name] - medians["empty"]) / tests for name in names}
    stubber = per_test["stubber"]
    wall_medians = {name: statistics.median(values) for name, values in walls.items()}
    return {
        "tests": tests, "rounds": rounds, "clock": "cpu (user+sys of the pytest subprocess)",
        "suite_ms": times, "median_suite_ms": medians, "wall_suite_ms": walls,
        "wall_per_test_ms": {name: (wall_medians[name] - wall_medians["empty"]) / tests
                             for name in names},
        "per_test_ms": per_test,
        "vs_stubber": {name: per_test[name] / stubber if stubber > 0 else float("nan")
                       for name in names if name not in ("empty", "stubber")},
    }


def _instructions(suite: Path, tests: int, package: Path | None) -> int:
    env = _env(package)
    env["PYTHONHASHSEED"] = "0"
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
           *command(suite)]
    result = subprocess.run(cmd, cwd=suite, env=env, capture_output=True, text=True,
                            check=False)
    found = re.search(r"I\s+refs:\s+([\d,]+)", result.stderr)
    if f"{tests} passed" not in result.stdout or found is None:
        raise RuntimeError(f"suite {suite.name} failed:\n{result.stdout}{result.stderr}")
    return int(found.group(1).replace(",", ""))


def measure_instructions(variants: dict[str, Path] | None = None, small: int = 20,
                         big: int = 120) -> dict[str, Any]:
    """Instructions per test of each suite (above the empty one's) and ratios to Stubber's."""
    runs: dict[str, tuple[str, Path | None]] = {name: (name, None) for name in SUITES}
    for label, directory in (variants or {}).items():
        runs[f"fixture[{label}]"] = ("fixture", directory)
    per_test: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="lambda-stub-pertest-") as tmp:
        few = write_suites(Path(tmp) / "few", small)
        many = write_suites(Path(tmp) / "many", big)
        for name, (suite, package) in runs.items():
            per_test[name] = (_instructions(many[suite], big, package)
                              - _instructions(few[suite], small, package)) / (big - small)
            print(f"  {name}: {per_test[name] / 1000:,.0f} k instructions per test",
                  file=sys.stderr)
    above = {name: value - per_test["empty"] for name, value in per_test.items()}
    return {"tests": [small, big], "instructions_per_test": per_test, "above_empty": above,
            "vs_stubber": {name: above[name] / above["stubber"] for name in above
                           if name not in ("empty", "stubber")}}


def print_instructions(figures: dict[str, Any]) -> None:
    print("instructions per test (valgrind cachegrind; suites of 120 and 20 tests, "
          "difference / 100), above the empty suite's")
    print(f"{'suite':<22} {'k instr':>10} {'above':>8} {'/stubber':>9}")
    for name, value in figures["instructions_per_test"].items():
        ratio = figures["vs_stubber"].get(name, 1.0 if name == "stubber" else None)
        print(f"{name:<22} {value / 1000:>10,.0f} {figures['above_empty'][name] / 1000:>8,.0f} "
              f"{'-' if ratio is None else f'{ratio:.2f}':>9}")


def print_table(figures: dict[str, Any]) -> None:
    print(f"per-test cost: {figures['tests']} tests per suite, {figures['rounds']} interleaved "
          f"rounds, median CPU time of each pytest subprocess, empty suite subtracted")
    print(f"{'suite':<22} {'suite ms':>10} {'ms/test':>8} {'/stubber':>9}")
    for name in figures["median_suite_ms"]:
        ratio = figures["vs_stubber"].get(name)
        ratio_text = f"{ratio:>9.2f}" if ratio is not None else (
            f"{1.0:>9.2f}" if name == "stubber" else f"{'-':>9}")
        print(f"{name:<22} {figures['median_suite_ms'][name]:>10.0f} "
              f"{figures['per_test_ms'][name]:>8.3f} {ratio_text}")


def profile(name: str, tests: int, output: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="lambda-stub-pertest-") as tmp:
        suites = write_suites(Path(tmp), tests)
        run_suite(suites[name], tests)
        cmd = command(suites[name])
        cmd[1:1] = ["-m", "cProfile", "-o", str(output.resolve())]
        subprocess.run(cmd, cwd=suites[name], env=_env(), check=True, capture_output=True)
    print(f"wrote {output} (python -m pstats {output})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tests", type=int, default=None, help="tests per suite (300)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (5)")
    parser.add_argument("--quick", action="store_true", help="100 tests, 3 rounds")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--variant", action="append", default=[], metavar="LABEL=DIR",
                        help="also time the fixture suite with the pytest_lambda_stub package "
                             "found in DIR (e.g. an older version, for what a change bought)")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions (valgrind cachegrind) instead of CPU time")
    parser.add_argument("--profile", choices=SUITES, default=None,
                        help="write a cProfile of one suite's run (pertest-<suite>.prof)")
    args = parser.parse_args(argv)
    tests = args.tests or (100 if args.quick else 300)
    rounds = args.rounds or (3 if args.quick else 5)
    if args.profile:
        profile(args.profile, tests, Path(f"pertest-{args.profile}.prof"))
        return 0
    variants = dict((label, Path(path).resolve()) for label, _, path in
                    (item.partition("=") for item in args.variant))
    if args.instructions:
        counted = measure_instructions(variants)
        print_instructions(counted)
        if args.json is not None:
            args.json.write_text(json.dumps(counted, indent=2) + "\n")
        return 0
    figures = measure(tests, rounds, variants=variants)
    print_table(figures)
    for name, ratio in figures["vs_stubber"].items():
        if "[" in name:
            continue
        print(f"per-test {name + ' / Stubber':<26} {ratio:>6.2f}  limit 1.00  "
              f"{'PASS' if ratio <= 1.0 else 'MISS'}")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
