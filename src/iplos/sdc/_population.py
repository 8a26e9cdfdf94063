"""Population uniqueness estimated from a sample: Pitman, Zayatz, SNB and Dankar's decision rule.

When an extract is a sample of a larger population (and no population table is at hand), how many
combinations of quasi-identifiers are unique in the population is estimated from the sample's
class sizes: c_s classes of size s, u classes, n records, population size N, sampling fraction
f = n / N. The models and the decision rule follow ARX 3.9 (`RiskModelPopulationUniqueness`,
Prasser et al.); where ARX's code departs from the papers, the papers are followed (noted below).

- Zayatz (1991), as ARX applies it with the sample's class sizes standing in for the population's:
  uniques = c_1 / f * P / sum_s (c_s / u) H(1; N, s, n), with P = (c_1 / u) H(1; N, 1, n) and
  H(1; N, s, n) the hypergeometric probability that exactly one of a class of s population
  members is drawn in a sample of n.
- Pitman (Hoshino, "Applying Pitman's sampling formula to microdata disclosure risk assessment",
  J. Official Statistics 2001): the maximum-likelihood (theta, alpha) of Pitman's sampling formula,
  log L = sum_{i<u} log(theta + i alpha) - sum_{i<n} log(theta + i) + sum_s c_s sum_{j<s} log(j - alpha),
  found by Newton's method from ARX's starting point; uniques = Gamma(theta + 1) / Gamma(theta + alpha)
  * N^alpha (invalid unless 0 <= value <= N).
- SNB, the slide negative binomial (Chen & Keller-McNulty, "Estimation of identification disclosure
  risk in microdata", J. Official Statistics 1998): population class sizes F with F - 1 negative
  binomial (alpha, beta), sample sizes binomial(F, f); alpha and beta solve
  K P(s = 1) = c_1 and K P(s = 2) = c_2, where, with d = (1 - f)(1 - beta),
  P(s = 1) = f (beta / (1 - d))^alpha (1 + alpha d / (1 - d)) and
  P(s = 2) = f^2 alpha (1 - beta) beta^alpha (2 - (1 - alpha) d) / (2 (1 - d)^(alpha + 2));
  K, the number of non-empty population classes, is Shlosser's estimator in Haas et al.'s form
  ("Sampling-based estimation of the number of distinct values of an attribute", VLDB 1995):
  K = u + c_1 * [sum_s s f^2 (1 - f^2)^(s-1) c_s / sum_s (1 - f)^s ((1 + f)^s - 1) c_s]
        * [sum_s (1 - f)^s c_s / sum_s s f (1 - f)^(s-1) c_s]^2; uniques = K beta^alpha.
  Two differences from ARX 3.9's code, both where the code departs from these formulas: ARX's
  second equation multiplies by (1 - d)^(alpha + 2) instead of dividing, and its Shlosser
  denominator subtracts 1 once per class size instead of c_s (1 - f)^s.
- Dankar et al.'s rule ("Estimating the re-identification risk of clinical data sets", BMC Medical
  Informatics and Decision Making 2012): with f <= 0.1 Pitman's estimate, else the smaller of
  Zayatz's and SNB's; Zayatz's when the chosen model gives no valid estimate (as ARX does).
  No sample uniques: no population uniques.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iplos.errors import IplosError

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PopulationUniqueness:
    """Estimated numbers of population uniques by model (None: the model gives no valid estimate)."""

    population_size: float
    sample_size: int
    sampling_fraction: float
    sample_uniques: int
    pitman: float | None
    zayatz: float | None
    snb: float | None
    dankar: float
    dankar_model: str  # "pitman", "zayatz", "snb", or "none" when the sample has no uniques

    @property
    def dankar_share(self) -> float:
        """Dankar's estimate as a share of the population (ARX's "population uniqueness")."""
        return self.dankar / self.population_size


def population_uniqueness(
    class_sizes: npt.NDArray[np.integer] | list[int],
    population_size: float | None = None,
    sampling_fraction: float | None = None,
) -> PopulationUniqueness:
    """Estimate population uniques from the sample's class sizes (see module doc).

    Give the population size, or the sampling fraction (then N = n / f). Class sizes are records
    per equivalence class (weights already applied: a frequency table's class sizes).
    """
    sizes = np.asarray(class_sizes, dtype=np.int64)
    sizes = sizes[sizes > 0]
    n = int(sizes.sum())
    if n == 0:
        raise IplosError("population uniqueness needs a sample with at least one record")
    if (population_size is None) == (sampling_fraction is None):
        raise IplosError("give either the population size or the sampling fraction")
    if sampling_fraction is not None:
        if not 0 < sampling_fraction <= 1:
            raise IplosError(f"the sampling fraction must lie in (0, 1], not {sampling_fraction}")
        population = n / sampling_fraction
    else:
        population = float(population_size)  # type: ignore[arg-type]
        if population < n:
            raise IplosError(f"the population ({population:g}) is smaller than the sample ({n} records)")
    f = n / population
    values, counts = np.unique(sizes, return_counts=True)
    hist = dict(zip(values.tolist(), counts.tolist(), strict=True))
    c1 = hist.get(1, 0)
    if c1 == 0:
        return PopulationUniqueness(population, n, f, 0, 0.0, 0.0, 0.0, 0.0, "none")
    zay = _valid(zayatz(hist, population, n))
    pit = _valid(pitman(hist, population, n))
    snb_value = _valid(snb(hist, f))
    if f <= 0.1:
        model, value = ("pitman", pit) if pit is not None else ("zayatz", zay)
    elif snb_value is not None and zay is not None and zay >= snb_value:
        model, value = "snb", snb_value
    else:
        model, value = "zayatz", zay
    return PopulationUniqueness(population, n, f, c1, pit, zay, snb_value, value or 0.0, model)


def _valid(value: float) -> float | None:
    return None if math.isnan(value) or value == 0 else value


def zayatz(hist: dict[int, int], population: float, n: int) -> float:
    """Zayatz's estimate of population uniques (see module doc)."""
    from scipy import stats

    u = sum(hist.values())
    big_n = round(population)
    total = sum(c / u * float(stats.hypergeom.pmf(1, big_n, s, n)) for s, c in hist.items())
    c1 = hist.get(1, 0)
    if total <= 0:
        return math.nan
    conditional = (c1 / u) * float(stats.hypergeom.pmf(1, big_n, 1, n)) / total
    return c1 * conditional / (n / population)


def pitman_log_likelihood(theta: float, alpha: float, hist: dict[int, int], n: int) -> float:
    """Log-likelihood of Pitman's sampling formula for the class-size histogram (closed form)."""
    from scipy import special

    u = sum(hist.values())
    r = theta / alpha
    first = (u - 1) * math.log(alpha) + special.gammaln(r + u) - special.gammaln(r + 1)
    second = special.gammaln(theta + n) - special.gammaln(theta + 1)
    third = sum(c * (special.gammaln(s - alpha) - special.gammaln(1 - alpha)) for s, c in hist.items())
    return float(first - second + third)


def _pitman_gradient(
    theta: float, alpha: float, hist: dict[int, int], n: int
) -> tuple[np.ndarray, np.ndarray]:
    from scipy import special

    u = sum(hist.values())
    r = theta / alpha
    s1 = (special.digamma(r + u) - special.digamma(r + 1)) / alpha  # sum_{i<u} 1/(theta + i alpha)
    s2 = (special.polygamma(1, r + 1) - special.polygamma(1, r + u)) / alpha**2  # ... squared terms
    sum_i = ((u - 1) - theta * s1) / alpha  # sum_{i<u} i/(theta + i alpha)
    sum_i_sq = (s1 - theta * s2) / alpha  # sum_{i<u} i/(theta + i alpha)^2
    sum_ii_sq = ((u - 1) - 2 * theta * s1 + theta**2 * s2) / alpha**2  # sum i^2/(theta + i alpha)^2
    dig = sum(c * (special.digamma(s - alpha) - special.digamma(1 - alpha)) for s, c in hist.items())
    tri = sum(
        c * (special.polygamma(1, 1 - alpha) - special.polygamma(1, s - alpha)) for s, c in hist.items()
    )
    g = np.array(
        [s1 - (special.digamma(theta + n) - special.digamma(theta + 1)), sum_i - dig], dtype=np.float64
    )
    h_tt = -s2 + (special.polygamma(1, theta + 1) - special.polygamma(1, theta + n))
    h = np.array([[h_tt, -sum_i_sq], [-sum_i_sq, -sum_ii_sq - tri]], dtype=np.float64)
    return g, h


def pitman_parameters(hist: dict[int, int], n: int) -> tuple[float, float]:
    """Maximum-likelihood (theta, alpha) of Pitman's formula; NaN when none is found in the domain."""
    u = sum(hist.values())
    c1 = hist.get(1, 0)
    c2 = hist.get(2, 0) or 1  # ARX: overestimate when there is no class of size two
    c = c1 * (c1 - 1) / c2
    denominator = 2 * c1 * u + c1 * c - n * c
    theta = (n * u * c - c1 * (n - 1) * (2 * u + c)) / denominator if denominator else math.nan
    alpha = (theta * (c1 - n) + (n - 1) * c1) / (n * u)
    if not (0 < alpha < 1 and theta > -alpha and math.isfinite(theta)):
        theta, alpha = 1.0, 0.5
    x = np.array([theta, alpha])
    for _ in range(200):
        g, h = _pitman_gradient(x[0], x[1], hist, n)
        if not np.all(np.isfinite(g)) or not np.all(np.isfinite(h)):
            break
        try:
            step = np.linalg.solve(h, -g)
        except np.linalg.LinAlgError:
            break
        scale = 1.0
        while scale > 1e-8:
            cand = x + scale * step
            if 0 < cand[1] < 1 and cand[0] > -cand[1]:
                break
            scale /= 2
        x = x + scale * step
        if np.all(np.abs(scale * step) <= 1e-12 * np.maximum(1.0, np.abs(x))):
            break
    g, _ = _pitman_gradient(x[0], x[1], hist, n)
    if np.all(np.abs(g) <= 1e-6 * max(1.0, float(u))) and 0 < x[1] < 1 and x[0] > -x[1]:
        return float(x[0]), float(x[1])
    return _pitman_fallback(hist, n)


def _pitman_fallback(hist: dict[int, int], n: int) -> tuple[float, float]:
    """Maximise the log-likelihood directly (theta = -alpha + e^p, alpha = 1/(1+e^-q))."""
    from scipy import optimize

    def negative(v: np.ndarray) -> float:
        alpha = 1.0 / (1.0 + math.exp(-v[1]))
        theta = -alpha + math.exp(v[0])
        value = pitman_log_likelihood(theta, alpha, hist, n)
        return -value if math.isfinite(value) else 1e300

    best = optimize.minimize(
        negative,
        np.array([0.0, 0.0]),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000},
    )
    if not best.success:
        return math.nan, math.nan
    alpha = 1.0 / (1.0 + math.exp(-best.x[1]))
    return -alpha + math.exp(best.x[0]), alpha


