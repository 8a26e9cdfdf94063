"""No case gets stuck: withdraw and close from every status where they belong, as events."""

from __future__ import annotations

import pytest

from iplos.cases import STATUSES, CaseService, CommandRefused, Status
from iplos.cases import events as ev
from iplos.cases.examples import Cast, drive
from iplos.cases.permissions import DELIVERED, FINAL, PERMISSIONS

OPEN: list[Status] = [s for s in STATUSES if s not in FINAL]


def test_the_table_leaves_no_status_without_a_way_out() -> None:
    for status in OPEN:
        assert "close" in PERMISSIONS["reviewer"][status] and "close" in PERMISSIONS["administrator"][status]
        assert ("withdraw" in PERMISSIONS["applicant"][status]) == (status not in DELIVERED), status
    for status in FINAL:
        assert not any(PERMISSIONS[role][status] for role in PERMISSIONS)


@pytest.mark.parametrize("status", OPEN)
def test_close_with_a_reason_from_any_open_status(
    memory_service: CaseService, cast: Cast, status: Status
) -> None:
    case = drive(memory_service, status, cast)
    closer = cast.reviewer if OPEN.index(status) % 2 else cast.administrator
    with pytest.raises(CommandRefused, match="needs the reason"):
        memory_service.close_case(case.case_id, closer, "  ")
    memory_service.close_case(case.case_id, closer, "stuck: the applicant's project ended")
    after = memory_service.get(case.case_id)
    assert after.status == "closed" and after.closed_reason == "stuck: the applicant's project ended"
    last = memory_service.history(case.case_id)[-1].event
    assert isinstance(last, ev.Closed) and last.role == closer.role


@pytest.mark.parametrize("status", [s for s in OPEN if s not in DELIVERED])
def test_applicant_withdraws_before_the_delivery(
    memory_service: CaseService, cast: Cast, status: Status
) -> None:
    case = drive(memory_service, status, cast)
    memory_service.withdraw(case.case_id, cast.applicant, "the project lost its funding")
    assert memory_service.get(case.case_id).status == "withdrawn"


def test_applicant_cannot_withdraw_after_the_delivery(memory_service: CaseService, cast: Cast) -> None:
    case = drive(memory_service, "delivered", cast)
    with pytest.raises(CommandRefused, match="cannot withdraw while the case is delivered"):
        memory_service.withdraw(case.case_id, cast.applicant, "too late")
