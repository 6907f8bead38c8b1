"""Rating arithmetic for matches: win rate and Elo difference with 95 % intervals, the
logistic-Elo SPRT as fishtest runs it, and a Bradley-Terry (Elo) fit for several players.

Elo here is logistic Elo: expected score s = 1 / (1 + 10^(-elo / 400)).

Win rate interval: Wilson's score interval on the score (a draw counts half), which stays
inside [0, 1] and is sensible at 0/N and N/N where the normal approximation collapses. The Elo
interval is the image of that interval (infinite at a perfect score, reported as None).

SPRT: fishtest's generalized sequential probability ratio test. Results are counted in `k`
outcome classes with scores 0, 1/(k-1), ..., 1 (trinomial: losses, draws, wins; pentanomial:
game pairs scoring 0, 1/2, 1, 3/2, 2, scaled to [0, 1]). Empty classes get a count of 1e-3 (its
regularisation). The log-likelihood ratio of H1 (score s1 = L(elo1)) against H0 (s0 = L(elo0))
is N * sum_i p_i log(p1_i / p0_i), where p_i are the observed frequencies and pX the maximum
likelihood distribution with mean sX, found from the secular equation
sum_i p_i (a_i - s) / (1 + x (a_i - s)) = 0 (p_i / (1 + x (a_i - s)) is then that distribution;
"support_MLE_multinomial.pdf" of the fishtest papers). The test stops for H1 when the LLR
reaches log((1 - beta) / alpha), for H0 at log(beta / (1 - alpha)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize

Z95 = 1.959963984540054  # two-sided 95 % normal quantile
REGULARIZE = 1e-3  # fishtest's count for an empty outcome class
ELO_PER_NAT = 400 / math.log(10)  # logistic Elo of one natural-log unit of odds


def score_from_elo(elo: float) -> float:
    return 1.0 / (1.0 + 10.0 ** (-elo / 400.0))


def elo_from_score(score: float) -> float | None:
    """Logistic Elo of an expected score; None at 0 or 1 (infinite)."""
    if score <= 0.0 or score >= 1.0:
        return None
    return -400.0 * math.log10(1.0 / score - 1.0)


def wilson_interval(score: float, games: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion `score` observed over `games` trials."""
    if games <= 0:
        return 0.0, 1.0
    centre = (score + z * z / (2 * games)) / (1 + z * z / games)
    half = (
        z
        / (1 + z * z / games)
        * math.sqrt(score * (1 - score) / games + z * z / (4 * games * games))
    )
    low = 0.0 if score <= 0.0 else max(0.0, centre - half)  # exact ends, not 1 - 1e-16
    high = 1.0 if score >= 1.0 else min(1.0, centre + half)
    return low, high


@dataclass
class PairResult:
    """Games of player A against player B, from A's side."""

    wins: int = 0
    draws: int = 0
    losses: int = 0

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def score(self) -> float | None:
        return (self.wins + 0.5 * self.draws) / self.games if self.games else None

    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.score or 0.0, self.games)

    def elo(self) -> float | None:
        return None if self.score is None else elo_from_score(self.score)

    def elo_interval(self) -> tuple[float | None, float | None]:
        low, high = self.interval()
        return elo_from_score(low), elo_from_score(high)

    def trinomial(self) -> list[int]:
        return [self.losses, self.draws, self.wins]


def _secular_root(shifted: np.ndarray, probs: np.ndarray) -> float:
    """x with sum p_i a_i / (1 + x a_i) = 0, between the poles (a's of both signs)."""
    low, high = -1.0 / shifted.max(), -1.0 / shifted.min()
    eps = 1e-9
    return optimize.brentq(
        lambda x: np.sum(probs * shifted / (1 + x * shifted)), low + eps, high - eps
    )


def _mle_with_mean(values: np.ndarray, probs: np.ndarray, mean: float) -> np.ndarray:
    shifted = values - mean
    x = _secular_root(shifted, probs)
    return probs / (1 + x * shifted)


