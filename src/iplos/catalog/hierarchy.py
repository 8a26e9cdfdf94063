"""Generalization hierarchies: each original value and what it becomes at every coarser level.

A hierarchy is a table with one row per leaf (original) value and one column per level, level 0
being the value itself, as in ARX (Prasser & Kohlmayer, "Putting statistical disclosure control into
practice: The ARX data anonymization tool", 2015). It must nest strictly: two leaves that share a
value at level i share their value at every level above i, so every value of a level falls in
exactly one value of the next. Where useful groupings do not nest, a variable has several
alternative hierarchies.

The ARX CSV format has no header, one row per leaf and ';' between levels.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from iplos.atomic import write_text_atomic
from iplos.errors import IplosError, Problem


@dataclass(frozen=True)
class Hierarchy:
    """A strictly nesting generalization hierarchy over string values.

    >>> h = Hierarchy.from_rows("sex", [["1", "*"], ["2", "*"]], level_names=["sex", "all"])
    >>> h.generalize("2", 1)
    '*'
    >>> h.height
    2
    """

    name: str
    level_names: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    description: str = ""
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        height = len(self.level_names)
        if height == 0:
            raise IplosError(f"hierarchy {self.name!r} has no levels")
        if not self.rows:
            raise IplosError(f"hierarchy {self.name!r} has no values")
        index: dict[str, int] = {}
        for i, row in enumerate(self.rows):
            if len(row) != height:
                problems.append(
                    Problem(
                        f"has {len(row)} levels, expected {height}", row=i + 1, value=row[0] if row else ""
                    )
                )
                continue
            if row[0] in index:
                problems.append(Problem("leaf value appears twice", row=i + 1, value=row[0]))
            index[row[0]] = i
        if not problems:
            for level in range(1, height - 1):
                parent_of: dict[str, str] = {}
                for i, row in enumerate(self.rows):
                    seen = parent_of.setdefault(row[level], row[level + 1])
                    if seen != row[level + 1]:
                        problems.append(
                            Problem(
                                f"value {row[level]!r} of level {level} ({self.level_names[level]}) falls in "
                                f"both {seen!r} and {row[level + 1]!r} at level {level + 1}: levels must nest",
                                row=i + 1,
                                value=row[0],
                            )
                        )
                        break
        if problems:
            raise IplosError(f"hierarchy {self.name!r} is inconsistent", problems)
        object.__setattr__(self, "_index", index)

    # construction -----------------------------------------------------------------------------------
    @classmethod
    def from_rows(
        cls,
        name: str,
        rows: Iterable[Sequence[str]],
        level_names: Sequence[str] | None = None,
        description: str = "",
    ) -> Hierarchy:
        """Build from rows of strings (leaf first)."""
        materialised = tuple(tuple(str(v) for v in row) for row in rows)
        height = len(materialised[0]) if materialised else 0
        names = tuple(level_names) if level_names is not None else tuple(f"level{i}" for i in range(height))
        return cls(name=name, level_names=names, rows=materialised, description=description)

    @classmethod
    def from_functions(
        cls,
        name: str,
        leaves: Iterable[object],
        levels: Sequence[tuple[str, Callable[[str], str]]],
        leaf_level_name: str | None = None,
        description: str = "",
    ) -> Hierarchy:
        """Build from leaf values and one function per coarser level (each applied to the leaf)."""
        rows = []
        for leaf in leaves:
            text = str(leaf)
            rows.append((text, *(fn(text) for _, fn in levels)))
        names = (leaf_level_name or name, *(n for n, _ in levels))
        return cls(name=name, level_names=names, rows=tuple(rows), description=description)

    # queries ----------------------------------------------------------------------------------------
    @property
    def height(self) -> int:
        """Number of levels, the original values included."""
        return len(self.level_names)

    @property
    def leaves(self) -> tuple[str, ...]:
        return tuple(row[0] for row in self.rows)

    def __contains__(self, value: object) -> bool:
        return str(value) in self._index

    def level(self, level: int | str) -> int:
        """Resolve a level given by number or by name."""
        if isinstance(level, str):
            if level.isdigit():
                level = int(level)
            elif level in self.level_names:
                return self.level_names.index(level)
            else:
                raise IplosError(
                    f"hierarchy {self.name!r} has no level {level!r}; levels: {', '.join(self.level_names)}"
                )
        if not 0 <= level < self.height:
            raise IplosError(f"hierarchy {self.name!r} has levels 0..{self.height - 1}, not {level}")
        return level

    def generalize(self, value: object, level: int | str) -> str:
        """The value `value` becomes at `level`; an unknown value is an error naming it."""
        lvl = self.level(level)
        text = str(value)
        try:
            return self.rows[self._index[text]][lvl]
        except KeyError:
            raise IplosError(f"value {text!r} is not in hierarchy {self.name!r}") from None

    def values(self, level: int | str) -> tuple[str, ...]:
        """Distinct values of a level, in first-seen order."""
        lvl = self.level(level)
        return tuple(dict.fromkeys(row[lvl] for row in self.rows))

    def codes(self, level: int | str) -> tuple[npt.NDArray[np.int64], tuple[str, ...]]:
        """Integer codes: for each leaf (in row order) the index of its value at `level`, and the labels."""
        lvl = self.level(level)
        labels: dict[str, int] = {}
        out = np.empty(len(self.rows), dtype=np.int64)
        for i, row in enumerate(self.rows):
            out[i] = labels.setdefault(row[lvl], len(labels))
        return out, tuple(labels)

    def leaf_index(self, value: object) -> int | None:
        """Row number of a leaf value, or None when it is not in the hierarchy."""
        return self._index.get(str(value))

    def restrict(self, leaves: Iterable[object]) -> Hierarchy:
        """The same hierarchy over a subset of its leaves (unknown leaves are an error)."""
        wanted = [str(v) for v in leaves]
        missing = [v for v in wanted if v not in self._index]
        if missing:
            raise IplosError(f"values not in hierarchy {self.name!r}: {', '.join(map(repr, missing[:10]))}")
        return Hierarchy(
            name=self.name,
            level_names=self.level_names,
            rows=tuple(self.rows[self._index[v]] for v in dict.fromkeys(wanted)),
            description=self.description,
        )

    # ARX CSV ----------------------------------------------------------------------------------------
    def to_arx_csv(self, path: str | Path | None = None, sep: str = ";") -> str:
        """Write (atomically, when a path is given) and return the ARX CSV text."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
        writer.writerows(self.rows)
        text = buffer.getvalue()
        if path is not None:
            write_text_atomic(Path(path), text)
        return text

    @classmethod
    def read_arx_csv(
        cls,
        path: str | Path,
        name: str | None = None,
        sep: str = ";",
        level_names: Sequence[str] | None = None,
    ) -> Hierarchy:
        """Read an ARX hierarchy file; errors name the file and row."""
        p = Path(path)
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise IplosError(f"cannot read hierarchy file {p}: {exc.strerror}") from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            row = data.count(b"\n", 0, exc.start) + 1
            raise IplosError(
                f"hierarchy file {p} is not UTF-8 text (is it a binary or a spreadsheet file?)",
                [Problem(f"byte {exc.start + 1} is not UTF-8", file=str(p), row=row)],
            ) from None
        if "\x00" in text:
            row = text.count("\n", 0, text.index("\x00")) + 1
            raise IplosError(
                f"hierarchy file {p} holds NUL bytes; it is not a CSV text file",
                [Problem("NUL byte", file=str(p), row=row)],
            )
        return cls.parse_arx_csv(text, name=name or p.stem, sep=sep, level_names=level_names, source=str(p))

    @classmethod
    def parse_arx_csv(
        cls,
        text: str,
        name: str,
        sep: str = ";",
        level_names: Sequence[str] | None = None,
        source: str = "<text>",
    ) -> Hierarchy:
        try:
            rows = [
                row
                for row in csv.reader(io.StringIO(text), delimiter=sep)
                if row and any(c.strip() for c in row)
            ]
        except csv.Error as exc:
            raise IplosError(f"hierarchy file {source} is not a readable CSV: {exc}") from None
        if not rows:
            raise IplosError(f"hierarchy file {source} is empty")
        height = len(rows[0])
        problems = [
            Problem(
                f"has {len(row)} columns, the first row has {height}", file=source, row=i + 1, value=row[0]
            )
            for i, row in enumerate(rows)
            if len(row) != height
        ]
        if problems:
            raise IplosError(f"hierarchy file {source} is inconsistent", problems)
        try:
            return cls.from_rows(name, rows, level_names=level_names)
        except IplosError as exc:
            located = [
                Problem(p.message, file=source, row=p.row, column=p.column, value=p.value)
                for p in exc.problems
            ]
            raise IplosError(f"hierarchy file {source} is inconsistent", located) from None
