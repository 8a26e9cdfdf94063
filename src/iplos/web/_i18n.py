"""Bokmål and English for the pages: the language of a request, messages, dates, numbers, level names.

The language is the user's choice (the `lang` cookie set by `/lang/{code}`), else the best of
Accept-Language, else bokmål. Messages live in `_messages.MESSAGES` (one dict per language, the
same keys in both; a test checks it). In bokmål dates are written 1.12.2026 and numbers
1 234,5 (no-break space between thousands, decimal comma); in English 1 Dec 2026 and 1,234.5.
Hierarchy level names from the catalogue ('5 years', 'fylke') are translated, so a Norwegian page
never says "5 years".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from iplos.web._messages import LEVELS, MESSAGES

Lang = Literal["nb", "en"]
LANGS: tuple[Lang, ...] = ("nb", "en")
OSLO = ZoneInfo("Europe/Oslo")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NB_ALIASES = ("nb", "no", "nn", "nb-no", "no-no", "nn-no")


def negotiate(cookie: str | None, accept_language: str | None) -> Lang:
    """The page language: the cookie if valid, else the first acceptable of Accept-Language, else nb."""
    if cookie in LANGS:
        return cookie
    best: tuple[float, int, Lang] | None = None
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang: Lang | None = "nb" if tag in _NB_ALIASES else "en" if tag.split("-")[0] == "en" else None
        if lang is not None and q > 0 and (best is None or (q, -i) > (best[0], best[1])):
            best = (q, -i, lang)
    return best[2] if best else "nb"


def translate(lang: Lang, key: str, **values: object) -> str:
    """The message `key` in `lang`, with `{name}` placeholders filled; a missing key is a KeyError."""
    text = MESSAGES[lang][key]
    return text.format(**values) if values else text


def level_name(lang: Lang, level: str | int | None) -> str:
    """A hierarchy level's name in the page language ('5 years' -> '5-årsgrupper' in nb)."""
    if level is None:
        return ""
    text = str(level)
    return LEVELS[lang].get(text, text)


def number(lang: Lang, value: float | int | None, decimals: int | None = None) -> str:
    """1 234,5 (nb) or 1,234.5 (en); `decimals` fixes the digits after the decimal sign (else at most 2)."""
    if value is None:
        return "–"
    trim = decimals is None
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 2
    text = f"{value:,.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    if lang == "nb":
        text = text.replace(",", "\u00a0").replace(".", ",")
    return text.replace("-", "−") if text.startswith("-") else text


def money(lang: Lang, value: float | None, currency: str = "NOK") -> str:
    """kr 1 234,50 (nb) or NOK 1,234.50 (en)."""
    if value is None:
        return "–"
    shown = number(lang, value, 2)
    return f"kr\u00a0{shown}" if lang == "nb" and currency == "NOK" else f"{currency}\u00a0{shown}"


def percent(lang: Lang, share: float | None) -> str:
    """A share as a percentage: 87,5 % (nb) or 87.5% (en)."""
    if share is None:
        return "–"
    shown = number(lang, round(share * 100, 1), 1)
    return f"{shown}\u00a0%" if lang == "nb" else f"{shown}%"


def day(lang: Lang, value: date | datetime | str | None) -> str:
    """A date: 1.12.2026 (nb) or 1 Dec 2026 (en); a datetime is shown on Oslo's calendar."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(OSLO).date() if value.tzinfo else value.date()
    if lang == "nb":
        return f"{value.day}.{value.month}.{value.year}"
    return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"


def moment(lang: Lang, value: datetime | str | None) -> str:
    """A date and time in Oslo: 1.12.2026 kl. 14:05 (nb) or 1 Dec 2026 14:05 (en)."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(OSLO) if value.tzinfo else value
    joiner = " kl.\u00a0" if lang == "nb" else " "
    return f"{day(lang, local.date())}{joiner}{local:%H:%M}"
