"""The rate card: hourly rates per staff group, used to price offers and invoices."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from iplos.cases.model import EstimateLine, PricedLine
from iplos.errors import IplosError, Problem


@dataclass(frozen=True)
class StaffRate:
    """Hourly rate of one staff group."""

    group: str
    label_nb: str
    label_en: str
    rate: float


@dataclass(frozen=True)
class RateCard:
    """Hourly rates per staff group in one currency; amounts are rounded to øre (2 decimals)."""

    currency: str
    valid_from: date
    rates: Mapping[str, StaffRate]
    source: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any], file: str = "rate card") -> RateCard:
        """Build from the JSON format of the packaged `rate_card.json`."""
        problems: list[Problem] = []
        groups = data.get("staff_groups")
        if not isinstance(groups, dict) or not groups:
            raise IplosError(f"{file}: 'staff_groups' must be a non-empty object")
        rates: dict[str, StaffRate] = {}
        for name, entry in groups.items():
            rate = entry.get("rate") if isinstance(entry, dict) else None
            if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
                problems.append(
                    Problem("rate must be a positive number", file=file, column=name, value=str(rate))
                )
                continue
            rates[name] = StaffRate(
                name, str(entry.get("label_nb", name)), str(entry.get("label_en", name)), float(rate)
            )
        try:
            valid_from = date.fromisoformat(str(data.get("valid_from")))
        except ValueError:
            problems.append(
                Problem("valid_from must be a date", file=file, value=str(data.get("valid_from")))
            )
            valid_from = date.min
        if problems:
            raise IplosError(f"{file}: invalid rate card", problems)
        return cls(str(data.get("currency", "NOK")), valid_from, rates, str(data.get("source", "")))

    @classmethod
    def from_file(cls, path: Path) -> RateCard:
        """Read a rate card file (same format as the packaged default)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise IplosError(f"{path}: cannot read rate card: {exc}") from None
        return cls.from_json(data, str(path))

    @classmethod
    def default(cls) -> RateCard:
        """The packaged default rate card."""
        text = resources.files("iplos.cases").joinpath("data/rate_card.json").read_text(encoding="utf-8")
        return cls.from_json(json.loads(text), "iplos.cases/data/rate_card.json")

    def unknown_groups(self, groups: Iterable[str]) -> list[str]:
        """Staff groups not on the card."""
        return [g for g in groups if g not in self.rates]

    def price(self, line: EstimateLine) -> PricedLine:
        """Price one line: hours x the group's rate."""
        rate = self.rates[line.staff_group].rate
        return PricedLine(line.staff_group, line.description, line.hours, rate, round(line.hours * rate, 2))

    def price_all(self, lines: Iterable[EstimateLine]) -> tuple[tuple[PricedLine, ...], float]:
        """Price lines and return them with their total."""
        priced = tuple(self.price(line) for line in lines)
        return priced, round(sum(p.amount for p in priced), 2)
