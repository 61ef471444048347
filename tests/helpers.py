"""Shared test helpers: real boto3 clients (no credentials; the stub answers unsigned)."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config

REGION = "eu-west-1"


def client(region: str = REGION, **config: Any) -> Any:
    return boto3.client("lambda", region_name=region, config=Config(**config) if config else None)


def payload(response: dict[str, Any]) -> Any:
    return json.loads(response["Payload"].read())
