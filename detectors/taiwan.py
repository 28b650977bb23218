"""The Taiwan "default of credit card clients" file as contract-v1 repayment events.

Each client becomes six monthly repayment events, April to September 2005 (the file's month
order is ``*_6`` oldest to ``*_1``/``PAY_0`` newest). The mapping, per month:

* ``days_past_due`` = 30 x the repayment status when it is a delay of 1..9 months, else 0;
* ``amount_due`` = the previous month's bill (April, with no previous bill, uses its own),
  negative bills (credit balances) count as 0; ``amount_paid`` = that month's payment;
* status 0 ("revolving credit used": the minimum was paid) sets ``minimum_due`` to the
  amount paid, so the engine's minimum-payment signals see it; other statuses give none;
* ``outstanding_balance`` = that month's bill (at least 0), ``credit_limit`` = ``LIMIT_BAL``.

The label, ``default.payment.next.month``, is October 2005's outcome; it is not in the events.

>>> row = {"ID": "7", "LIMIT_BAL": "50000", "default.payment.next.month": "1",
...        **{f"PAY_{k}": "0" for k in (0, 2, 3, 4, 5, 6)},
...        **{f"BILL_AMT{k}": "1000" for k in range(1, 7)},
...        **{f"PAY_AMT{k}": "100" for k in range(1, 7)}}
>>> row["PAY_0"] = "2"
>>> client = TaiwanClient.from_row(row)
>>> client.label, len(client.events())
(1, 6)
>>> last = client.events()[-1]
>>> last.event_id, last.days_past_due, last.minimum_due, str(last.occurred_at.date())
('tw-7-2005-09', 60, None, '2005-09-30')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from detectors.events import Repayment

# Oldest to newest: (year-month, status column, bill column, payment column).
MONTHS = (
    ((2005, 4), "PAY_6", "BILL_AMT6", "PAY_AMT6"),
    ((2005, 5), "PAY_5", "BILL_AMT5", "PAY_AMT5"),
    ((2005, 6), "PAY_4", "BILL_AMT4", "PAY_AMT4"),
    ((2005, 7), "PAY_3", "BILL_AMT3", "PAY_AMT3"),
    ((2005, 8), "PAY_2", "BILL_AMT2", "PAY_AMT2"),
    ((2005, 9), "PAY_0", "BILL_AMT1", "PAY_AMT1"),
)
LABEL = "default.payment.next.month"
_MONTH_END = {4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30}


@dataclass(frozen=True, slots=True)
class TaiwanClient:
    """One client of the file: limit, six monthly (status, bill, payment) and the label."""

    client_id: str
    limit: float
    months: tuple[tuple[int, float, float], ...]  # (status, bill, paid), oldest first
    label: int

    @classmethod
    def from_row(cls, row: Mapping[str, str]) -> TaiwanClient:
        """Read one CSV row (as ``csv.DictReader`` gives it); a bad cell raises ValueError."""
        months = tuple(
            (int(row[status]), float(row[bill]), float(row[paid]))
            for _, status, bill, paid in MONTHS
        )
        return cls(row["ID"], float(row["LIMIT_BAL"]), months, int(row[LABEL]))

    def events(self) -> list[Repayment]:
        """The client's six repayment events, oldest first."""
        events = []
        previous_bill = max(0.0, self.months[0][1])
        for ((year, month), *_), (status, bill, paid) in zip(MONTHS, self.months, strict=True):
            day = _MONTH_END[month]
            events.append(
                Repayment(
                    event_id=f"tw-{self.client_id}-{year}-{month:02d}",
                    borrower_id=f"tw-{self.client_id}",
                    occurred_at=datetime(year, month, day, 12, tzinfo=UTC),
                    loan_id=f"card-{self.client_id}",
                    due_date=date(year, month, 25),
                    amount_due=previous_bill,
                    amount_paid=max(0.0, paid),
                    days_past_due=30 * status if status > 0 else 0,
                    minimum_due=max(0.0, paid) if status == 0 else None,
                    outstanding_balance=max(0.0, bill),
                    credit_limit=self.limit,
                )
            )
            previous_bill = max(0.0, bill)
        return events
