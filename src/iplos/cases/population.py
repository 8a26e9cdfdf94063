"""Who a case is about, as criteria on catalogue variables (all must hold), not as free text.

A `Population` combines: the årganger (the application's own `aarganger`), an `AgeRange` or a
`BirthYears` range, sex, `ServiceCriterion`s (services received in the årgang, by Volven 9151 code or
SSB group, optionally with a minimum of hours per week), household (`husstand`) and home-dwelling
(no institution stay in force at the end of the årgang), a `RegionCriterion` (kommuner or fylker of
one year's classification), a functional assessment in the årgang, and `RegisterCondition`s on
linked registers (an NPR episode with main diagnosis in I60-I69 in the period). `validate_population`
checks every criterion against the catalogue at submission (every problem at once, by field);
`describe` renders it in words (nb or en) for the vedtak and the codebook; the linkage applies it.

>>> pop = Population(age=AgeRange(min_age=67), services=(ServiceCriterion(codes=(15,)),))
>>> describe(pop, "en")[:2]
['aged 67 or older at the end of the årgang', 'received service 15 in the årgang']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Literal

from iplos.cases._catalogue import CatalogueView
from iplos.errors import Problem

Language = Literal["nb", "en"]
RegionLevel = Literal["kommune", "fylke"]
Within = Literal["period", "aargang", "after_discharge"]
"""When a register condition must hold: in any årgang of the period, in the same årgang as the
person-year, or (NPR only) before the person-year's services: the person-year counts when an IPLOS
service in force in it runs on or after the discharge from a matching episode."""

_ICD10 = re.compile(r"^[A-Z][0-9]{2}[0-9A-Z]{0,2}$")
_RANGE = re.compile(r"^([A-Z][0-9]{2}[0-9A-Z]{0,2})\s*-\s*([A-Z][0-9]{2}[0-9A-Z]{0,2})$")


@dataclass(frozen=True)
class AgeRange:
    """Age in whole years (årgang or reference year minus birth year), both ends included.

    `at` is the reference date; without it the age is the one reached in each årgang (IPLOS records
    only the birth year, so age is counted by calendar year).
    """

    min_age: int | None = None
    max_age: int | None = None
    at: date | None = None


@dataclass(frozen=True)
class BirthYears:
    """Born in `first`..`last` (both included; None: open)."""

    first: int | None = None
    last: int | None = None


@dataclass(frozen=True)
class ServiceCriterion:
    """Received, in the årgang, a service among `codes` (Volven 9151) or the SSB `groups`.

    With `min_hours`, a matching service must also have at least that many hours per week (only
    hour-based services record hours).
    """

    codes: tuple[int, ...] = ()
    groups: tuple[str, ...] = ()
    min_hours: float | None = None


@dataclass(frozen=True)
class RegionCriterion:
    """Resident in one of `codes` (kommune or fylke numbers valid on 1 January `year`).

    In another årgang's classification a kommune counts when most of its residents were in these
    regions in `year` (SSB KLASS 131 changes, traced through merges and splits).
    """

    level: RegionLevel
    codes: tuple[str, ...]
    year: int


@dataclass(frozen=True)
class RegisterCondition:
    """A record in a register whose `variable` has one of `codes`, in the period or the same årgang.

    Codes are ICD-10 codes or ranges without the dot ('I60-I69', 'I63', 'F00-F03'); a code covers
    its subcodes. `register`.`variable`: npr.hoveddiagnose (an episode), dar.underliggende_dodsarsak
    (the death), iplos.kode (a diagnosis recorded in IPLOS).
    """

    register: str
    variable: str
    codes: tuple[str, ...]
    within: Within = "period"


@dataclass(frozen=True)
class Population:
    """The persons and årganger an extract covers: every criterion given must hold.

    `everyone` says outright that every person in the årganger is wanted (no criterion is not the
    same as forgetting to give one). `description` is the applicant's own wording, kept for the
    record and shown beside the criteria; it is never applied.
    """

    everyone: bool = False
    age: AgeRange | None = None
    birth_years: BirthYears | None = None
    sex: tuple[int, ...] = ()
    services: tuple[ServiceCriterion, ...] = ()
    husstand: tuple[int, ...] = ()
    home_dwelling: bool = False
    region: RegionCriterion | None = None
    functional_assessment: bool = False
    registers: tuple[RegisterCondition, ...] = ()
    description: str = ""

    @classmethod
    def from_text(cls, text: str) -> Population:
        """A population given only in words (older records): it has no criteria until they are stated."""
        return cls(description=text)

    @property
    def has_criteria(self) -> bool:
        """Whether any criterion is set (`description` is not one)."""
        return any(
            getattr(self, f.name) not in (None, (), False) for f in fields(self) if f.name != "description"
        )


def _years_text(years: Sequence[int]) -> str:
    ys = sorted(set(years))
    if ys and ys == list(range(ys[0], ys[-1] + 1)) and len(ys) > 2:
        return f"{ys[0]}-{ys[-1]}"
    return ", ".join(map(str, ys))


def describe(pop: Population, language: Language = "nb", catalogue: CatalogueView | None = None) -> list[str]:
    """The criteria in words, one phrase each (labels from `catalogue` when given)."""
    nb = language == "nb"
    out: list[str] = []
    if pop.everyone:
        out.append("alle personer i årgangene" if nb else "every person in the årganger")
    if pop.age is not None:
        a = pop.age
        at = (
            (f"per {a.at.isoformat()}" if nb else f"on {a.at.isoformat()}")
            if a.at
            else ("ved utgangen av årgangen" if nb else "at the end of the årgang")
        )
        if a.min_age is not None and a.max_age is not None:
            out.append(f"{a.min_age}-{a.max_age} år {at}" if nb else f"aged {a.min_age}-{a.max_age} {at}")
        elif a.min_age is not None:
            out.append(f"{a.min_age} år eller eldre {at}" if nb else f"aged {a.min_age} or older {at}")
        elif a.max_age is not None:
            out.append(f"{a.max_age} år eller yngre {at}" if nb else f"aged {a.max_age} or younger {at}")
    if pop.birth_years is not None:
        b = pop.birth_years
        if b.first is not None and b.last is not None:
            out.append(f"født {b.first}-{b.last}" if nb else f"born {b.first}-{b.last}")
        elif b.first is not None:
            out.append(f"født {b.first} eller senere" if nb else f"born {b.first} or later")
        elif b.last is not None:
            out.append(f"født {b.last} eller tidligere" if nb else f"born {b.last} or earlier")
    if pop.sex:
        names = [_label(catalogue, "kjonn", "iplos", str(s), language) for s in pop.sex]
        out.append(("kjønn: " if nb else "sex: ") + ", ".join(names))
    for s in pop.services:
        parts = [f"{c} ({_label(catalogue, 'tjeneste', 'iplos', str(c), language)})" for c in s.codes]
        parts += [
            (
                f"gruppe {g} ({_group_label(catalogue, g, language)})"
                if nb
                else f"group {g} ({_group_label(catalogue, g, language)})"
            )
            for g in s.groups
        ]
        one = parts[0] if len(parts) == 1 else ("en av " if nb else "one of ") + ", ".join(parts)
        text = f"mottok tjeneste {one} i årgangen" if nb else f"received service {one} in the årgang"
        if s.min_hours is not None:
            text += (
                f", minst {s.min_hours:g} timer per uke"
                if nb
                else f", at least {s.min_hours:g} hours per week"
            )
        out.append(text)
    if pop.husstand:
        names = [_label(catalogue, "husstand", "iplos", str(h), language) for h in pop.husstand]
        out.append(("husstand: " if nb else "household: ") + ", ".join(names))
    if pop.home_dwelling:
        out.append(
            "hjemmeboende (ingen institusjonsopphold ved utgangen av årgangen)"
            if nb
            else "home-dwelling (no institution stay at the end of the årgang)"
        )
    if pop.region is not None:
        r = pop.region
        what = (
            ("kommune" if nb else "municipality") if r.level == "kommune" else ("fylke" if nb else "county")
        )
        out.append(
            f"bosatt i {what} {', '.join(r.codes)} (inndeling {r.year})"
            if nb
            else f"resident in {what} {', '.join(r.codes)} ({r.year} classification)"
        )
    if pop.functional_assessment:
        out.append("har funksjonsvurdering i årgangen" if nb else "has a functional assessment in the årgang")
    for c in pop.registers:
        when = {
            "period": "i perioden" if nb else "in the period",
            "aargang": "i samme årgang" if nb else "in the same årgang",
            "after_discharge": (
                "og IPLOS-tjenester etter utskrivningen" if nb else "and IPLOS services after the discharge"
            ),
        }[c.within]
        what = _REGISTER_RECORD[c.register][0 if nb else 1] if c.register in _REGISTER_RECORD else c.register
        out.append(
            f"{what} {c.variable} {', '.join(c.codes)} {when}"
            if nb
            else f"{what} {c.variable} in {', '.join(c.codes)} {when}"
        )
    return out


_REGISTER_RECORD = {
    "npr": ("NPR-episode med", "an NPR episode with"),
    "dar": ("død med", "died with"),
    "iplos": ("IPLOS-diagnose med", "an IPLOS diagnosis with"),
}


def _label(
    catalogue: CatalogueView | None, variable: str, register: str, code: str, language: Language
) -> str:
    if catalogue is None:
        return code if variable != "tjeneste" else "?"
    labels = catalogue.code_labels(variable, register)
    found = labels.get(code)
    if found is None:
        return code if variable != "tjeneste" else "?"
    return found[0] if language == "nb" else found[1]


def _group_label(catalogue: CatalogueView | None, group: str, language: Language) -> str:
    if catalogue is None:
        return "?"
    found = catalogue.service_groups().get(group)
    if found is None:
        return "?"
    return found[0] if language == "nb" else found[1]


def in_words(pop: Population, language: Language = "nb", catalogue: CatalogueView | None = None) -> str:
    """The whole population as one sentence (the applicant's own words follow in brackets)."""
    phrases = describe(pop, language, catalogue)
    text = "; ".join(phrases) if phrases else ("(ingen kriterier)" if language == "nb" else "(no criteria)")
    if pop.description.strip():
        text += f" ({pop.description.strip()})"
    return text


def codes_in_range(text: str) -> tuple[str, str] | None:
    """An ICD-10 code or range as (first, last) without dots, or None when it is neither."""
    t = text.replace(".", "").strip().upper()
    m = _RANGE.match(t)
    if m:
        return m.group(1), m.group(2)
    return (t, t) if _ICD10.match(t) else None


_CONDITION_VARIABLES = {
    ("npr", "hoveddiagnose"),
    ("dar", "underliggende_dodsarsak"),
    ("iplos", "kode"),
}


def validate_population(
    pop: Population, catalogue: CatalogueView, years: Sequence[int], linked: Sequence[str]
) -> list[Problem]:
    """Every problem with the population's criteria, each naming its field (`population.age.min_age`).

    `linked` are the registers the application asks to link with: a condition on a register needs
    that register's linkage (and approval).
    """
    problems: list[Problem] = []
    col = "population"
    if not pop.has_criteria:
        if pop.description.strip():
            problems.append(
                Problem(
                    "the population is given in words only: state it as criteria (age, sex, services, "
                    "household, region, functional assessment, register conditions) or set 'everyone'",
                    column=col,
                    value=pop.description[:80],
                    rule="structured_population",
                )
            )
        else:
            problems.append(Problem("population definition is missing", column=col, rule="required"))
        return problems
    if (
        pop.everyone
        and pop.has_criteria
        and any(
            getattr(pop, f.name) not in (None, (), False)
            for f in fields(pop)
            if f.name not in ("description", "everyone")
        )
    ):
        problems.append(
            Problem("'everyone' cannot be combined with other criteria", column=f"{col}.everyone")
        )
    if pop.age is not None:
        a, where = pop.age, f"{col}.age"
        if a.min_age is None and a.max_age is None:
            problems.append(Problem("an age range needs min_age and/or max_age", column=where))
        for name, v in (("min_age", a.min_age), ("max_age", a.max_age)):
            if v is not None and not 0 <= v <= 120:
                problems.append(Problem("age must be 0-120", column=f"{where}.{name}", value=str(v)))
        if a.min_age is not None and a.max_age is not None and a.min_age > a.max_age:
            problems.append(
                Problem(
                    "min_age is above max_age: the range is empty",
                    column=f"{where}.max_age",
                    value=str(a.max_age),
                )
            )
    if pop.birth_years is not None:
        b, where = pop.birth_years, f"{col}.birth_years"
        if b.first is None and b.last is None:
            problems.append(Problem("a birth-year range needs first and/or last", column=where))
        info_range = catalogue.value_range("fodselsaar", "iplos")
        for name, v in (("first", b.first), ("last", b.last)):
            if v is not None and info_range is not None and not info_range[0] <= v <= info_range[1]:
                problems.append(
                    Problem(
                        f"birth year outside {info_range[0]:g}-{info_range[1]:g}",
                        column=f"{where}.{name}",
                        value=str(v),
                    )
                )
        if b.first is not None and b.last is not None and b.first > b.last:
            problems.append(
                Problem("first is after last: the range is empty", column=f"{where}.last", value=str(b.last))
            )
    _check_codes(pop.sex, "kjonn", f"{col}.sex", catalogue, problems)
    _check_codes(pop.husstand, "husstand", f"{col}.husstand", catalogue, problems)
    services = catalogue.code_labels("tjeneste", "iplos")
    groups = catalogue.service_groups()
    for i, s in enumerate(pop.services):
        where = f"{col}.services[{i}]"
        if not s.codes and not s.groups:
            problems.append(Problem("name the service codes or SSB groups", column=where))
        for j, code in enumerate(s.codes):
            if str(code) not in services:
                problems.append(
                    Problem(
                        "not a service code (Volven 9151) of the catalogue",
                        column=f"{where}.codes[{j}]",
                        value=str(code),
                    )
                )
        for j, g in enumerate(s.groups):
            if g not in groups:
                problems.append(
                    Problem(
                        f"not an SSB service group; groups: {', '.join(groups)}",
                        column=f"{where}.groups[{j}]",
                        value=g,
                    )
                )
        if s.min_hours is not None:
            if not 0 < s.min_hours <= 168:
                problems.append(
                    Problem(
                        "hours per week must be in (0, 168]",
                        column=f"{where}.min_hours",
                        value=f"{s.min_hours:g}",
                    )
                )
            hour_based = catalogue.hour_based_services()
            named = {str(c) for c in s.codes} | {
                c for c, g in catalogue.service_group_of().items() if g in s.groups
            }
            if named and not named & hour_based:
                problems.append(
                    Problem(
                        "none of these services records hours per week, so min_hours can never hold",
                        column=f"{where}.min_hours",
                        value=f"{s.min_hours:g}",
                    )
                )
    if pop.region is not None:
        r, where = pop.region, f"{col}.region"
        known = catalogue.region_codes(r.level, r.year)
        if not known:
            problems.append(
                Problem(
                    f"no {r.level} classification for {r.year}", column=f"{where}.year", value=str(r.year)
                )
            )
        else:
            if not r.codes:
                problems.append(Problem(f"name the {r.level} numbers", column=f"{where}.codes"))
            for j, region_code in enumerate(r.codes):
                if region_code not in known:
                    problems.append(
                        Problem(
                            f"not a {r.level} number valid on 1 January {r.year}",
                            column=f"{where}.codes[{j}]",
                            value=region_code,
                        )
                    )
    for i, c in enumerate(pop.registers):
        where = f"{col}.registers[{i}]"
        if (c.register, c.variable) not in _CONDITION_VARIABLES:
            allowed = ", ".join(f"{r}.{v}" for r, v in sorted(_CONDITION_VARIABLES))
            problems.append(
                Problem(
                    f"conditions can be set on {allowed}",
                    column=f"{where}.variable",
                    value=f"{c.register}.{c.variable}",
                )
            )
            continue
        if c.register != "iplos" and c.register not in linked:
            problems.append(
                Problem(
                    f"a condition on {c.register} needs a linkage request for {c.register}",
                    column=f"{where}.register",
                    value=c.register,
                )
            )
        if c.within == "after_discharge" and c.register != "npr":
            problems.append(
                Problem(
                    "services after the discharge need a condition on an NPR episode",
                    column=f"{where}.within",
                    value=c.within,
                )
            )
        if c.within not in ("period", "aargang", "after_discharge"):
            problems.append(
                Problem(
                    "within is period, aargang or after_discharge",
                    column=f"{where}.within",
                    value=str(c.within),
                )
            )
        if not c.codes:
            problems.append(Problem("name the ICD-10 codes or ranges", column=f"{where}.codes"))
        for j, icd in enumerate(c.codes):
            span = codes_in_range(icd)
            if span is None:
                problems.append(
                    Problem(
                        "not an ICD-10 code or range (e.g. 'I63', 'I60-I69')",
                        column=f"{where}.codes[{j}]",
                        value=icd,
                    )
                )
            elif span[0] > span[1]:
                problems.append(
                    Problem("the range ends before it starts", column=f"{where}.codes[{j}]", value=icd)
                )
            elif not all(catalogue.is_icd10(x) for x in span):
                problems.append(Problem("not an ICD-10 code", column=f"{where}.codes[{j}]", value=icd))
    return problems


def _check_codes(
    values: Sequence[int], variable: str, where: str, catalogue: CatalogueView, problems: list[Problem]
) -> None:
    labels = catalogue.code_labels(variable, "iplos")
    for j, v in enumerate(values):
        if str(v) not in labels:
            problems.append(
                Problem(
                    f"not a code of {variable}; codes: {', '.join(f'{k} {n[1]}' for k, n in labels.items())}",
                    column=f"{where}[{j}]",
                    value=str(v),
                )
            )
