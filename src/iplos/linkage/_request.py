"""What an approved case asks the trusted third party to link: registers, years, population, variables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from iplos.catalog import catalog
from iplos.errors import IplosError

#: The IPLOS tables: 2007-2017 in `iplos`, 2017- in `kpr` (the 2017 årgang is in both; iplos is used).
BASE_REGISTERS = ("iplos", "kpr")
LAST_IPLOS_YEAR = 2017
#: Registers that can be linked to IPLOS/KPR, with their one table (docs/registers.md).
LINKABLE = {"dar": "dodsfall", "npr": "episode", "ssb": "befolkning"}
BASE_TABLES = ("person", "tjeneste", "funksjon", "diagnose")
#: KPR's own table (every contact with the municipal health service, from 2017), read through the
#: KPR pseudonyms whatever the årgang's base register; summed per person and årgang.
KONTAKT = ("kpr", "kontakt")
FIRST_KPR_YEAR = 2017
#: The functional assessment items, in catalogue order (everything in `funksjon` but key and date).
FUNKSJON_ITEMS = tuple(
    c for c in catalog().columns("iplos", "funksjon") if c not in ("pseudonym", "vurderingsdato")
)
#: Columns that never leave the key holder or the register, whatever a case asks for.
NEVER_DELIVERED = frozenset({"pseudonym", "fnr"})


def base_register(year: int) -> str:
    """The register that holds the IPLOS tables of an årgang (2017 and earlier: iplos; later: kpr)."""
    return "iplos" if year <= LAST_IPLOS_YEAR else "kpr"


@dataclass(frozen=True)
class ServiceFilter:
    """Received in the årgang a service among `codes` (Volven 9151), with at least `min_hours` per week."""

    codes: frozenset[int]
    min_hours: float | None = None

    def __post_init__(self) -> None:
        if not self.codes:
            raise IplosError("a service criterion needs at least one service code")


#: Where a record condition looks: (register, table, column, date column or None).
RECORD_SOURCES = {
    ("npr", "hoveddiagnose"): ("episode", "innskrivningsdato"),
    ("dar", "underliggende_dodsarsak"): ("dodsfall", "dodsdato"),
    ("iplos", "kode"): ("diagnose", "diagnosedato"),
}


@dataclass(frozen=True)
class RecordFilter:
    """A record of `register` whose `column` lies in one of the ICD-10 `ranges` (first, last; no dots).

    `within='period'`: in any årgang of the request (the person is then in every årgang of the
    population); `within='aargang'`: in the same årgang as the person-year; `within='after_discharge'`
    (NPR only): a person-year whose IPLOS services run on or after the first discharge from a
    matching episode in the period. A range covers subcodes:
    'I60'-'I69' holds 'I639'.
    """

    register: str
    column: str
    ranges: tuple[tuple[str, str], ...]
    within: str = "period"

    def __post_init__(self) -> None:
        if (self.register, self.column) not in RECORD_SOURCES:
            known = ", ".join(f"{r}.{c}" for r, c in RECORD_SOURCES)
            raise IplosError(f"no record condition on {self.register}.{self.column}; possible: {known}")
        if not self.ranges:
            raise IplosError(f"the condition on {self.register}.{self.column} names no codes")
        if self.within not in ("period", "aargang", "after_discharge"):
            raise IplosError(f"within must be 'period', 'aargang' or 'after_discharge', not {self.within!r}")
        if self.within == "after_discharge" and self.register != "npr":
            raise IplosError("services after the discharge need a condition on an NPR episode")

    @property
    def table(self) -> str:
        return RECORD_SOURCES[(self.register, self.column)][0]


@dataclass(frozen=True)
class Population:
    """Who is in the extract, per årgang; every criterion given must hold.

    Age is the årgang (or `age_year`) minus the birth year. `home_dwelling` keeps persons with no
    institution service (`institution_services`, Volven 9151 codes) in force at the end of the årgang
    or at death. `kommuner` maps each årgang to the kommune numbers (that årgang's classification)
    allowed in it. `functional_assessment` asks for an assessment in the årgang; `services` and
    `records` each add a condition the person-year must meet.
    """

    min_age: int | None = None
    max_age: int | None = None
    age_year: int | None = None
    birth_first: int | None = None
    birth_last: int | None = None
    sex: frozenset[int] = frozenset()
    husstand: frozenset[int] = frozenset()
    home_dwelling: bool = False
    institution_services: frozenset[int] = frozenset()
    kommuner: Mapping[int, frozenset[str]] | None = None
    functional_assessment: bool = False
    services: tuple[ServiceFilter, ...] = ()
    records: tuple[RecordFilter, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if self.home_dwelling and not self.institution_services:
            raise IplosError("a home-dwelling population needs the institution service codes")
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise IplosError(f"population age {self.min_age}-{self.max_age} is empty")
        if (
            self.birth_first is not None
            and self.birth_last is not None
            and self.birth_first > self.birth_last
        ):
            raise IplosError(f"population birth years {self.birth_first}-{self.birth_last} are empty")

    @property
    def registers(self) -> tuple[str, ...]:
        """Linked registers the population's record conditions read."""
        return tuple(dict.fromkeys(r.register for r in self.records if r.register in LINKABLE))


@dataclass(frozen=True)
class VariableRef:
    """One requested register column: `iplos.person.kommune`, `dar.dodsfall.underliggende_dodsarsak`.

    For the IPLOS tables the register is written `iplos` whatever the years; years after 2017 are read
    from KPR, which has the same tables.
    """

    register: str
    table: str
    column: str

    @classmethod
    def parse(cls, text: str) -> VariableRef:
        parts = text.split(".")
        if len(parts) != 3 or not all(parts):
            raise IplosError(f"variable {text!r} is not written register.table.column")
        register, table, column = parts
        if register == "kpr" and table != KONTAKT[1]:
            register = "iplos"  # KPR's IPLOS part: the same tables, read from kpr for its years
        if (register, table) == KONTAKT:
            pass
        elif register == "iplos":
            if table not in BASE_TABLES:
                raise IplosError(f"variable {text!r}: IPLOS has no table {table!r}")
        elif register in LINKABLE:
            if table != LINKABLE[register]:
                raise IplosError(
                    f"variable {text!r}: register {register} has only table {LINKABLE[register]!r}"
                )
        else:
            raise IplosError(f"variable {text!r}: unknown register {register!r}")
        if column in NEVER_DELIVERED:
            raise IplosError(f"variable {text!r} is an identifier and is never delivered")
        return cls(register, table, column)

    def __str__(self) -> str:
        return f"{self.register}.{self.table}.{self.column}"


@dataclass(frozen=True)
class LinkageRequest:
    """The part of an approved case the linkage needs (built by `iplos.delivery` from the case).

    `approvals` are the registers for which the case records an approval (vedtak or the register
    owner's consent); linkage refuses to start unless every register involved is among them.
    """

    case_id: str
    years: tuple[int, ...]
    variables: tuple[VariableRef, ...]
    population: Population = field(default_factory=Population)
    approvals: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.years:
            raise IplosError(f"case {self.case_id}: no årganger requested")
        if not self.variables:
            raise IplosError(f"case {self.case_id}: no variables requested")
        object.__setattr__(self, "years", tuple(sorted(set(self.years))))

    @classmethod
    def build(
        cls,
        case_id: str,
        years: Iterable[int],
        variables: Iterable[str | VariableRef],
        population: Population | None = None,
        approvals: Iterable[str] = (),
    ) -> LinkageRequest:
        refs = tuple(v if isinstance(v, VariableRef) else VariableRef.parse(v) for v in variables)
        return cls(
            case_id=case_id,
            years=tuple(years),
            variables=refs,
            population=population or Population(),
            approvals=frozenset(approvals),
        )

    @property
    def base_registers(self) -> tuple[str, ...]:
        """IPLOS and/or KPR, by the years asked for."""
        return tuple(r for r in BASE_REGISTERS if any(base_register(y) == r for y in self.years))

    @property
    def linked_registers(self) -> tuple[str, ...]:
        """Linked registers the variables or the population's conditions draw on."""
        wanted = {v.register for v in self.variables} | set(self.population.registers)
        return tuple(r for r in LINKABLE if r in wanted)

    @property
    def reads_kontakt(self) -> bool:
        """Whether a variable comes from KPR's contacts (`kpr.kontakt`)."""
        return any((v.register, v.table) == KONTAKT for v in self.variables)

    @property
    def kontakt_years(self) -> tuple[int, ...]:
        """The årganger KPR's contacts are read for: those of the request from 2017 on."""
        return tuple(y for y in self.years if y >= FIRST_KPR_YEAR) if self.reads_kontakt else ()

    @property
    def registers(self) -> tuple[str, ...]:
        """Every register involved: those that must each have a recorded approval.

        KPR's contacts need KPR's approval even in a request whose årganger IPLOS holds (2017).
        """
        base = self.base_registers
        if self.reads_kontakt and "kpr" not in base:
            base = (*base, "kpr")
        return base + self.linked_registers

    def columns(self, register: str, table: str) -> tuple[str, ...]:
        """The requested columns of one table, in request order."""
        return tuple(v.column for v in self.variables if v.register == register and v.table == table)


def check_approvals(request: LinkageRequest) -> list[str]:
    """The registers involved in the request that have no recorded approval (empty when linkage may start).

    IPLOS for årganger up to 2017, KPR for later årganger, and each linked register, each need their own.
    """
    return [r for r in request.registers if r not in request.approvals]