def pitman(hist: dict[int, int], population: float, n: int) -> float:
    """Pitman's estimate of population uniques (see module doc); NaN when invalid."""
    from scipy import special

    theta, alpha = pitman_parameters(hist, n)
    if math.isnan(theta) or math.isnan(alpha) or alpha == 0:
        return math.nan
    value = math.exp(
        special.gammaln(theta + 1) - special.gammaln(theta + alpha) + alpha * math.log(population)
    )
    return value if 0 <= value <= population else math.nan


def shlosser(hist: dict[int, int], f: float) -> float:
    """Shlosser's estimate of the number of non-empty population classes (Haas et al. 1995)."""
    u = sum(hist.values())
    c1 = hist.get(1, 0)
    a = sum(s * f * f * (1 - f * f) ** (s - 1) * c for s, c in hist.items())
    b = sum(((1 - f * f) ** s - (1 - f) ** s) * c for s, c in hist.items())  # (1-f)^s ((1+f)^s - 1)
    q = sum((1 - f) ** s * c for s, c in hist.items())
    r = sum(s * f * (1 - f) ** (s - 1) * c for s, c in hist.items())
    if b <= 0 or r <= 0:
        return float(u)
    return u + c1 * (a / b) * (q / r) ** 2


def snb_probabilities(alpha: float, beta: float, f: float) -> tuple[float, float]:
    """P(sample class size 1) and P(size 2) under the SNB model (see module doc)."""
    d = (1 - f) * (1 - beta)
    e = 1 - d
    p1 = f * (beta / e) ** alpha * (1 + alpha * d / e)
    p2 = f * f * alpha * (1 - beta) * beta**alpha * (2 - (1 - alpha) * d) / (2 * e ** (alpha + 2))
    return p1, p2


