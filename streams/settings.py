"""Settings of loanwatch: one frozen object read from ``LOANWATCH_*`` environment variables.

The defaults match the local stack started by ``deploy/local/stack.sh``, so a fresh clone
needs no configuration.

>>> settings = Settings(kafka_bootstrap="kafka-1:9092,kafka-2:9092")
>>> settings.kafka_broker_urls
'kafka://kafka-1:9092;kafka://kafka-2:9092'
>>> settings.topic("events.repayment")
'loanwatch.events.repayment'
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything a loanwatch process reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="LOANWATCH_", frozen=True, extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:19092"
    database_url: str = "postgresql://loanwatch@127.0.0.1:15432/loanwatch"
    app_id: str = "loanwatch"
    topic_prefix: str = "loanwatch."
    topic_partitions: int = 8
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    data_dir: Path = Path("/tmp/loanwatch-worker")
    table_store: str = "memory://"
    migrations_dir: Path = REPO_ROOT / "sql"
    log_level: str = "INFO"
    log_json: bool = False

    @property
    def kafka_broker_urls(self) -> str:
        """The bootstrap servers in the URL form Faust expects."""
        hosts = [host.strip() for host in self.kafka_bootstrap.split(",") if host.strip()]
        return ";".join(f"kafka://{host}" for host in hosts)

    def topic(self, name: str) -> str:
        """The full name of one of loanwatch's topics."""
        return f"{self.topic_prefix}{name}"


@cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
