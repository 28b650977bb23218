"""Bad input: 10,000 malformed messages mixed with good events on the real input topics.

The worker must not crash; every malformed message must be in the dead-letter topic and the
``dead_letters`` table exactly once, with a reason, identified by its source topic,
partition and offset; every good event must be processed: PostgreSQL holds exactly the tier
changes and alerts that ``loanwatch replay`` gives for the good events alone.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from tests.conftest import Stack
from tests.e2e.pipeline_support import simulated_events
from tests.reliability.malformed import is_rejected, malformed
from tests.reliability.support import (
    Message,
    metric_sum,
    metric_values,
    report,
    seeded,
    send_all,
    settle_and_audit,
    start_worker,
)

GOOD_EVENTS = 3000
BAD_MESSAGES = 10_000


def test_malformed_messages_are_dead_lettered_and_good_ones_processed(
    scratch_stack: Stack, tmp_path: Path
) -> None:
    started = time.monotonic()
    good_file = simulated_events(tmp_path / "good.jsonl", GOOD_EVENTS, seed=41)
    good = [json.loads(line) for line in good_file.read_text().splitlines()]
    rng = seeded(4242)
    bad = [malformed(rng, good) for _ in range(BAD_MESSAGES)]
    assert all(is_rejected(kind, key, value) for kind, key, value, _ in bad)

    # Good events in file order, the malformed ones at random places among them.
    slots = sorted(rng.randrange(len(good) + 1) for _ in bad)
    messages: list[Message] = []
    bad_index: list[int] = []
    b = 0
    for i, event in enumerate(good):
        while b < len(slots) and slots[b] == i:
            kind, key, value, _ = bad[b]
            bad_index.append(len(messages))
            messages.append((kind, key, value))
            b += 1
        messages.append((event["event_type"], event["borrower_id"].encode(),
                         json.dumps(event).encode()))  # fmt: skip
    for kind, key, value, _ in bad[b:]:
        bad_index.append(len(messages))
        messages.append((kind, key, value))
    where = send_all(scratch_stack, messages)
    bad_sent = [where[i] for i in bad_index]

    worker = start_worker(scratch_stack, tmp_path, "fuzz")
    try:
        audit = settle_and_audit(scratch_stack, good_file, tmp_path / "replay", len(bad_sent),
                                 [worker])  # fmt: skip
        values = metric_values(worker)
        alive = worker.process is not None and worker.process.poll() is None
    finally:
        worker.stop()
    log = worker.log_path.read_text(errors="replace")

    assert alive, f"the worker died\n{worker.log_tail()}"
    assert "crashed" not in log.lower() and "Traceback" not in log, worker.log_tail(80)
    audit.assert_exact(bad_sent)
    processed = metric_sum(values, "loanwatch_events_total", 'outcome="processed"')
    dead = metric_sum(values, "loanwatch_dead_letters_total")
    assert processed == GOOD_EVENTS
    assert dead == BAD_MESSAGES
    reasons = Counter(reason.split(":")[0][:30] for _, reason, _ in audit.dead_rows)
    report("bad input", good_events=GOOD_EVENTS, malformed=BAD_MESSAGES,
           kinds=dict(Counter(name for *_, name in bad)),
           top_reasons=dict(reasons.most_common(8)), **audit.counts(),
           seconds=round(time.monotonic() - started))  # fmt: skip
