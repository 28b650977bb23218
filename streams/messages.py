"""Message bodies and headers loanwatch writes to Kafka (formats in ``docs/topics.md``).

>>> json_bytes({"tier": "D"})
b'{"tier":"D"}'
>>> dict(dead_letter_headers("bad", "t", 0, 7))["loanwatch.source.offset"]
b'7'
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson


def json_bytes(body: dict[str, Any]) -> bytes:
    """Compact JSON, UTF-8.

    >>> json_bytes({"tier": "C", "reasons": ["überfällig"], "score": 0.5})
    b'{"tier":"C","reasons":["\xc3\xbcberf\xc3\xa4llig"],"score":0.5}'
    """
    return orjson.dumps(body)


def rfc3339(moment: datetime) -> str:
    """An aware datetime as RFC 3339 text, as orjson writes it in message bodies (and as
    ``isoformat`` does): how rows give PostgreSQL their timestamps, since psycopg's dumper
    formats through ``isoformat``, which goes through ``printf`` (15,000 instructions).

    >>> from datetime import timedelta, timezone
    >>> rfc3339(datetime(2024, 3, 1, 9, 30, 0, 250, tzinfo=timezone(timedelta(hours=8))))
    '2024-03-01T09:30:00.000250+08:00'
    """
    return orjson.dumps(moment)[1:-1].decode()


def dead_letter_headers(
    reason: str, topic: str, partition: int, offset: int
) -> list[tuple[str, bytes]]:
    """Where a dead letter came from and why it was rejected; its value stays the original."""
    return [
        ("loanwatch.reason", reason.encode()),
        ("loanwatch.source.topic", topic.encode()),
        ("loanwatch.source.partition", str(partition).encode()),
        ("loanwatch.source.offset", str(offset).encode()),
    ]
