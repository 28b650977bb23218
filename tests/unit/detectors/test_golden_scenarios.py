"""Golden scenarios: seeded event sequences with the tier and reasons expected at each event."""

from __future__ import annotations

from detectors.events import Event
from detectors.tiering import PROBATION, PROBATION_PASSED
from tests.unit.detectors.scenario import Timeline, run


def test_minimum_payer_who_stacks_microloans_then_falls_35_days_behind_ends_in_d() -> None:
    t = Timeline()
    events: list[Event] = [
        t.repayment(0, paid=10.0),  # 0: minimum only, 1st
        t.repayment(30, paid=10.0),  # 1: 2nd
        t.repayment(60, paid=10.0),  # 2: 3rd in a row
        t.borrowing(65, "micro-1"),  # 3
        t.borrowing(75, "micro-2"),  # 4
        t.borrowing(84, "micro-3"),  # 5: third distinct lender within 20 days
        t.repayment(90, paid=0.0, dpd=35),  # 6: 35 days behind
    ]
    _, decisions = run(events)
    got = [(d.tier, d.reasons) for d in decisions]
    assert got[0] == ("A", ())
    assert got[1] == ("A", ())
    assert got[2] == ("B", ("W_MIN_PAYMENT_STREAK",))
    assert got[3] == got[4] == ("B", ("W_MIN_PAYMENT_STREAK",))
    assert got[5] == ("C", ("S_MULTI_LENDER_BURST", "W_MIN_PAYMENT_STREAK"))
    assert [a.queue for a in decisions[5].alerts] == ["collections.contact_check"]
    assert got[6] == ("D", ("S_DPD_30", "S_MULTI_LENDER_BURST", "SCORE_B"))
    changes = [d.tier_change for d in decisions if d.tier_change]
    assert [(c.previous_tier, c.tier, c.cause_event_id) for c in changes] == [
        (None, "A", events[0].event_id),
        ("A", "B", events[2].event_id),
        ("B", "C", events[5].event_id),
        ("C", "D", events[6].event_id),
    ]
    assert [a.queue for a in decisions[6].alerts] == [
        "collections.immediate",
        "credit.limit_review",
    ]


def test_clean_payer_stays_a_with_no_alerts() -> None:
    t = Timeline()
    events: list[Event] = []
    for month in range(12):
        events.append(t.repayment(30 * month))
        if month % 3 == 0:
            events.append(t.contact(30 * month + 5))
    _, decisions = run(events)
    assert {d.tier for d in decisions} == {"A"}
    assert all(d.reasons == () for d in decisions)
    assert [d.tier_change is not None for d in decisions].count(True) == 1
    assert not any(d.alerts for d in decisions)


def test_lost_contact_does_not_return_to_a_the_day_after_one_successful_call() -> None:
    t = Timeline()
    events: list[Event] = [
        t.repayment(0),  # 0: A
        t.contact(10, "no_answer"),  # 1: one failed check: weak
        t.contact(13, "powered_off"),  # 2
        t.contact(16, "unreachable"),  # 3: three in a row, but only 6 days
        t.contact(18, "no_answer"),  # 4: 8 days failing: contact lost
        t.contact(19, "reachable"),  # 5: one successful call the next day
        t.repayment(30),  # 6: clean cycle 1
        t.repayment(60),  # 7: clean cycle 2
        t.repayment(90),  # 8: clean cycle 3: probation passed, one step only
        t.repayment(120),  # 9
    ]
    _, decisions = run(events)
    got = [(d.tier, d.reasons) for d in decisions]
    assert got[0] == ("A", ())
    assert got[1] == ("B", ("W_FAILED_CONTACT",))
    assert got[3] == ("B", ("W_FAILED_CONTACT",))
    assert got[4] == ("C", ("S_CONTACT_LOST", "W_FAILED_CONTACT"))
    assert got[5] == ("C", (PROBATION,))
    assert got[6] == got[7] == ("C", (PROBATION,))
    assert got[8] == ("B", (PROBATION_PASSED,))
    assert got[9] == ("B", (PROBATION,))
    # C while unreachable: IVR/SMS and repeated checks; the call that got through is held.
    assert [a.queue for a in decisions[4].alerts] == [
        "collections.ivr_sms",
        "collections.contact_check",
    ]
