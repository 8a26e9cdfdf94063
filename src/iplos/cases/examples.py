"""A realistic application and the standard path through the workflow, for demos, docs and tests.

`example_application()` is the kind of request the IPLOS register receives: home-dwelling
recipients of services aged 80+ in 2012-2016, with functional scores, services and hours, linked
with the cause of death register. `drive(service, "delivered", cast)` walks a case along the
usual path (submit, review with `fodselsaar` coarsened to 5-year groups and `kommune` to fylke,
approve, offer, accept, link, agree an anonymisation plan, deliver) to any status.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from iplos.cases.decide import Actor
from iplos.cases.model import (
    Application,
    EstimateLine,
    LegalBasis,
    LinkageRequest,
    Project,
    Status,
    VariableRequest,
)
from iplos.cases.population import AgeRange, Population, ServiceCriterion
from iplos.cases.service import CaseService
from iplos.cases.state import Case
from iplos.cases.validation import involved_registers


def example_application(today: date, members: tuple[str, ...] = ()) -> Application:
    """A complete, valid application made relative to `today` (project and deletion dates ahead)."""
    why = "needed to describe {} among home-dwelling recipients 80+ and their use of services"
    variables = [
        VariableRequest("fodselsaar", why.format("age"), "iplos", "forskning"),
        VariableRequest("kjonn", why.format("sex differences"), "iplos", "forskning"),
        VariableRequest("kommune", why.format("regional variation"), "iplos", "forskning"),
        VariableRequest("husstand", why.format("living alone"), "iplos", "forskning"),
        VariableRequest("tjeneste", why.format("the services received"), "iplos", "forskning"),
        VariableRequest("timer_per_uke", why.format("the volume of home care"), "iplos", "forskning"),
        VariableRequest("personlig_hygiene", why.format("functional level"), "iplos", "forskning"),
        VariableRequest("hukommelse", why.format("cognitive function"), "iplos", "forskning"),
        VariableRequest("dodsdato", why.format("survival after first service"), "dar", "forskning"),
        VariableRequest("underliggende_dodsarsak", why.format("causes of death"), "dar", "forskning"),
    ]
    return Application(
        project=Project(
            title="Hjemmetjenester og overlevelse blant eldre 80+",
            summary="How functional level and home-care hours relate to survival among home-dwelling "
            "recipients aged 80 and over, 2012-2016.",
            institution="Universitetet i Oslo, Institutt for helse og samfunn",
            leader="Kari Nordmann",
            members=members,
            start=today,
            end=today + timedelta(days=3 * 365),
            funding="Norges forskningsråd, prosjekt 301234",
        ),
        legal_basis=LegalBasis(
            research=True,
            rek_reference="REK sør-øst 2025/12345",
            dpia="DPIA dated 2025-11-01, UiO personvernombud",
            gdpr_article6="6(1)(e)",
            gdpr_article9="9(2)(j)",
        ),
        purposes=("forskning",),
        variables=tuple(variables),
        aarganger=(2012, 2013, 2014, 2015, 2016),
        population=Population(
            age=AgeRange(min_age=80),
            services=(ServiceCriterion(groups=("hjemmetjenester",)),),
            home_dwelling=True,
            description="Recipients of home-based services (hjemmetjenester) aged 80+ at the end of the årgang",
        ),
        linkages=(LinkageRequest("dar", "FHI dødsårsaksregisteret, ref. 25/0456", "survival and causes"),),
        output="microdata",
        recipients=("Kari Nordmann", "Ola Nordmann"),
        storage_security="UiO TSD (Tjenester for sensitive data), two-factor login, no export of microdata",
        deletion_date=today + timedelta(days=4 * 365),
    )


#: The reviewer's coarsening in the home-nursing case (variable -> level), as `drive_home_nursing` decides.
HOME_NURSING_LEVELS: dict[str, str] = {
    "fodselsaar": "5 years",
    "kommune": "fylke",
    "startdato": "month",
    "sluttdato": "month",
    "innskrivningsdato": "month",
}


def home_nursing_application(today: date, members: tuple[str, ...] = ()) -> Application:
    """Issue 12's first case: home nursing (tjeneste 15) for persons 67+ in 2010-2016 with a
    functional assessment, functional scores and service spells, linked with NPR (episode dates,
    main diagnosis). The national benchmark (`bench/bench_delivery.py --case home-nursing`) and
    the done-when tests deliver it."""
    base = example_application(today, members)
    why = "needed to describe {} of home nursing recipients 67+ for the research question"
    iplos = [
        ("fodselsaar", "the age"),
        ("kjonn", "sex differences"),
        ("kommune", "regional variation"),
        ("tjeneste", "the services received"),
        ("timer_per_uke", "the volume of home nursing"),
        ("startdato", "when home nursing started"),
        ("sluttdato", "when home nursing ended"),
        ("personlig_hygiene", "functional level"),
        ("hukommelse", "cognitive function"),
    ]
    variables = [VariableRequest(n, why.format(w), "iplos", "forskning") for n, w in iplos]
    variables += [
        VariableRequest("innskrivningsdato", why.format("hospital admissions"), "npr", "forskning"),
        VariableRequest("hoveddiagnose", why.format("hospital diagnoses"), "npr", "forskning"),
    ]
    return replace(
        base,
        project=replace(
            base.project,
            title="Hjemmesykepleie og sykehusinnleggelser blant eldre 67+",
            summary="Who receives home nursing, how much, and how it relates to hospital stays, 2010-2016.",
        ),
        variables=tuple(variables),
        aarganger=tuple(range(2010, 2017)),
        population=Population(
            age=AgeRange(min_age=67),
            services=(ServiceCriterion(codes=(15,)),),
            functional_assessment=True,
        ),
        linkages=(LinkageRequest("npr", "NPR 26/9", "hospital stays of home nursing recipients"),),
    )


def decide_home_nursing(service: CaseService, case_id: str, cast: Cast | None = None) -> Case:
    """Review and approve a home-nursing case with `HOME_NURSING_LEVELS` (every register granted)."""
    cast = cast or Cast()
    case = service.get(case_id)
    if case.status == "submitted":
        case = service.start_review(case_id, cast.reviewer)
    for v in case.content.variables:
        level = HOME_NURSING_LEVELS.get(v.name)
        service.decide_variable(
            case_id,
            cast.reviewer,
            v.name,
            "coarsened" if level else "granted",
            register=v.register,
            level=level,
        )
    for reg in involved_registers(case.content, service.catalogue):
        service.decide_register(case_id, cast.reviewer, reg, "granted", reference=f"{reg.upper()}-ok")
    return service.decide_case(case_id, cast.reviewer, "approved", ["Meets helseregisterloven § 19."])


def example_plan(k: int = 5) -> dict[str, Any]:
    """An anonymisation plan (`ANONYMISATION_PLAN_SCHEMA`) matching the example's coarsening."""
    return {
        "levels": {"fodselsaar": "5 years", "kommune": "fylke", "kjonn": 0, "husstand": 0},
        "k": k,
        "l": None,
        "t": None,
        "sensitive": ["underliggende_dodsarsak"],
        "max_suppression": 0.05,
    }