def llr_logistic(elo0: float, elo1: float, counts: Sequence[float]) -> float:
    """fishtest's generalized LLR of H1 (elo1) against H0 (elo0) for outcome counts
    ordered from worst to best (3 for L/D/W, 5 for game pairs)."""
    regular = np.array([c if c > 0 else REGULARIZE for c in counts], dtype=float)
    total = regular.sum()
    probs = regular / total
    values = np.arange(len(counts)) / (len(counts) - 1)
    s0, s1 = score_from_elo(elo0), score_from_elo(elo1)
    p0 = _mle_with_mean(values, probs, s0)
    p1 = _mle_with_mean(values, probs, s1)
    return float(total * np.sum(probs * (np.log(p1) - np.log(p0))))


@dataclass(frozen=True)
class Sprt:
    elo0: float = 0.0
    elo1: float = 35.0
    alpha: float = 0.05
    beta: float = 0.05

    def __post_init__(self):
        if not self.elo0 < self.elo1:
            raise ValueError(f"SPRT needs elo0 < elo1, got {self.elo0}, {self.elo1}")
        if not (0 < self.alpha < 1 and 0 < self.beta < 1):
            raise ValueError(f"SPRT alpha and beta must be in (0, 1): {self.alpha}, {self.beta}")

    @property
    def bounds(self) -> tuple[float, float]:
        return math.log(self.beta / (1 - self.alpha)), math.log((1 - self.beta) / self.alpha)

    def state(self, counts: Sequence[float]) -> dict:
        """LLR, bounds and the decision (`H1` accepted, `H0` accepted, or None: go on)."""
        lower, upper = self.bounds
        llr = llr_logistic(self.elo0, self.elo1, counts) if sum(counts) else 0.0
        decision = "H1" if llr >= upper else "H0" if llr <= lower else None
        return {
            "elo0": self.elo0,
            "elo1": self.elo1,
            "alpha": self.alpha,
            "beta": self.beta,
            "llr": llr,
            "lower": lower,
            "upper": upper,
            "decision": decision,
        }


def fit_elo(
    players: Sequence[str], games: Sequence[tuple[str, str, float]], prior_draws: float = 1.0
) -> dict[str, tuple[float, float | None]]:
    """Bradley-Terry ratings in logistic Elo from (player, opponent, score of player) games.

    The first player is the anchor at 0. Each pair that met gets `prior_draws` virtual draws
    (as BayesElo does) so a perfect score still gives a finite rating. Returns
    name -> (elo, standard error from the inverse Fisher information; None for the anchor).
    """
    index = {name: i for i, name in enumerate(players)}
    pairs: dict[tuple[int, int], list[float]] = {}
    for a, b, score in games:
        i, j = sorted((index[a], index[b]))
        won = score if index[a] == i else 1.0 - score
        tally = pairs.setdefault((i, j), [prior_draws * 0.5, prior_draws])
        tally[0] += won
        tally[1] += 1
    edges = np.array(list(pairs), dtype=int).reshape(-1, 2)
    tallies = np.array(list(pairs.values()), dtype=float).reshape(-1, 2)
    n = len(players)

    def full(free: np.ndarray) -> np.ndarray:
        return np.concatenate([[0.0], free])

    def negative_log_likelihood(free: np.ndarray) -> float:
        r = full(free) / ELO_PER_NAT
        d = r[edges[:, 0]] - r[edges[:, 1]]
        wins, count = tallies[:, 0], tallies[:, 1]
        return float(np.sum(count * np.logaddexp(0, -d) + (count - wins) * d))

    fitted = optimize.minimize(negative_log_likelihood, np.zeros(n - 1), method="BFGS").x
    ratings = full(fitted)
    info = np.zeros((n, n))
    for (i, j), (_, count) in zip(edges, tallies, strict=True):
        p = score_from_elo(ratings[i] - ratings[j])
        weight = count * p * (1 - p) / ELO_PER_NAT**2
        info[i, i] += weight
        info[j, j] += weight
        info[i, j] -= weight
        info[j, i] -= weight
    errors: list[float | None] = [None] * n
    try:
        cov = np.linalg.inv(info[1:, 1:])
        errors[1:] = [float(math.sqrt(v)) for v in np.diag(cov)]
    except np.linalg.LinAlgError:  # a player with no games against the anchor's group
        pass
    return {name: (float(ratings[i]), errors[i]) for name, i in index.items()}
