"""Settings of loanwatch: one frozen object read from ``LOANWATCH_*`` environment variables.

The defaults match the local stack started by ``deploy/local/stack.sh``, so a fresh clone
needs no configuration.

>>> settings = Settings(kafka_bootstrap="kafka-1:9092,kafka-2:9092")
>>> settings.kafka_broker_urls
'kafka://kafka-1:9092;kafka://kafka-2:9092'
>>> settings.topic("events.repayment")
'loanwatch.events.repayment'
>>> Settings(pg_port=25432).database_url
'postgresql://loanwatch@127.0.0.1:25432/loanwatch'
"""

from __future__ import annotations

import socket
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything a loanwatch process reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="LOANWATCH_", frozen=True, extra="ignore")

    # Ports of the local stack (deploy/local/env.sh reads the same variables); they give the
    # default addresses, so moving the local stack to other ports needs one variable each.
    kafka_port: int = 19092
    pg_port: int = 15432
    kafka_bootstrap: str = ""
    database_url: str = ""
    app_id: str = "loanwatch"
    topic_prefix: str = "loanwatch."
    topic_partitions: int = 8
    web_host: str = "127.0.0.1"  # the name other workers reach this one by; "": hostname
    web_port: int = 6066
    web_bind: str | None = None  # address the web server listens on; None: web_host
    data_dir: Path = Path("/tmp/loanwatch-worker")
    table_store: str = "memory://"
    migrations_dir: Path = REPO_ROOT / "sql"
    policy_path: Path | None = None  # None: the policy shipped with the package
    api_token: SecretStr | None = None  # bearer token of the lookup API; unset disables it
    # Most events a fetch hands over, and a round takes. On a backlog, a larger round writes
    # a borrower's state once for more of its events: on the benchmark's 200,000 events a
    # drain wrote 0.31 states per event with these two at 50,000, 0.48 at 20,000 / 10,000
    # (bench/RESULTS.md, round 12, fetches of 1 MiB; 0.12-0.14 with those of 4 MiB, round
    # 13). A live stream's rounds stay small.
    batch_size: int = 50_000
    # Input messages fetched and waiting for processing: beyond, the fetch loop waits. On a
    # backlog a round takes what queued while the one before ran, so this bounds it too.
    input_queue_messages: int = 50_000
    # Most bytes one fetch reads of an input partition. On a backlog, the consumer reads ahead
    # at most this much per partition while a round runs, which bounds the next round: at
    # Kafka's 1 MiB, rounds of the benchmark's 200,000 events stayed near 40,000 whatever
    # the two bounds above (bench/RESULTS.md, round 13).
    input_fetch_bytes: int = 4 * 1024 * 1024
    state_cache_size: int = 200_000  # decoded borrower states a worker keeps in memory
    # Longest an event waits for an idle input topic: the skew between the input topics'
    # producers that still keeps event-time order, and the floor of a live event's latency
    # (0.05 s covers producers that linger up to 20 ms; bench/RESULTS.md, round 6).
    reorder_hold_s: float = 0.05
    # A topic with unread messages that delivers none for this long is passed over: its
    # older events become late events rather than stall the other topics.
    reorder_max_hold_s: float = 30.0
    # An input partition with unread messages and nothing read for this long is read again.
    input_stuck_s: float = 10.0
    model_snapshot_every: int = 1000  # matured outcomes between published model checkpoints
    # Whether a worker takes part in training (off when a `loanwatch trainer` process runs).
    train_in_worker: bool = True
    log_level: str = "INFO"
    log_json: bool = False
    # Kafka security (streams/kafka_security.py turns these into client arguments).
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = (
        "PLAINTEXT"
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_sasl_password_file: Path | None = None  # read at each client start (rotation)
    kafka_ssl_cafile: Path | None = None  # None: the system's trusted CAs
    kafka_ssl_certfile: Path | None = None  # client certificate (mutual TLS)
    kafka_ssl_keyfile: Path | None = None
    kafka_ssl_key_password: SecretStr | None = None
    kafka_ssl_check_hostname: bool = True
    lag_interval_s: float = 5.0  # how often the consumer-lag gauge is refreshed

    @model_validator(mode="before")
    @classmethod
    def _local_stack_addresses(cls, values: dict[str, Any]) -> dict[str, Any]:
        kafka_port = values.get("kafka_port", 19092)
        pg_port = values.get("pg_port", 15432)
        if not values.get("kafka_bootstrap"):
            values["kafka_bootstrap"] = f"127.0.0.1:{kafka_port}"
        if not values.get("database_url"):
            values["database_url"] = f"postgresql://loanwatch@127.0.0.1:{pg_port}/loanwatch"
        return values

    @property
    def kafka_broker_urls(self) -> str:
        """The bootstrap servers in the URL form Faust expects."""
        hosts = [host.strip() for host in self.kafka_bootstrap.split(",") if host.strip()]
        return ";".join(f"kafka://{host}" for host in hosts)

    @property
    def web_canonical_host(self) -> str:
        """The host in this worker's canonical URL: ``web_host``, or the machine's hostname
        when it is empty (a container or pod name other workers can resolve).

        >>> Settings(web_host="worker-1").web_canonical_host
        'worker-1'
        >>> Settings(web_host="").web_canonical_host == socket.gethostname()
        True
        """
        return self.web_host or socket.gethostname()

    def topic(self, name: str) -> str:
        """The full name of one of loanwatch's topics."""
        return f"{self.topic_prefix}{name}"


@cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