def snb_parameters(hist: dict[int, int], f: float) -> tuple[float, float, float]:
    """(K, alpha, beta) of the SNB model; alpha and beta NaN when no solution is found."""
    from scipy import optimize

    k = shlosser(hist, f)
    c1, c2 = hist.get(1, 0), hist.get(2, 0)
    if f >= 1 or c1 == 0:
        return k, math.nan, math.nan

    def equations(v: np.ndarray) -> np.ndarray:
        alpha, beta = math.exp(v[0]), 1.0 / (1.0 + math.exp(-v[1]))
        p1, p2 = snb_probabilities(alpha, beta, f)
        return np.array([k * p1 / c1 - 1.0, (k * p2 - c2) / max(c1, 1)])

    for start in ((0.0, 0.0), (-2.0, -2.0), (2.0, 2.0), (-4.0, 0.0), (1.0, -4.0)):
        sol = optimize.root(equations, np.array(start), method="hybr")
        if sol.success and np.all(np.abs(equations(sol.x)) < 1e-9):
            return k, math.exp(sol.x[0]), 1.0 / (1.0 + math.exp(-sol.x[1]))
    return k, math.nan, math.nan


def snb(hist: dict[int, int], f: float) -> float:
    """The SNB estimate of population uniques, K beta^alpha (see module doc); NaN when invalid."""
    k, alpha, beta = snb_parameters(hist, f)
    if math.isnan(alpha) or math.isnan(beta):
        return math.nan
    return float(k * beta**alpha)
