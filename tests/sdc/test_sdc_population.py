"""Population uniqueness models, against figures computed by hand or by plain sums beside each test."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from iplos.errors import IplosError
from iplos.sdc import population_uniqueness
from iplos.sdc._population import pitman, pitman_parameters, shlosser, snb_parameters, zayatz


def test_zayatz_by_hand() -> None:
    # Classes of sizes 1, 1, 2: n = 4 records from N = 10. H(1; N, s, n) = C(s,1) C(N-s, n-1) / C(N, n):
    # H(1; 10, 1, 4) = 84/210 = 0.4, H(1; 10, 2, 4) = 2 * 56/210 = 0.5333...
    h1 = math.comb(1, 1) * math.comb(9, 3) / math.comb(10, 4)
    h2 = math.comb(2, 1) * math.comb(8, 3) / math.comb(10, 4)
    conditional = (2 / 3 * h1) / (2 / 3 * h1 + 1 / 3 * h2)  # = 0.6
    assert conditional == pytest.approx(0.6)
    expected = 2 * conditional / (4 / 10)  # = 3.0 population uniques
    assert zayatz({1: 2, 2: 1}, 10, 4) == pytest.approx(expected) == pytest.approx(3.0)


def _plain_log_likelihood(theta: float, alpha: float, sizes: list[int]) -> float:
    """Pitman's sampling formula, term by term (Hoshino 2001, eq. 2, without the constant)."""
    u, n = len(sizes), sum(sizes)
    value = sum(math.log(theta + i * alpha) for i in range(1, u))
    value -= sum(math.log(theta + i) for i in range(1, n))
    value += sum(math.log(j - alpha) for s in sizes for j in range(1, s))
    return value


SAMPLE = [1] * 30 + [2] * 9 + [3] * 4 + [5] * 2 + [9]


def test_pitman_is_the_maximum_likelihood_estimate() -> None:
    hist = {s: SAMPLE.count(s) for s in set(SAMPLE)}
    n = sum(SAMPLE)
    theta, alpha = pitman_parameters(hist, n)

    def negative(v: np.ndarray) -> float:
        a, t = v[1], v[0]
        if not (0 < a < 1 and t > -a):
            return 1e300
        return -_plain_log_likelihood(t, a, SAMPLE)

    best = optimize.minimize(
        negative, np.array([5.0, 0.5]), method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12}
    )
    assert theta == pytest.approx(best.x[0], rel=1e-4)
    assert alpha == pytest.approx(best.x[1], rel=1e-4)
    population = 10_000
    expected = math.gamma(theta + 1) / math.gamma(theta + alpha) * population**alpha
    assert pitman(hist, population, n) == pytest.approx(expected, rel=1e-9)


def test_snb_solves_its_equations_by_plain_series() -> None:
    hist = {s: SAMPLE.count(s) for s in set(SAMPLE)}
    f = 0.3
    k, alpha, beta = snb_parameters(hist, f)
    # Shlosser's K, term by term (Haas et al. 1995).
    a = sum(s * f**2 * (1 - f**2) ** (s - 1) * c for s, c in hist.items())
    b = sum((1 - f) ** s * ((1 + f) ** s - 1) * c for s, c in hist.items())
    q = sum((1 - f) ** s * c for s, c in hist.items())
    r = sum(s * f * (1 - f) ** (s - 1) * c for s, c in hist.items())
    assert k == pytest.approx(len(SAMPLE) + hist[1] * (a / b) * (q / r) ** 2)
    assert shlosser(hist, f) == pytest.approx(k)
    # P(sample size j) = sum over population sizes F = 1 + NB(alpha, beta) of Binomial(F, f) at j.
    sizes = np.arange(1, 20_000)
    weights = stats.nbinom.pmf(sizes - 1, alpha, beta)
    p1 = float((weights * stats.binom.pmf(1, sizes, f)).sum())
    p2 = float((weights * stats.binom.pmf(2, sizes, f)).sum())
    assert k * p1 == pytest.approx(hist[1], rel=1e-6)
    assert k * p2 == pytest.approx(hist[2], rel=1e-6)
    result = population_uniqueness(SAMPLE, sampling_fraction=f)
    assert result.snb == pytest.approx(k * beta**alpha)  # P(F = 1) = beta^alpha


def test_dankar_rule_picks_the_model_by_sampling_fraction() -> None:
    small = population_uniqueness(SAMPLE, sampling_fraction=0.05)
    assert small.dankar_model == "pitman" and small.dankar == small.pitman
    large = population_uniqueness(SAMPLE, sampling_fraction=0.3)
    assert large.zayatz is not None and large.snb is not None
    assert large.dankar == min(large.zayatz, large.snb)
    assert large.dankar_model == ("zayatz" if large.zayatz < large.snb else "snb")
    assert large.dankar_share == pytest.approx(large.dankar / (sum(SAMPLE) / 0.3))


def test_no_sample_uniques_means_no_population_uniques() -> None:
    result = population_uniqueness([2, 3, 5], population_size=1000)
    assert result.dankar == 0 and result.dankar_model == "none" and result.sample_uniques == 0


def test_estimates_are_near_the_truth_on_a_simulated_population() -> None:
    rng = np.random.default_rng(1)
    cells = rng.zipf(1.3, 200_000) % 500_000
    _, population_counts = np.unique(cells, return_counts=True)
    truth = int((population_counts == 1).sum())
    for fraction in (0.05, 0.2, 0.5):
        _, sample_sizes = np.unique(cells[rng.random(cells.shape[0]) < fraction], return_counts=True)
        result = population_uniqueness(sample_sizes, population_size=cells.shape[0])
        assert result.dankar == pytest.approx(truth, rel=0.15), fraction


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(IplosError, match="either"):
        population_uniqueness([1, 2])
    with pytest.raises(IplosError, match="either"):
        population_uniqueness([1, 2], population_size=10, sampling_fraction=0.5)
    with pytest.raises(IplosError, match="smaller than the sample"):
        population_uniqueness([1, 2], population_size=2)
    with pytest.raises(IplosError, match="sampling fraction"):
        population_uniqueness([1, 2], sampling_fraction=1.5)
    with pytest.raises(IplosError, match="at least one record"):
        population_uniqueness([], population_size=10)
