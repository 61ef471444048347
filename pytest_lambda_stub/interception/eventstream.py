"""Encoding AWS event-stream messages (``application/vnd.amazon.eventstream``).

Each message: total length (4 bytes), headers length (4 bytes), CRC32 of those 8 bytes,
headers, payload, CRC32 of everything before it. botocore's own decoder reads them.
"""

from __future__ import annotations

import json
import struct
from binascii import crc32
from collections.abc import Mapping

_STRING = 7


def _header(name: str, value: str) -> bytes:
    encoded_name = name.encode("utf-8")
    encoded_value = value.encode("utf-8")
    return (struct.pack("!B", len(encoded_name)) + encoded_name
            + struct.pack("!BH", _STRING, len(encoded_value)) + encoded_value)


def message(headers: Mapping[str, str], payload: bytes) -> bytes:
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack("!II", total, len(encoded))
    prelude += struct.pack("!I", crc32(prelude) & 0xFFFFFFFF)
    body = prelude + encoded + payload
    return body + struct.pack("!I", crc32(body) & 0xFFFFFFFF)


def payload_chunk(chunk: bytes) -> bytes:
    return message({":event-type": "PayloadChunk", ":content-type": "application/octet-stream",
                    ":message-type": "event"}, chunk)


def invoke_complete(members: Mapping[str, str]) -> bytes:
    return message({":event-type": "InvokeComplete", ":content-type": "application/json",
                    ":message-type": "event"}, json.dumps(dict(members)).encode("utf-8"))
