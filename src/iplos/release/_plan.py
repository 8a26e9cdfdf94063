"""The release plan: everything a release is judged by, in one value that travels as JSON.

A `Plan` holds the quasi-identifiers (each with its hierarchy and the level bounds the case allows),
the `Criteria` (k; distinct, entropy or recursive-(c,l) diversity; equal or ordered t-closeness;
whether they count persons or records; the suppression budget), the utility metric, the attacker
model (the columns the attacker is assumed to know) and, once chosen, one level per
quasi-identifier. The processor's proposal, the applicant's counter-proposal, the agreed plan, the
command line and the release gate all read this one type.

The case store keeps the plan as JSON (`to_case` / `from_case`, the keys of
`iplos.cases.ANONYMISATION_PLAN_SCHEMA`); `plan_problems` says, field by field, what in such a JSON
the release could not enforce.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, get_args

from iplos.errors import IplosError, Problem
from iplos.sdc import (
    Criterion,
    DistinctLDiversity,
    EntropyLDiversity,
    EqualTCloseness,
    KAnonymity,
    OrderedTCloseness,
    RecursiveCLDiversity,
    metric_named,
)

Unit = Literal["person", "record"]
LVariant = Literal["distinct", "entropy", "recursive"]
TVariant = Literal["equal", "ordered"]
Method = Literal["global", "local_recoding"]
UNITS: tuple[str, ...] = get_args(Unit)
L_VARIANTS: tuple[str, ...] = get_args(LVariant)
T_VARIANTS: tuple[str, ...] = get_args(TVariant)
METHODS: tuple[str, ...] = get_args(Method)
METRICS: tuple[str, ...] = ("loss", "entropy", "discernibility", "aecs", "precision")
PERSON_KEY = "lopenr"
MAX_ITEMS_KNOWN = 4  # C(n, 4) keys per person grow fast; release._items.MAX_ITEMS_KNOWN


@dataclass(frozen=True)
class Criteria:
    """The privacy criteria a release must meet, and the largest share that may be suppressed.

    - `k`: k-anonymity (Sweeney 2002): every class holds at least k persons (unit "person") or
      records (unit "record").
    - `l` with `l_variant`: distinct, entropy or recursive-(c,l) diversity of every sensitive column
      (Machanavajjhala et al. 2007); recursive needs `c`.
    - `t` with `t_variant`: t-closeness with equal or ordered ground distance (Li, Li &
      Venkatasubramanian 2007).
    - `unit`: "person" judges each person's signature over all their rows (DESIGN.md, "The person is
      the unit of protection"); "record" judges each row alone.
    - `max_suppressed`: share in [0, 1] of persons (unit person) or records (unit record).
    """

    k: int = 5
    max_suppressed: float = 0.05
    l: float | None = None  # noqa: E741  (the letter of the literature)
    l_variant: LVariant = "distinct"
    c: float | None = None
    t: float | None = None
    t_variant: TVariant = "equal"
    unit: Unit = "person"

    def __post_init__(self) -> None:
        problems = criteria_problems(self.to_dict())
        if problems:
            raise IplosError("the criteria cannot be enforced", problems)

    def sdc_criteria(self, sensitive: Sequence[str]) -> list[Criterion]:
        """The criteria as `iplos.sdc` value objects; l and t apply to every sensitive column."""
        out: list[Criterion] = [KAnonymity(self.k)]
        for s in sensitive:
            if self.l is not None:
                if self.l_variant == "distinct":
                    out.append(DistinctLDiversity(int(self.l), s))
                elif self.l_variant == "entropy":
                    out.append(EntropyLDiversity(float(self.l), s))
                else:
                    out.append(RecursiveCLDiversity(float(self.c or 0), int(self.l), s))
            if self.t is not None:
                cls = EqualTCloseness if self.t_variant == "equal" else OrderedTCloseness
                out.append(cls(float(self.t), s))
        return out

    def at_least_as_strict_as(self, other: Criteria) -> bool:
        """Whether these criteria protect at least as much as `other` (a counter may only tighten)."""
        if self.k < other.k or self.max_suppressed > other.max_suppressed + 1e-12:
            return False
        if other.unit == "person" and self.unit != "person":
            return False
        if other.l is not None:
            if self.l is None or self.l < other.l or self.l_variant != other.l_variant:
                return False
            if other.l_variant == "recursive" and (self.c or 0) > (other.c or 0):
                return False
        return other.t is None or (
            self.t is not None and self.t <= other.t and self.t_variant == other.t_variant
        )

    def describe(self) -> str:
        parts = [f"k = {self.k} {self.unit}s"]
        if self.l is not None:
            c = f", c = {self.c:g}" if self.l_variant == "recursive" and self.c is not None else ""
            parts.append(f"{self.l_variant} l = {self.l:g}{c}")
        if self.t is not None:
            parts.append(f"{self.t_variant}-distance t = {self.t:g}")
        parts.append(f"at most {self.max_suppressed:.1%} suppressed")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "l": self.l,
            "l_variant": self.l_variant,
            "c": self.c,
            "t": self.t,
            "t_variant": self.t_variant,
            "unit": self.unit,
            "max_suppressed": self.max_suppressed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Criteria:
        problems = criteria_problems(data)
        if problems:
            raise IplosError("the criteria cannot be enforced", problems)
        lv = data.get("l")
        c = data.get("c")
        t = data.get("t")
        share = data.get("max_suppressed", data.get("max_suppression", 0.05))
        return cls(
            k=int(data.get("k", 5)),
            max_suppressed=float(share),
            l=None if lv is None else float(lv),
            l_variant=data.get("l_variant", "distinct"),
            c=None if c is None else float(c),
            t=None if t is None else float(t),
            t_variant=data.get("t_variant", "equal"),
            unit=data.get("unit", "person"),
        )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def criteria_problems(data: Mapping[str, Any], where: str = "plan") -> list[Problem]:
    """What in a criteria mapping the release cannot enforce (every problem, field by field)."""
    problems: list[Problem] = []
    k = data.get("k", 5)
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        problems.append(Problem("k must be an integer >= 1", column=f"{where}.k", value=str(k)))
    variant = data.get("l_variant", "distinct")
    if variant not in L_VARIANTS:
        problems.append(
            Problem(
                f"l_variant must be one of {', '.join(L_VARIANTS)}",
                column=f"{where}.l_variant",
                value=str(variant),
            )
        )
    lv = data.get("l")
    if lv is not None:
        if not _number(lv) or lv < 1:
            problems.append(Problem("l must be a number >= 1 or null", column=f"{where}.l", value=str(lv)))
        elif variant in ("distinct", "recursive") and float(lv) != int(lv):
            problems.append(
                Problem(f"{variant} l-diversity needs a whole number l", column=f"{where}.l", value=str(lv))
            )
        c = data.get("c")
        if variant == "recursive" and (c is None or not _number(c) or c <= 0):
            problems.append(
                Problem("recursive (c,l)-diversity needs c > 0", column=f"{where}.c", value=str(c))
            )
    t = data.get("t")
    if t is not None and (not _number(t) or not 0 < t <= 1):
        problems.append(Problem("t must be in (0, 1] or null", column=f"{where}.t", value=str(t)))
    tv = data.get("t_variant", "equal")
    if tv not in T_VARIANTS:
        problems.append(
            Problem(
                f"t_variant must be one of {', '.join(T_VARIANTS)}",
                column=f"{where}.t_variant",
                value=str(tv),
            )
        )
    unit = data.get("unit", "person")
    if unit not in UNITS:
        problems.append(
            Problem(f"unit must be one of {', '.join(UNITS)}", column=f"{where}.unit", value=str(unit))
        )
    share = data.get("max_suppressed", data.get("max_suppression", 0.05))
    if not _number(share) or not 0 <= share <= 1:
        problems.append(
            Problem(
                "the suppression budget must be a share in [0, 1]",
                column=f"{where}.max_suppression",
                value=str(share),
            )
        )
    return problems


@dataclass(frozen=True)
class QuasiIdentifier:
    """A quasi-identifier with its hierarchy and the levels the case allows.

    `min_level` is the reviewer's required coarsening or the processor's choice (a lower bound for
    the search); `max_level` the coarsest level accepted (None: any).
    """

    column: str
    hierarchy: str
    min_level: int = 0
    max_level: int | None = None
    hierarchy_params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "hierarchy": self.hierarchy,
            "min_level": self.min_level,
            "max_level": self.max_level,
            "hierarchy_params": dict(self.hierarchy_params),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuasiIdentifier:
        max_level = data.get("max_level")
        return cls(
            column=str(data["column"]),
            hierarchy=str(data["hierarchy"]),
            min_level=int(data.get("min_level", 0)),
            max_level=None if max_level is None else int(max_level),
            hierarchy_params=dict(data.get("hierarchy_params", {})),
        )


@dataclass(frozen=True)
class Plan:
    """One level per quasi-identifier under the criteria, with the metric and the attacker model.

    `attacker` names the columns the attacker is assumed to know; empty means the quasi-identifiers
    (the register's prosecutor model). Every column the attacker knows must be a quasi-identifier
    of the plan (with a hierarchy), because only those are protected by the search.
    `person_key` ties a person's rows together (None: every row is its own person).

    `items_known` bounds what the attacker knows of a stacked multi-table extract's other tables
    (`release._items`): None is full knowledge (a person is their whole multiset of rows across
    years and tables); m >= 0 is (k, k^m)-anonymity: the person-year trajectory known fully and at
    most m of the person's other-table rows. It has no effect on an extract without other tables.
    Local recoding and local suppression always judge whole signatures (full knowledge), which
    implies (k, k^m) for every m: every person of a full class shares their trajectory and rows.

    `method` "global" gives every quasi-identifier one level (`levels`) for every person;
    "local_recoding" lets each class of persons take levels of its own between the bounds (then
    `levels` are the lower bounds; `release._local`). `local_suppression` keeps the global levels
    and blanks single cells of persons ('*' in all their rows) instead of suppressing whole persons.
    """

    criteria: Criteria
    quasi_identifiers: tuple[QuasiIdentifier, ...]
    levels: Mapping[str, int]
    sensitive: tuple[str, ...] = ()
    note: str = ""
    metric: str = "loss"
    attacker: tuple[str, ...] = ()
    person_key: str | None = PERSON_KEY
    local_suppression: bool = False
    method: Method = "global"
    items_known: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "quasi_identifiers", tuple(self.quasi_identifiers))
        object.__setattr__(self, "sensitive", tuple(self.sensitive))
        object.__setattr__(self, "attacker", tuple(self.attacker))
        names = [q.column for q in self.quasi_identifiers]
        problems: list[Problem] = []
        missing = [n for n in names if n not in self.levels]
        extra = [n for n in self.levels if n not in names]
        if missing or extra:
            problems.append(
                Problem(
                    f"levels must name every quasi-identifier once (missing: {', '.join(missing) or 'none'}; "
                    f"unknown: {', '.join(extra) or 'none'})",
                    column="plan.levels",
                )
            )
        for q in self.quasi_identifiers:
            level = self.levels.get(q.column)
            if level is not None and level < q.min_level:
                problems.append(
                    Problem(
                        f"{q.column} at level {level} is finer than the required level {q.min_level}",
                        column=f"plan.levels.{q.column}",
                        rule="required_coarsening",
                    )
                )
        if self.metric not in METRICS:
            problems.append(Problem(f"metric must be one of {', '.join(METRICS)}", column="plan.metric"))
        unknown = [a for a in self.attacker if a not in names]
        if unknown:
            problems.append(
                Problem(
                    f"the attacker is assumed to know {', '.join(unknown)}, which the plan does not protect "
                    "(make them quasi-identifiers with a hierarchy)",
                    column="plan.attacker",
                )
            )
        both = sorted(set(names) & set(self.sensitive))
        if both:
            problems.append(
                Problem(f"both quasi-identifier and sensitive: {', '.join(both)}", column="plan.sensitive")
            )
        if (self.criteria.l is not None or self.criteria.t is not None) and not self.sensitive:
            problems.append(Problem("l and t need at least one sensitive column", column="plan.sensitive"))
        if self.method not in METHODS:
            problems.append(
                Problem(
                    f"method must be one of {', '.join(METHODS)}",
                    column="plan.method",
                    value=str(self.method),
                )
            )
        elif self.method == "local_recoding" and self.metric != "loss":
            problems.append(
                Problem(
                    "local recoding minimises the loss metric (ARX's Loss); choose metric loss",
                    column="plan.metric",
                    value=self.metric,
                )
            )
        m = self.items_known
        if m is not None and (isinstance(m, bool) or not isinstance(m, int) or not 0 <= m <= MAX_ITEMS_KNOWN):
            problems.append(
                Problem(
                    f"items_known must be null (full knowledge) or an integer 0..{MAX_ITEMS_KNOWN}",
                    column="plan.items_known",
                    value=str(m),
                )
            )
        if self.local_suppression and self.method == "local_recoding":
            problems.append(
                Problem(
                    "local recoding blanks cells itself where it must; drop local_suppression",
                    column="plan.local_suppression",
                )
            )
        if problems:
            raise IplosError("the anonymisation plan cannot be enforced", problems)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(q.column for q in self.quasi_identifiers)

    @property
    def known(self) -> tuple[str, ...]:
        """The columns the attacker knows (the quasi-identifiers unless the plan says otherwise)."""
        return self.attacker or self.columns

    @property
    def local(self) -> bool:
        """Whether persons' cells are generalised or blanked class by class (not one level for all)."""
        return self.method == "local_recoding" or self.local_suppression

    def level_tuple(self) -> tuple[int, ...]:
        return tuple(int(self.levels[q.column]) for q in self.quasi_identifiers)

    def describe_attacker(self) -> str:
        """The attacker model in words (for the disclosure report)."""
        if self.items_known is None:
            return "knows every row of every table of a person (full knowledge)"
        return (
            f"knows a person's whole person-year trajectory and at most {self.items_known} of their "
            "rows in the other tables ((k, k^m)-anonymity)"
        )

    def with_levels(self, levels: Mapping[str, int], note: str = "") -> Plan:
        """The same plan with other levels (a counter-proposal)."""
        return replace(self, levels={**self.levels, **levels}, note=note)

    def sdc_criteria(self) -> list[Criterion]:
        return self.criteria.sdc_criteria(self.sensitive)

    def utility(self) -> Any:
        return metric_named(self.metric)

    def to_dict(self) -> dict[str, Any]:
        return {
            "criteria": self.criteria.to_dict(),
            "quasi_identifiers": [q.to_dict() for q in self.quasi_identifiers],
            "levels": dict(self.levels),
            "sensitive": list(self.sensitive),
            "note": self.note,
            "metric": self.metric,
            "attacker": list(self.attacker),
            "person_key": self.person_key,
            "local_suppression": self.local_suppression,
            "method": self.method,
            "items_known": self.items_known,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        try:
            return cls(
                criteria=Criteria.from_dict(data.get("criteria", {})),
                quasi_identifiers=tuple(QuasiIdentifier.from_dict(q) for q in data["quasi_identifiers"]),
                levels={str(k): int(v) for k, v in data["levels"].items()},
                sensitive=tuple(data.get("sensitive", ())),
                note=str(data.get("note", "")),
                metric=str(data.get("metric", "loss")),
                attacker=tuple(data.get("attacker", ())),
                person_key=data.get("person_key", PERSON_KEY),
                local_suppression=bool(data.get("local_suppression", False)),
                method=data.get("method", "global"),
                items_known=data.get("items_known"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IplosError(f"anonymisation plan is malformed: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> Plan:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IplosError(f"anonymisation plan is not JSON: {exc}") from None
        return cls.from_dict(data)
