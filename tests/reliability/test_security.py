"""Security: the lookup API refuses missing and wrong tokens; SQL is parameterised only;
secrets and borrower identifiers never appear in a worker's logs or metric labels."""

from __future__ import annotations

import ast
import json
import re
import time
from pathlib import Path

import psycopg

from streams.settings import REPO_ROOT
from tests.conftest import Stack
from tests.e2e.pipeline_support import http_get, simulated_events
from tests.reliability.support import (
    Message,
    report,
    send_all,
    settle_and_audit,
    start_worker,
    wait_ready,
)

API_TOKEN = "api-secret-5d0c2e8b1a"
DB_PASSWORD = "db-secret-93be41c7"
EVENTS = 1500
INJECTION = "x'); drop table alerts; --"
EXECUTORS = {"execute", "executemany", "copy"}


def sql_built_by_string_operations(path: Path) -> list[str]:
    """Calls of ``execute``/``executemany``/``copy`` whose SQL is an f-string, a ``%`` or
    ``+`` expression or a ``str.format`` call, anywhere in the first argument except inside
    psycopg's ``sql.SQL(...)`` composition of literals."""
    findings = []
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in EXECUTORS and node.args):  # fmt: skip
            continue
        for part in ast.walk(node.args[0]):
            bad = (
                isinstance(part, ast.JoinedStr)
                or (isinstance(part, ast.BinOp) and isinstance(part.op, ast.Mod | ast.Add)
                    and not _inside_literal_sql(part, node.args[0]))
                or (isinstance(part, ast.Call) and isinstance(part.func, ast.Attribute)
                    and part.func.attr == "format" and isinstance(part.func.value, ast.Constant))
            )  # fmt: skip
            if bad:
                findings.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
                break
    return findings


def _inside_literal_sql(binop: ast.BinOp, root: ast.expr) -> bool:
    """A ``+`` of string literals and a ``Table``'s ``on_conflict`` (itself a literal, checked
    by :func:`test_on_conflict_clauses_are_literals`) inside ``sql.SQL(...)``."""
    for node in ast.walk(root):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "SQL" and binop in node.args):  # fmt: skip
            leaves = [binop.left, binop.right]
            return isinstance(binop.op, ast.Add) and all(
                (isinstance(leaf, ast.Constant) and isinstance(leaf.value, str))
                or (isinstance(leaf, ast.Attribute) and leaf.attr == "on_conflict")
                for leaf in leaves
            )
    return False


def test_sql_is_parameterised_only() -> None:
    files = sorted((REPO_ROOT / "streams").rglob("*.py"))
    assert len(files) > 10
    findings = [finding for path in files for finding in sql_built_by_string_operations(path)]
    assert not findings, f"SQL built from strings (use parameters or psycopg.sql): {findings}"


def test_the_scanner_finds_string_built_sql(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f(conn, name, sql):\n"
        "    conn.execute(f'select * from t where name = {name}')\n"
        "    conn.execute('select * from t where name = %s' % name)\n"
        "    conn.execute('select * from t where name = ' + name)\n"
        "    conn.execute('select {}'.format(name))\n"
        "    conn.execute('select * from t where name = %s', (name,))\n"
        "    conn.execute(sql.SQL('select {}').format(sql.Identifier(name)))\n"
    )
    original = REPO_ROOT
    try:
        globals()["REPO_ROOT"] = tmp_path
        assert sql_built_by_string_operations(bad) == [f"bad.py:{n}" for n in (2, 3, 4, 5)]
    finally:
        globals()["REPO_ROOT"] = original


def test_on_conflict_clauses_are_literals() -> None:
    tree = ast.parse((REPO_ROOT / "streams" / "history.py").read_text())
    tables = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
              and isinstance(node.func, ast.Name) and node.func.id == "Table"]  # fmt: skip
    assert len(tables) >= 6
    for table in tables:
        clause = table.args[2]
        assert all(isinstance(leaf, ast.Constant) for leaf in ast.walk(clause)
                   if not isinstance(leaf, ast.BinOp | ast.operator)), ast.dump(clause)  # fmt: skip


