from __future__ import annotations

import pytest

from iplos.errors import IplosError
from iplos.linkage import LinkageRequest, Population, VariableRef, base_register, check_approvals


def test_years_pick_iplos_or_kpr() -> None:
    assert base_register(2017) == "iplos" and base_register(2018) == "kpr"
    req = LinkageRequest.build("C", [2016, 2019], ["iplos.person.kjonn"], approvals=["iplos"])
    assert req.base_registers == ("iplos", "kpr")
    assert check_approvals(req) == ["kpr"]


def test_every_linked_register_needs_its_approval() -> None:
    req = LinkageRequest.build(
        "C",
        [2012],
        ["iplos.person.kjonn", "dar.dodsfall.dodsdato", "ssb.befolkning.sivilstand"],
        approvals=["iplos"],
    )
    assert check_approvals(req) == ["dar", "ssb"]
    full = LinkageRequest.build("C", [2012], req.variables, approvals=["iplos", "dar", "ssb"])
    assert check_approvals(full) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kjonn", "register.table.column"),
        ("iplos.foo.kjonn", "no table"),
        ("dar.episode.x", "only table"),
        ("xyz.t.c", "unknown register"),
        ("iplos.person.pseudonym", "identifier"),
    ],
)
def test_bad_variables(text: str, message: str) -> None:
    with pytest.raises(IplosError, match=message):
        VariableRef.parse(text)


def test_kpr_variables_are_written_as_iplos() -> None:
    assert str(VariableRef.parse("kpr.person.kjonn")) == "iplos.person.kjonn"


def test_population_checks() -> None:
    with pytest.raises(IplosError, match="institution service codes"):
        Population(home_dwelling=True)
    with pytest.raises(IplosError, match="empty"):
        Population(min_age=90, max_age=80)
    with pytest.raises(IplosError, match="no årganger"):
        LinkageRequest.build("C", [], ["iplos.person.kjonn"])
