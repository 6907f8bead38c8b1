import math

import numpy as np
import pytest
from scipy import optimize

from zeroforge.play.ratings import (
    PairResult,
    Sprt,
    elo_from_score,
    fit_elo,
    llr_logistic,
    score_from_elo,
    wilson_interval,
)


def test_elo_and_score():
    assert elo_from_score(0.75) == pytest.approx(400 * math.log10(3))  # 190.85
    assert elo_from_score(0.5) == 0
    assert elo_from_score(1.0) is None and elo_from_score(0.0) is None
    assert score_from_elo(400) == pytest.approx(10 / 11)
    for elo in (-300, -35, 0, 12.5, 800):
        assert elo_from_score(score_from_elo(elo)) == pytest.approx(elo)


def test_wilson_interval_known_values():
    # 8 successes in 10: Wilson 95 % interval 0.4902 - 0.9433 (textbook value)
    low, high = wilson_interval(0.8, 10)
    assert (low, high) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert wilson_interval(0.0, 10)[0] == 0.0 and wilson_interval(1.0, 10)[1] == 1.0
    pair = PairResult(wins=10, losses=0)
    assert pair.elo() is None and pair.elo_interval()[1] is None
    assert pair.elo_interval()[0] == pytest.approx(elo_from_score(wilson_interval(1.0, 10)[0]))


def test_sprt_bounds_as_fishtest_prints_them():
    assert Sprt(0, 5, 0.05, 0.05).bounds == pytest.approx((-2.944, 2.944), abs=1e-3)
    assert Sprt(0, 5, 0.05, 0.10).bounds == pytest.approx((-2.251, 2.890), abs=1e-3)
    with pytest.raises(ValueError):
        Sprt(5, 0)


def test_llr_of_pure_win_loss_is_the_binomial_likelihood_ratio():
    wins, losses = 60, 40
    s0, s1 = score_from_elo(0), score_from_elo(35)
    exact = wins * math.log(s1 / s0) + losses * math.log((1 - s1) / (1 - s0))
    # fishtest puts 1e-3 into the empty draw class: the value moves by ~1e-5
    assert llr_logistic(0, 35, [losses, 0, wins]) == pytest.approx(exact, abs=1e-4)


def _llr_by_constrained_optimisation(elo0, elo1, counts):
    """The same definition solved independently: maximise sum n_i log p_i subject to
    sum p_i = 1 and sum p_i a_i = s, for s0 and s1."""
    counts = np.asarray(counts, dtype=float)
    values = np.arange(len(counts)) / (len(counts) - 1)

    def best(s):
        constraints = [
            {"type": "eq", "fun": lambda p: p.sum() - 1},
            {"type": "eq", "fun": lambda p: p @ values - s},
        ]
        fit = optimize.minimize(
            lambda p: -counts @ np.log(p),
            counts / counts.sum(),
            method="SLSQP",
            bounds=[(1e-12, 1)] * len(counts),
            constraints=constraints,
            options={"ftol": 1e-14},
        )
        return -fit.fun

    return best(score_from_elo(elo1)) - best(score_from_elo(elo0))


@pytest.mark.parametrize(
    ("elo0", "elo1", "counts"),
    [
        (0, 5, [1200, 2300, 1300]),
        (-5, 10, [40, 5, 55]),
        (0, 10, [10, 20, 40, 20, 10]),
        (0, 20, [2, 8, 20, 30, 40]),
    ],
)
def test_llr_matches_an_independent_solution(elo0, elo1, counts):
    assert llr_logistic(elo0, elo1, counts) == pytest.approx(
        _llr_by_constrained_optimisation(elo0, elo1, counts), abs=1e-4
    )


def test_sprt_decisions():
    sprt = Sprt(0, 100, 0.05, 0.05)
    assert sprt.state([0, 0, 0])["decision"] is None
    assert sprt.state([0, 0, 30])["decision"] == "H1"
    assert sprt.state([30, 0, 0])["decision"] == "H0"
    assert sprt.state([5, 0, 5])["decision"] is None


def test_bradley_terry_fit():
    games = [("a", "b", 1.0)] * 30 + [("a", "b", 0.0)] * 10 + [("b", "c", 0.5)] * 40
    ratings = fit_elo(["a", "b", "c"], games, prior_draws=0)
    assert ratings["a"] == (0.0, None)
    assert ratings["b"][0] == pytest.approx(elo_from_score(0.25), abs=0.5)
    assert ratings["c"][0] == pytest.approx(ratings["b"][0], abs=0.5)
    # standard error of a 40-game binomial at p = 0.75, in Elo
    slope = 400 / math.log(10) / (0.75 * 0.25)
    assert ratings["b"][1] == pytest.approx(slope * math.sqrt(0.75 * 0.25 / 40), rel=1e-3)
    perfect = fit_elo(["a", "b"], [("a", "b", 1.0)] * 5)
    assert math.isfinite(perfect["b"][0]) and perfect["b"][0] < -100
