"""Fast secondary suppression: one hypercube per sensitive cell, each a proof of protection.

A pattern that moves a set of cells by +t or -t while every sum of the table still holds is a
product of one pattern per dimension, each summing to zero over every set of siblings: the cell's
category and a sibling with opposite signs (each continued down to a leaf), or the path up to the
total. In two flat dimensions it is the classic rectangle of four cells; in k it has 2^k corners
(Repsilber's hypercube method, GHMITER; Giessing & Repsilber 2002). If every corner is suppressed
and the corners that move against the sensitive cell hold at least its upper protection level
(and those that move with it at least its lower level), an attacker cannot rule out a + upper or
a - lower: the pattern is a feasible point of the audit's linear program. So the result passes the
audit by construction; cells are chosen greedily, the cheapest feasible hypercube per sensitive
cell, already suppressed cells costing nothing. Cells for which no hypercube fits are audited once
the cubes are chosen; only those still unprotected get a linear program that finds the cheapest
deviation (near the cell, else over the whole table).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import linprog

from iplos.errors import IplosError
from iplos.sdc.tables._audit import audit
from iplos.sdc.tables._dimension import Dimension
from iplos.sdc.tables._table import FloatArray, IntArray

BoolArray = npt.NDArray[np.bool_]
Pattern = tuple[IntArray, IntArray]  # nodes, signs
TOL = 1e-9


class _Patterns:
    """The 1-D zero-sum patterns through each node of one dimension.

    A pattern through an inner node continues down to a leaf through the largest child, judged
    on the line of cells through the sensitive cell (the cells that differ from it in this
    dimension only), so that the corners of the cube are as likely as possible to be non-empty.
    """

    def __init__(self, dim: Dimension) -> None:
        self.dim = dim

    def down(self, node: int, line: FloatArray) -> list[int]:
        path = [node]
        while self.dim.children(path[-1]):
            kids = self.dim.children(path[-1])
            path.append(max(kids, key=lambda c: line[c]))
        return path

    def through(self, node: int, line: FloatArray) -> list[Pattern]:
        dim = self.dim
        out: list[Pattern] = []
        mine = self.down(node, line)
        parent = dim.parents[node]
        if parent < 0:
            for child in dim.children(node):
                nodes = [node, *self.down(child, line)]
                out.append((np.array(nodes), np.ones(len(nodes), dtype=np.int64)))
        else:
            up = list(dim.path(parent)) + mine
            out.append((np.array(up), np.ones(len(up), dtype=np.int64)))
            for sib in dim.children(parent):
                if sib == node:
                    continue
                other = self.down(sib, line)
                out.append(
                    (np.array(mine + other), np.array([1] * len(mine) + [-1] * len(other), dtype=np.int64))
                )
        return out


def hypercube_suppression(
    dimensions: tuple[Dimension, ...],
    values: FloatArray,
    constraints: sp.csr_matrix,
    primary: BoolArray,
    upper: FloatArray,
    lower: FloatArray,
    cost: FloatArray,
    per_dimension: int = 6,
) -> tuple[BoolArray, int]:
    """Suppressed cells (primary included) protecting every primary cell; also LP fallbacks used."""
    shape = tuple(d.size for d in dimensions)
    strides = np.array([int(np.prod(shape[i + 1 :])) for i in range(len(shape))], dtype=np.int64)
    patterns = [_Patterns(dim) for dim in dimensions]
    suppressed = primary.copy()
    coords = np.stack(np.unravel_index(np.arange(values.shape[0]), shape), axis=1)
    cells = np.flatnonzero(primary)
    depth = np.array(
        [sum(d.depths[int(i)] for d, i in zip(dimensions, coords[c], strict=True)) for c in cells]
    )
    order = cells[np.lexsort((values[cells], -depth))] if cells.size else cells
    deferred: list[int] = []
    for p in order:
        if upper[p] <= TOL and lower[p] <= TOL:
            continue
        chosen = _best_cube(
            p, coords[p], patterns, strides, values, suppressed, upper[p], lower[p], cost, per_dimension
        )
        if chosen is None:
            deferred.append(int(p))
        else:
            suppressed[chosen] = True
    # cells without a cube of their own are often protected by the cubes of others: only those
    # the audit still finds unprotected get a linear program (one per direction), in rounds
    fallbacks = 0
    for _ in range(10):
        if not deferred:
            break
        check = np.zeros(values.shape[0], dtype=bool)
        check[deferred] = True
        result = audit(
            constraints,
            values,
            suppressed,
            sensitive=check,
            upper_required=upper,
            lower_required=lower,
            intervals="witnessed",
        )
        failing = [int(c) for c in result.failing]
        if not failing:
            break
        for p in failing:
            for direction in (1.0, -1.0):
                level = upper[p] if direction > 0 else lower[p]
                reach = result.upper[p] - values[p] if direction > 0 else values[p] - result.lower[p]
                if level <= TOL or reach >= level - 1e-6:
                    continue
                fallbacks += 1
                near = _neighbourhood(dimensions, coords[p], strides)
                try:
                    chosen_lp = _deviation_lp(
                        p, direction, level, values, constraints, suppressed, cost, near
                    )
                except IplosError:
                    chosen_lp = _deviation_lp(p, direction, level, values, constraints, suppressed, cost)
                suppressed[chosen_lp] = True
        deferred = failing
    return suppressed, fallbacks


def _best_cube(
    p: int,
    coord: IntArray,
    patterns: list[_Patterns],
    strides: IntArray,
    values: FloatArray,
    suppressed: BoolArray,
    upper: float,
    lower: float,
    cost: FloatArray,
    per_dimension: int,
) -> IntArray | None:
    k = len(patterns)
    offsets: list[IntArray] = []
    signs: list[IntArray] = []
    for d in range(k):
        base = p - int(coord[d]) * int(strides[d])
        line_all = values[base + np.arange(patterns[d].dim.size) * strides[d]]
        cands = patterns[d].through(int(coord[d]), line_all)
        # rank this dimension's patterns by the line of cells through p: usable, then cheap
        scored = []
        for nodes, sg in cands:
            line = base + nodes * strides[d]
            usable = (values[line][sg < 0].min(initial=np.inf) >= upper - TOL) and (
                values[line][sg > 0].min(initial=np.inf) >= lower - TOL
            )
            new_cost = float((cost[line] * ~suppressed[line]).sum())
            scored.append((not usable, new_cost, len(nodes)))
        pick = sorted(range(len(cands)), key=lambda i: scored[i])[:per_dimension]
        if patterns[d].dim.parents[int(coord[d])] >= 0 and 0 not in pick:
            pick.append(0)  # the path up to the total: always usable for a leaf
        width = max(len(cands[i][0]) for i in pick)
        off = np.zeros((len(pick), width), dtype=np.int64)
        sgn = np.zeros((len(pick), width), dtype=np.int64)
        for row, i in enumerate(pick):
            nodes, sg = cands[i]
            off[row, : len(nodes)] = (nodes - coord[d]) * strides[d]
            sgn[row, : len(nodes)] = sg
        offsets.append(off)
        signs.append(sgn)
    # broadcast to (m_1..m_k, L_1..L_k)
    cell = np.full([1] * (2 * k), p, dtype=np.int64)
    sign = np.ones([1] * (2 * k), dtype=np.int64)
    for d in range(k):
        m, length = offsets[d].shape
        view = [1] * (2 * k)
        view[d], view[k + d] = m, length
        cell = cell + offsets[d].reshape(view)
        sign = sign * signs[d].reshape(view)
    n_combos = int(np.prod(cell.shape[:k]))
    cell = cell.reshape(n_combos, -1)
    sign = sign.reshape(n_combos, -1)
    valid = sign != 0
    safe_cell = np.where(valid, cell, p)
    v = values[safe_cell]
    cap_up = np.where(sign < 0, v, np.inf).min(axis=1)
    cap_down = np.where(sign > 0, v, np.inf).min(axis=1)
    feasible = (cap_up >= upper - TOL) & (cap_down >= lower - TOL)
    if not feasible.any():
        return None
    added = np.where(valid & ~suppressed[safe_cell], cost[safe_cell], 0.0)
    total = added.sum(axis=1)  # the corners of one cube are distinct cells
    total[~feasible] = np.inf
    best = int(np.argmin(total))
    return np.unique(safe_cell[best][valid[best]])


def _neighbourhood(dimensions: tuple[Dimension, ...], coord: IntArray, strides: IntArray) -> IntArray:
    """Cells near p: in each dimension p's ancestors and everything under p's parent."""
    per_dim: list[IntArray] = []
    for dim, node in zip(dimensions, coord, strict=True):
        parent = dim.parents[int(node)]
        top = parent if parent >= 0 else int(node)
        nodes = set(dim.path(top))
        stack = [top]
        while stack:
            n = stack.pop()
            nodes.add(n)
            stack.extend(dim.children(n))
        per_dim.append(np.array(sorted(nodes), dtype=np.int64))
    cells = np.zeros(1, dtype=np.int64)
    for dim_nodes, stride in zip(per_dim, strides, strict=True):
        cells = (cells[:, None] + dim_nodes[None, :] * stride).reshape(-1)
    return np.sort(cells)


def _deviation_lp(
    p: int,
    direction: float,
    level: float,
    values: FloatArray,
    constraints: sp.csr_matrix,
    suppressed: BoolArray,
    cost: FloatArray,
    within: IntArray | None = None,
) -> IntArray:
    """Cells of the cheapest additive deviation moving cell p by `direction * level` within x >= 0.

    With `within`, only those cells may move (the others stay fixed), a smaller program.
    """
    if within is not None:
        sub = constraints[:, within].tocsr()
        rows = np.flatnonzero(np.diff(sub.indptr) > 0)
        local = int(np.searchsorted(within, p))
        picked = _deviation_lp(
            local, direction, level, values[within], sub[rows], suppressed[within], cost[within]
        )
        return np.asarray(within[picked], dtype=np.int64)
    n = values.shape[0]
    weight = np.where(suppressed, 1e-6, cost / max(level, 1e-9) + 1e-6)
    c = np.concatenate([weight, weight])
    a_eq = sp.hstack([constraints, -constraints]).tocsr()
    lo = np.zeros(2 * n)
    hi = np.concatenate([np.full(n, np.inf), values])  # x = a + d+ - d- >= 0
    if direction > 0:
        lo[p] = hi[p] = level
        hi[n + p] = 0.0
    else:
        lo[n + p] = hi[n + p] = level
        hi[p] = 0.0
    res = linprog(
        c, A_eq=a_eq, b_eq=np.zeros(constraints.shape[0]), bounds=np.stack([lo, hi], axis=1), method="highs"
    )
    if res.status != 0:
        raise IplosError(
            f"cell {p} cannot be protected to the required level ({level:g}) in any suppression pattern"
        )
    d = res.x[:n] - res.x[n:]
    return np.flatnonzero(np.abs(d) > 1e-7)
