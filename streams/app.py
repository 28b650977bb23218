"""The Faust application: ``faust -A streams.app worker`` or ``loanwatch worker``.

Agents and tables live in their own modules and register themselves on ``app``; this
module only builds the app from the settings and imports them.
"""

from __future__ import annotations

from typing import Any

from streams.batch_consumer import LoanwatchApp
from streams.collector import collect_rarely
from streams.kafka_security import faust_credentials
from streams.settings import Settings, get_settings


def create_app(settings: Settings) -> LoanwatchApp:
    """A Faust app configured from ``settings`` (broker, store, web server, data dir)."""
    return LoanwatchApp(
        settings.app_id,
        broker=settings.kafka_broker_urls,
        broker_credentials=faust_credentials(settings),
        store=settings.table_store,
        datadir=str(settings.data_dir),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=1,
        web_host=settings.web_canonical_host,
        web_port=settings.web_port,
        web_bind=settings.web_bind or settings.web_host or "0.0.0.0",
        canonical_url=f"http://{settings.web_canonical_host}:{settings.web_port}",
        consumer_auto_offset_reset="earliest",
        # Faust would wait, at every rebalance and at shutdown, for each message it handed
        # out to be acknowledged; events held for event-time order are acknowledged only
        # once processed, so it waited for ever (spinning on gc.collect). Processing is
        # idempotent: what is not acknowledged is simply read again by the next owner.
        stream_wait_empty=False,
        producer_acks=-1,  # the heartbeat's acks; a round's records go by streams.round_sender
        broker_max_poll_records=settings.batch_size,  # a fetch is at most one round
        consumer_max_fetch_size=settings.input_fetch_bytes,
        autodiscover=False,
    )


app = create_app(get_settings())


@app.on_worker_init.connect  # type: ignore[arg-type]
def collect_garbage_rarely(sender: Any, **_: Any) -> None:
    """Tune the garbage collector for the worker's many long-lived states (the app and
    everything it loaded are frozen): :mod:`streams.collector`."""
    collect_rarely()


# Registering modules: each binds its agents, tables, timers and pages to ``app``.
from streams import heartbeat, lag, pipeline, web  # noqa: E402,F401
