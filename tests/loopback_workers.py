"""Code run in child processes (multiprocessing's spawn start method imports it there): boto3
clients with no endpoint argument, reaching the stub through AWS_ENDPOINT_URL_LAMBDA."""

from __future__ import annotations

import json
import os
from typing import Any


def invoke_many(worker: int, count: int = 5) -> dict[str, Any]:
    """Invoke ``echo`` ``count`` times from a fresh client; the answers' request ids and bodies."""
    import boto3

    client = boto3.client("lambda")
    answers = []
    for n in range(count):
        response = client.invoke(FunctionName="echo",
                                 Payload=json.dumps({"worker": worker, "n": n}))
        answers.append((response["ResponseMetadata"]["RequestId"],
                        json.loads(response["Payload"].read())))
    return {"pid": os.getpid(), "endpoint": client.meta.endpoint_url, "answers": answers}
