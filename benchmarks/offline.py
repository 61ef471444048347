"""Set up a benchmark process before it imports botocore: no real credentials, no
instance-metadata look-ups, no AWS config files, and the repository root importable.

Imported first by each benchmark script (run as ``python benchmarks/<script>.py``, which puts
this folder on ``sys.path``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
              "AWS_DEFAULT_REGION", "AWS_REGION"):
    os.environ.pop(_name, None)
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
