"""Bokmål and English: every message in both, every key a template uses exists, Norwegian forms."""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime
from importlib.resources import files
from pathlib import Path

import pytest

from iplos.cases import EVENT_TYPES, ROLES, STATUSES
from iplos.web import _i18n
from iplos.web._messages import LEVELS, MESSAGES

TEMPLATES = files("iplos.web") / "templates"
# Keys built in templates from a prefix and a value: each family must cover its values.
FAMILIES = {
    "status.": STATUSES,
    "role.": ROLES,
    "event.": tuple(EVENT_TYPES),
    "purpose.": ("overvaking", "kvalitetssikring", "planlegging", "utvikling", "styring", "forskning"),
    "vrole.": ("direct_identifier", "linkage_key", "quasi_identifier", "sensitive", "other"),
    "register.": ("iplos", "kpr", "dar", "npr", "ssb"),
    "outcome.": ("granted", "denied", "coarsened", "pending"),
    "kind.": ("new", "change", "new_period"),
}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_in_both_languages_with_the_same_placeholders() -> None:
    assert MESSAGES["nb"].keys() == MESSAGES["en"].keys()
    for key in MESSAGES["nb"]:
        nb, en = MESSAGES["nb"][key], MESSAGES["en"][key]
        assert nb.strip() and en.strip(), key
        assert _fields(nb) == _fields(en), key
    assert LEVELS["nb"].keys() == LEVELS["en"].keys()


def test_every_key_used_in_a_template_or_page_exists() -> None:
    used: set[str] = set()
    prefixes: set[str] = set()
    sources = [t.read_text("utf-8") for t in TEMPLATES.iterdir() if t.name.endswith(".j2")]
    sources += [p.read_text("utf-8") for p in (files("iplos.web")).iterdir() if p.name.endswith(".py")]
    for text in sources:
        for key in re.findall(r"""\bt\(\s*["']([a-z_.0-9]+)["']""", text):
            (prefixes if key.endswith(".") else used).add(key)
        used |= set(
            re.findall(
                r"""(?:_t|_msg|translate)\((?:request|lang_of\(request\)|"nb"|"en"),\s*["']([a-z_.0-9]+)["']""",
                text,
            )
        )
    missing = sorted(k for k in used if k not in MESSAGES["en"])
    assert not missing
    for prefix in prefixes:
        if prefix in FAMILIES:
            absent = [v for v in FAMILIES[prefix] if f"{prefix}{v}" not in MESSAGES["en"]]
            assert not absent, (prefix, absent)
        else:
            assert any(k.startswith(prefix) for k in MESSAGES["en"]), prefix


def test_every_catalogue_level_name_is_translated() -> None:
    from iplos.catalog import catalog, hierarchies_for, hierarchy_for
    from iplos.errors import IplosError

    names: set[str] = set()
    for v in catalog().variables():
        for h in hierarchies_for(v.name):
            try:
                names.update(hierarchy_for(v.name, h).level_names[1:])
            except IplosError:
                continue
    assert names and not sorted(n for n in names if n not in LEVELS["nb"])
    assert _i18n.level_name("nb", "5 years") == "5-årsgrupper"
    assert _i18n.level_name("en", "fylke") == "county"


def test_norwegian_and_english_forms() -> None:
    assert _i18n.number("nb", 1234567.5) == "1\u00a0234\u00a0567,5"
    assert _i18n.number("en", 1234567.5) == "1,234,567.5"
    assert _i18n.number("nb", 2.25, 1) == "2,2" and _i18n.number("en", -3) == "−3"
    assert _i18n.number("nb", 30) == "30"
    assert _i18n.money("nb", 36900) == "kr\u00a036\u00a0900,00"
    assert _i18n.money("en", 36900) == "NOK\u00a036,900.00"
    assert _i18n.percent("nb", 0.875) == "87,5\u00a0%"
    assert _i18n.percent("en", 0.875) == "87.5%"
    assert _i18n.day("nb", date(2026, 12, 1)) == "1.12.2026"
    assert _i18n.day("en", date(2026, 12, 1)) == "1 Dec 2026"
    # 23:30 UTC on 31 December is already New Year's Day in Oslo.
    late = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert _i18n.day("nb", late) == "1.1.2027"
    assert _i18n.moment("nb", late) == "1.1.2027 kl.\u00a000:30"


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "nb"),
        (None, "en-GB,en;q=0.9", "en"),
        (None, "nb-NO,nb;q=0.9,en;q=0.5", "nb"),
        (None, "de-DE,en;q=0.3,no;q=0.8", "nb"),
        (None, "fr, de", "nb"),
        ("en", "nb-NO", "en"),
        ("xx", "en", "en"),
        (None, "en;q=0, nn", "nb"),
    ],
)
def test_language_negotiation(cookie: str | None, header: str | None, expected: str) -> None:
    assert _i18n.negotiate(cookie, header) == expected


def test_pages_follow_the_chosen_language(tmp_path: Path) -> None:
    from pages_helpers import make_site  # type: ignore[import-not-found]

    site = next(make_site(tmp_path))
    v = site.visitor(None, "en-GB")
    assert '<html lang="en">' in v.get("/transparency").text
    v.get("/lang/nb", next="/transparency")
    page = v.get("/transparency")
    assert '<html lang="nb">' in page.text and "Behandlingstid" in page.text
    assert (
        v.client.get("/lang/en", params={"next": "https://evil.example"}, follow_redirects=False).headers[
            "location"
        ]
        == "/"
    )
    site.close()
