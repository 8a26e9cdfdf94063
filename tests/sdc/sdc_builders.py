"""Builders for small random microdata and nested hierarchies (shared by the sdc tests)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from iplos.catalog.hierarchy import Hierarchy


def nested_hierarchy(name: str, leaves: int, height: int, star_top: bool = True) -> Hierarchy:
    """Leaves v0..v{leaves-1}; level i groups leaf index // 2**i; optionally a '*' top level."""
    rows = []
    for i in range(leaves):
        row = [f"v{i}"]
        for level in range(1, height):
            if star_top and level == height - 1:
                row.append("*")
            else:
                row.append(f"g{level}_{i // 2**level}")
        rows.append(row)
    return Hierarchy.from_rows(name, rows, level_names=[f"{name}{lv}" for lv in range(height)])


@dataclass(frozen=True)
class Case:
    hierarchies: tuple[Hierarchy, ...]
    rows: tuple[tuple[str, ...], ...]
    sensitive: tuple[str, ...] | None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.hierarchies)

    def columns(self) -> dict[str, list[str]]:
        cols = {name: [r[j] for r in self.rows] for j, name in enumerate(self.names)}
        if self.sensitive is not None:
            cols["diag"] = list(self.sensitive)
        return cols


@st.composite
def cases(draw: st.DrawFn, max_rows: int = 40, with_sensitive: bool | None = None) -> Case:
    q = draw(st.integers(1, 3))
    hs = []
    for j in range(q):
        leaves = draw(st.integers(1, 6))
        height = draw(st.integers(1, 4))
        hs.append(nested_hierarchy(f"q{j}", leaves, height, star_top=draw(st.booleans())))
    n = draw(st.integers(1, max_rows))
    rows = tuple(
        tuple(draw(st.sampled_from(h.leaves[: draw(st.integers(1, len(h.leaves)))])) for h in hs)
        for _ in range(n)
    )
    want = draw(st.booleans()) if with_sensitive is None else with_sensitive
    sens = tuple(draw(st.sampled_from(["1", "2", "3", "5", "8"])) for _ in range(n)) if want else None
    return Case(tuple(hs), rows, sens)


def sensitive_hierarchy(star_top: bool = True) -> Hierarchy:
    """A hierarchy over the sensitive values the builders draw ("1", "2", "3", "5", "8")."""
    rows = [
        [v, "low" if v in "123" else "high"] + (["*"] if star_top else []) for v in ["1", "2", "3", "5", "8"]
    ]
    names = ["value", "group", "all"] if star_top else ["value", "group"]
    return Hierarchy.from_rows("diag", rows, level_names=names)
