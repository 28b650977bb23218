"""The worker's HTTP endpoints, on Faust's web server (``LOANWATCH_WEB_PORT``).

* ``GET /borrowers/{id}``: current tier, score, reasons and recent decisions of a borrower,
  answered by whichever worker owns the borrower (others forward the request). Requires
  ``Authorization: Bearer <LOANWATCH_API_TOKEN>``; without a configured token the endpoint
  refuses every request.
* ``GET /health``: the process is up. ``GET /ready``: partitions are assigned and table
  recovery has finished. ``GET /metrics``: Prometheus text format.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from faust.web import Request, Response, View

from detectors.state import BorrowerState
from streams import metrics
from streams.app import app
from streams.pipeline import EVENT_TYPE_OF_TOPIC, borrowers, live
from streams.settings import get_settings

settings = get_settings()
Handler = Callable[..., Awaitable[Response]]
# Prometheus text format; aiohttp wants the charset apart from the content type.
PROMETHEUS_TEXT = "text/plain; version=0.0.4"


def authorised(request: Request) -> bool:
    """Whether the request carries the configured bearer token (compared in constant time)."""
    token = settings.api_token
    if token is None:
        return False
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.encode(), token.get_secret_value().encode()
    )


def requires_token(view: Handler) -> Handler:
    """Answer 401 before any routing or lookup when the token is missing or wrong."""

    async def guarded(self: View, request: Request, **kwargs: Any) -> Response:
        if not authorised(request):
            return self.json({"error": "missing or wrong bearer token"}, status=401,
                             headers={"WWW-Authenticate": 'Bearer realm="loanwatch"'})  # fmt: skip
        return await view(self, request, **kwargs)

    return guarded


def borrower_view(state: BorrowerState) -> dict[str, Any]:
    """What the API tells about one borrower (no raw histories).

    >>> view = borrower_view(BorrowerState("b1", tier="B", reasons=("W_LATE_1_29",), score=0.2))
    >>> view["tier"], view["recent_decisions"]
    ('B', [])
    """
    return {
        "borrower_id": state.borrower_id,
        "tier": state.tier,
        "score": state.score,
        "reasons": list(state.reasons),
        "as_of": datetime.fromtimestamp(state.now, UTC).isoformat(),
        "recent_decisions": [
            {
                "cause_event_id": event_id,
                "occurred_at": datetime.fromtimestamp(ts, UTC).isoformat(),
                "previous_tier": previous,
                "tier": tier,
                "reasons": list(reasons),
                "score": score,
                "model_version": model,
                "policy_version": policy,
                "alerts": [{"queue": q, "severity": s, "treatment": t} for q, s, t in actions],
            }
            for event_id, ts, previous, tier, reasons, score, model, policy, actions
            in reversed(state.recent)
        ],
    }


@app.page("/borrowers/{borrower_id}")
@requires_token
@app.table_route(table=borrowers, match_info="borrower_id")
async def borrower(self: View, request: Request, borrower_id: str) -> Response:
    stored = borrowers.get(borrower_id.encode())
    if stored is None:
        return self.json({"error": f"no borrower {borrower_id}"}, status=404)
    return self.json(borrower_view(BorrowerState.from_bytes(stored)))


@app.page("/health")
async def health(self: View, request: Request) -> Response:
    return self.json({"status": "ok"})


@app.page("/ready")
async def ready(self: View, request: Request) -> Response:
    recovered = app.tables.recovery.completed.is_set()  # type: ignore[attr-defined]
    inputs = {tp.partition for tp in app.consumer.assignment() if tp.topic in EVENT_TYPE_OF_TOPIC}
    status = 200 if recovered and inputs and not app.rebalancing else 503
    return self.json({"ready": status == 200, "recovered": recovered,
                      "input_partitions": len(inputs), "model_version": live.version},
                     status=status)  # fmt: skip


@app.page("/metrics")
async def prometheus(self: View, request: Request) -> Response:
    return self.bytes(metrics.exposition(), content_type=PROMETHEUS_TEXT)
