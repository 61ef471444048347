"""Benchmark: the loopback endpoint's per-invoke cost against the in-process path.

Run from the repository root::

    python benchmarks/loopback.py              # prints the table, writes benchmarks/results-loopback.json
    python benchmarks/loopback.py --quick      # a fast, noisier run
    python benchmarks/loopback.py --json out.json

Cases, each a block of ``--calls`` synchronous invokes of a trivial handler returning ``{}``,
interleaved over ``--rounds`` rounds (median of the per-call times):

1. ``in-process``: a boto3 client in this process, answered by the stub's botocore hooks.
2. ``child-in-process``: a boto3 client in a child process answered by a stub of its own, in
   that process: the same path, timed in a fresh interpreter (the baseline for 3).
3. ``loopback``: a boto3 client in a child process (endpoint from ``AWS_ENDPOINT_URL_LAMBDA``,
   signed with fake keys), answered over HTTP by this process's stub (``stub.serve()``).
4. ``loopback-8-procs``: 8 such child processes at once; the mean of their times per call
   (on 2 cores, 8 busy clients share the CPU with the server).

Child processes time their own calls (start-up excluded); every call is checked (status 200,
body ``{}``) and the stub's record count is checked against the calls made.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from offline import ROOT  # first: the environment, before botocore is imported

# isort: split

import boto3

from pytest_lambda_stub import LambdaStub

REGION = "eu-west-1"
CHILD_ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "fake-secret",
             "AWS_DEFAULT_REGION": REGION}

# A child: warm up, then time ``calls`` invokes; prints the seconds per call.
CHILD = """
import json, sys, time
own_stub = sys.argv[2] == "own"
if own_stub:
    from pytest_lambda_stub import stub_lambda
    stub = stub_lambda({"bench": lambda event, context: {}}, export_endpoint=False).start()
import boto3
client = boto3.client("lambda")
calls = int(sys.argv[1])
for _ in range(20):
    client.invoke(FunctionName="bench", Payload=b'{"k": 1}')
start = time.perf_counter()
for _ in range(calls):
    response = client.invoke(FunctionName="bench", Payload=b'{"k": 1}')
    assert response["StatusCode"] == 200 and response["Payload"].read() == b"{}", response
print(json.dumps({"per_call": (time.perf_counter() - start) / calls, "warm": 20}))
"""


def handler(event: Any, context: Any) -> Any:
    return {}


def in_process(stub: LambdaStub, calls: int) -> float:
    client = boto3.client("lambda", region_name=REGION)
    for _ in range(20):
        client.invoke(FunctionName="bench", Payload=b'{"k": 1}')
    start = time.perf_counter()
    for _ in range(calls):
        response = client.invoke(FunctionName="bench", Payload=b'{"k": 1}')
        assert response["StatusCode"] == 200 and response["Payload"].read() == b"{}"
    return (time.perf_counter() - start) / calls


def children(calls: int, mode: str, count: int, env: dict[str, str]) -> list[float]:
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(calls), mode], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(count)]
    figures = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise SystemExit(f"child failed:\n{err}")
        figures.append(json.loads(out)["per_call"])
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="3 rounds x 100 calls")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results-loopback.json")
    args = parser.parse_args(argv)
    rounds, calls = (3, 100) if args.quick else (args.rounds, args.calls)

    times: dict[str, list[float]] = {"in-process": [], "child-in-process": [], "loopback": [],
                                     "loopback-8-procs": []}
    stub = LambdaStub({"bench": handler}, export_endpoint=True, strict=False)
    with stub:
        stub.serve()
        env = dict(os.environ, **CHILD_ENV)  # with AWS_ENDPOINT_URL_LAMBDA exported
        own_env = {k: v for k, v in env.items() if k != "AWS_ENDPOINT_URL_LAMBDA"}
        expected = 0
        for _ in range(rounds):
            times["in-process"].append(in_process(stub, calls))
            times["child-in-process"].append(children(calls, "own", 1, own_env)[0])
            times["loopback"].append(children(calls, "loopback", 1, env)[0])
            times["loopback-8-procs"].append(statistics.mean(children(calls, "loopback", 8,
                                                                       env)))
            expected += 9 * (calls + 20)  # one loopback child, then eight
        loopback_records = sum(1 for r in stub.invocations if r.source == "loopback")
    assert loopback_records == expected, (loopback_records, expected)

    figures = {case: statistics.median(values) * 1e6 for case, values in times.items()}
    base = figures["in-process"]
    descriptions = {
        "in-process": "boto3 in this process, answered by the hooks",
        "child-in-process": "boto3 in a child process, with its own in-process stub",
        "loopback": "boto3 in a child process, over HTTP to this process's stub",
        "loopback-8-procs": "8 child processes at once over HTTP (each one's time per call)",
    }
    print(f"pytest-lambda-stub loopback benchmark: {rounds} rounds x {calls} calls, median")
    print(f"{'case':<18} {'us/call':>9} {'/in-proc':>9}  description")
    for case, value in figures.items():
        print(f"{case:<18} {value:9.1f} {value / base:9.2f}  {descriptions[case]}")
    overhead = figures["loopback"] - figures["child-in-process"]
    print(f"loopback overhead per call (loopback - child-in-process): {overhead:.1f} us")
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count()},
        "rounds": rounds, "calls": calls, "us_per_call": figures,
        "ratio_to_in_process": {case: value / base for case, value in figures.items()},
        "loopback_overhead_us": overhead, "records_checked": loopback_records,
    }
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
