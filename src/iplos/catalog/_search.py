"""Free-text search over the catalogue: names, labels, descriptions and codes, in bokmål or English.

Texts are folded once (case, diacritics, æ/ø/å) into an index; a query matches a variable when
every word of it occurs somewhere in the variable's texts.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from iplos.catalog._model import Code, Variable

# Norwegian letters that NFKD does not decompose: folded so that 'horsel' finds 'hørsel'.
_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ð": "d", "þ": "th", "ß": "ss"})


def normalise(text: str) -> str:
    """Case- and diacritic-insensitive form of a text used by search.

    >>> normalise("Hørsel ÅR Bevege seg utendørs")
    'horsel ar bevege seg utendors'
    """
    folded = text.casefold().translate(_FOLD)
    return "".join(ch for ch in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(ch))


@dataclass(frozen=True)
class SearchHit:
    """A variable that matched a search, with the codes whose labels matched (best first)."""

    variable: Variable
    score: int
    codes: tuple[Code, ...] = ()


@dataclass(frozen=True)
class IndexEntry:
    variable: Variable
    exact: str
    name: str
    labels: str
    other: str
    codes: tuple[tuple[Code, str], ...]


def build_index(variables: Iterable[Variable]) -> tuple[IndexEntry, ...]:
    """Fold every searchable text of every variable once."""
    return tuple(
        IndexEntry(
            variable=v,
            exact=normalise(v.name),
            name=normalise(v.name.replace("_", " ")) + " " + normalise(v.name),
            labels=normalise(f"{v.label_nb} {v.label_en}"),
            other=normalise(f"{v.description} {v.code_system or ''} {v.table}"),
            codes=tuple(
                (c, normalise(" ".join((c.code, c.label_nb, c.label_en, *c.synonyms)))) for c in v.codes
            ),
        )
        for v in variables
    )


def search(
    index: Iterable[IndexEntry], words: list[str], keep: Callable[[Variable], bool]
) -> list[SearchHit]:
    """Hits for folded query words: a word in the name scores 30 (100 when it is the name), in the
    labels 20, in the description 5, in code labels 10; every word must match somewhere."""
    hits: list[SearchHit] = []
    for e in index:
        if not keep(e.variable):
            continue
        score = 0
        coded: list[str] = []
        for w in words:
            if w in e.name:
                score += 100 if e.exact == w else 30
            elif w in e.labels:
                score += 20
            elif w in e.other:
                score += 5
            elif any(w in t for _, t in e.codes):
                score += 10
                coded.append(w)
            else:
                break
        else:
            if not coded:
                hits.append(SearchHit(e.variable, score))
                continue
            # Codes must match every word that only code labels matched; the words as a phrase first.
            phrase = " ".join(coded)
            matching = [(c, t) for c, t in e.codes if all(w in t for w in coded)]
            if matching:
                matching.sort(key=lambda ct: phrase not in ct[1])
                hits.append(SearchHit(e.variable, score, tuple(c for c, _ in matching)))
    return hits
