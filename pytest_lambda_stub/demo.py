"""A short demo of the context-manager form: ``python -m pytest_lambda_stub.demo``.

A real boto3 client invokes a declared handler; no AWS account, Docker or credentials needed.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any


def resize(event: dict[str, Any], context: Any) -> dict[str, Any]:
    print(f"resizing to half of {event['width']}px")
    return {"width": event["width"] // 2, "request_id": context.aws_request_id}


def main() -> None:
    # No credentials on this machine: skip botocore's instance-metadata look-up.
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    import boto3

    from pytest_lambda_stub import stub_lambda

    client = boto3.client("lambda", region_name="eu-west-1")
    with stub_lambda(functions={"resize-image": resize}) as stub:
        response = client.invoke(FunctionName="resize-image",
                                 Payload=json.dumps({"width": 640}), LogType="Tail")
        print("StatusCode:", response["StatusCode"])
        print("ExecutedVersion:", response["ExecutedVersion"])
        print("Payload:", json.loads(response["Payload"].read()))
        print("Log:")
        print(base64.b64decode(response["LogResult"]).decode(), end="")
    print("recorded:", stub["resize-image"].invocations[0].summary())


if __name__ == "__main__":
    main()