class ManualClock:
    """A clock that moves only when told to: pass it as `CaseService(now=...)` to replay weeks of
    case handling in a demo or a test."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware start")
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, days: float = 0, hours: float = 0) -> datetime:
        """Move the clock forward and return the new time."""
        self.t += timedelta(days=days, hours=hours)
        return self.t


@dataclass(frozen=True)
class Cast:
    """The people who move a case: one per role."""

    applicant: Actor = field(default_factory=lambda: Actor("kari", "applicant"))
    reviewer: Actor = field(default_factory=lambda: Actor("rita", "reviewer"))
    processor: Actor = field(default_factory=lambda: Actor("sven", "processor"))
    administrator: Actor = field(default_factory=lambda: Actor("ada", "administrator"))


_PREVIOUS: dict[Status, Status | None] = {
    "draft": None,
    "withdrawn": "draft",
    "submitted": "draft",
    "under_review": "submitted",
    "returned": "under_review",
    "approved": "under_review",
    "partly_approved": "under_review",
    "rejected": "under_review",
    "appealed": "rejected",
    "offered": "approved",
    "offer_declined": "offered",
    "accepted": "offered",
    "linked": "accepted",
    "anonymisation": "linked",
    "anonymisation_agreed": "anonymisation",
    "delivered": "anonymisation_agreed",
    "invoiced": "delivered",
    "deletion_confirmed": "invoiced",
    "closed": "deletion_confirmed",
}


def _decide_all(service: CaseService, case: Case, cast: Cast, deny: str | None, everything: bool) -> None:
    for v in case.content.variables:
        if everything or v.name == deny:
            service.decide_variable(
                case.case_id,
                cast.reviewer,
                v.name,
                "denied",
                register=v.register,
                reason="not necessary for the stated purpose",
            )
        elif v.name == "fodselsaar":
            service.decide_variable(
                case.case_id, cast.reviewer, v.name, "coarsened", register=v.register, level="5 years"
            )
        elif v.name == "kommune":
            service.decide_variable(
                case.case_id, cast.reviewer, v.name, "coarsened", register=v.register, level="fylke"
            )
        else:
            service.decide_variable(case.case_id, cast.reviewer, v.name, "granted", register=v.register)
    for reg in involved_registers(case.content, service.catalogue):
        if everything:
            service.decide_register(case.case_id, cast.reviewer, reg, "denied", reason="no legal basis")
        else:
            service.decide_register(
                case.case_id, cast.reviewer, reg, "granted", reference=f"{reg.upper()}-{case.case_id}"
            )


def drive(
    service: CaseService,
    target: Status,
    cast: Cast | None = None,
    case_id: str | None = None,
    application: Application | None = None,
) -> Case:
    """Walk a new case (or `case_id`, from where it stands) along the standard path to `target`."""
    cast = cast or Cast()
    path: list[Status] = []
    step: Status | None = target
    while step is not None:
        path.append(step)
        step = _PREVIOUS[step]
    path.reverse()
    case = service.get(case_id) if case_id else None
    if case is not None:
        path = path[path.index(case.status) + 1 :] if case.status in path else path
    today = service.now().date()
    for status in path:
        if status == "draft":
            content = application or example_application(today, members=("ola",))
            case = service.create_draft(cast.applicant, content=content)
            continue
        assert case is not None
        cid, a, r, p = case.case_id, cast.applicant, cast.reviewer, cast.processor
        match status:
            case "withdrawn":
                service.withdraw(cid, a, "no longer needed")
            case "submitted":
                service.submit(cid, a)
            case "under_review":
                service.start_review(cid, r)
            case "returned":
                service.return_to_applicant(cid, r, ["Explain why hours per week are necessary."])
            case "approved" | "partly_approved" | "rejected":
                _decide_all(
                    service,
                    case,
                    cast,
                    "hukommelse" if status == "partly_approved" else None,
                    status == "rejected",
                )
                service.decide_case(
                    cid, r, status, ["The request meets the conditions of helseregisterloven § 19."]
                )
            case "appealed":
                service.lodge_appeal(cid, a, "The variables are necessary; see the protocol.")
            case "offered":
                lines = [
                    EstimateLine("radgiver", 20, "linkage and extraction"),
                    EstimateLine("statistiker", 8, "disclosure control"),
                ]
                service.make_offer(cid, p, lines, today + timedelta(days=60))
            case "offer_declined":
                service.decline_offer(cid, a, "too expensive")
            case "accepted":
                service.accept_offer(cid, a)
            case "linked":
                service.record_linkage_done(cid, p, {"dar": {"matched": 1, "unmatched": 0}})
            case "anonymisation":
                service.propose_anonymisation(cid, p, example_plan())
            case "anonymisation_agreed":
                service.agree_anonymisation(cid, a)
            case "delivered":
                digest = hashlib.sha256(cid.encode()).hexdigest()
                service.record_delivery(cid, p, f"{cid}-d1", digest)
            case "invoiced":
                service.record_hours(cid, p, "radgiver", 18.5, today, "linkage")
                service.issue_invoice(cid, p)
            case "deletion_confirmed":
                service.confirm_deletion(cid, a, today, "all copies deleted")
            case "closed":
                service.close_case(cid, cast.administrator, "finished")
        case = service.get(cid)
    assert case is not None
    return case