def test_tokens_are_required_and_secrets_and_borrowers_stay_out_of_logs_and_metrics(
    scratch_stack: Stack, tmp_path: Path
) -> None:
    started = time.monotonic()
    url = f"{scratch_stack.database_url} password={DB_PASSWORD}"  # trusted: any is accepted
    mine = Stack(scratch_stack.run_id, scratch_stack.kafka_bootstrap, url,
                 scratch_stack.topic_prefix)  # fmt: skip
    assert DB_PASSWORD in mine.database_url
    events = simulated_events(tmp_path / "events.jsonl", EVENTS, seed=91)
    good = [json.loads(line) for line in events.read_text().splitlines()]
    injected = {**good[0], "event_id": "inj-1", "borrower_id": INJECTION}
    messages: list[Message] = [
        (e["event_type"], e["borrower_id"].encode(), json.dumps(e).encode()) for e in good
    ]
    messages.append((injected["event_type"], INJECTION.encode(), json.dumps(injected).encode()))
    messages.append(("repayment", b"b000001", b'{"borrower_id": "b000001", "amount_due": -1}'))
    send_all(mine, messages)
    (tmp_path / "all.jsonl").write_text("".join(json.dumps(e) + "\n" for e in [*good, injected]))

    worker = start_worker(mine, tmp_path, "secure", LOANWATCH_API_TOKEN=API_TOKEN)
    try:
        wait_ready(worker)
        audit = settle_and_audit(mine, tmp_path / "all.jsonl", tmp_path / "replay", 1, [worker])
        borrower = audit.db_changes[0][1]
        path = f"/borrowers/{borrower}"
        answers = {
            "none": http_get(worker.web_port, path, None)[0],
            "wrong": http_get(worker.web_port, path, "wrong-token")[0],
            "prefix": http_get(worker.web_port, path, API_TOKEN[:-1])[0],
            "longer": http_get(worker.web_port, path, API_TOKEN + "x")[0],
            "empty": http_get(worker.web_port, path, "")[0],
            "right": http_get(worker.web_port, path, API_TOKEN)[0],
            "unknown": http_get(worker.web_port, "/borrowers/nobody", API_TOKEN)[0],
        }
        basic = _get_with_header(worker.web_port, path, f"Basic {API_TOKEN}")
        metrics_text = str(http_get(worker.web_port, "/metrics", None)[1])
    finally:
        worker.stop()
    log = worker.log_path.read_text(errors="replace")

    assert answers == {"none": 401, "wrong": 401, "prefix": 401, "longer": 401, "empty": 401,
                       "right": 200, "unknown": 404}  # fmt: skip
    assert basic == 401
    audit.assert_exact(audit.dead_topic)
    with psycopg.connect(scratch_stack.database_url) as conn:
        assert conn.execute("select count(*) from alerts").fetchone() is not None
        stored = conn.execute("select count(*) from borrower_tiers where borrower_id = %s",
                              (INJECTION,)).fetchone()  # fmt: skip
    assert stored == (1,), "the injection attempt is stored verbatim as a borrower id"
    borrowers = {e["borrower_id"] for e in good} | {INJECTION}
    for text, where in ((log, "worker log"), (metrics_text, "/metrics")):
        assert API_TOKEN not in text, f"API token in the {where}"
        assert DB_PASSWORD not in text, f"database password in the {where}"
        leaked = sorted(b for b in borrowers if re.search(rf"\b{re.escape(b)}\b", text))
        assert not leaked, f"borrower ids in the {where}: {leaked[:5]}"
    assert "wrong-token" not in log
    report("security", refused=sum(1 for s in answers.values() if s == 401) + 1,
           log_lines=len(log.splitlines()), borrowers_scanned=len(borrowers),
           metric_lines=len(metrics_text.splitlines()), seconds=round(time.monotonic() - started))


def _get_with_header(port: int, path: str, authorization: str) -> int:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers={"Authorization": authorization})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
