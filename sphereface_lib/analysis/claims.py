"""The paper's claims and the rule that turns a build's numbers into a verdict.

The book's "Claims" page lists what Liu et al. (CVPR 2017) claim, what this book ran to test
each claim, the numbers of the build, and a verdict. The verdict is never typed in: it comes
from the numbers by one stated rule, so the smoke book and the full book each say what they
found.

The rule, for a claim that one setting beats another ("A-Softmax is more accurate than the
original softmax"): over the seeds, the difference of the means ``d`` and its standard error
``se`` (Welch: ``sqrt(s_a^2 / n_a + s_b^2 / n_b)``, sample variances). The claim is

- **reproduced** when ``d > 2 se`` in the claimed direction and the claim is qualitative (a
  direction, a property);
- **reproduced in trend** when ``d > 2 se`` in the claimed direction but the paper's numbers
  themselves are out of this book's reach (far smaller data and networks);
- **not reproduced** when ``d <= 2 se`` (no evidence either way at this number of seeds) or
  the difference has the other sign;
- for a claim that a change costs nothing ("unit weights cost no accuracy"), **reproduced**
  (in trend) unless the change is worse by more than ``2 se``, and **not reproduced** when it is;
- **not attempted** when the book has no experiment for it (the reason is stated).

Derivations that the build checks symbolically or exactly (a failing check fails the build)
are reproduced by construction.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

REPRODUCED = "reproduced"
IN_TREND = "reproduced in trend"
NOT_REPRODUCED = "not reproduced"
NOT_ATTEMPTED = "not attempted"
VERDICTS = (REPRODUCED, IN_TREND, NOT_REPRODUCED, NOT_ATTEMPTED)

# How many standard errors a difference must exceed to count as evidence.
STANDARD_ERRORS = 2.0


@dataclass(frozen=True)
class Difference:
    """Mean of ``better`` minus mean of ``worse`` over seeds, with its standard error."""

    difference: float
    standard_error: float
    seeds: tuple[int, int]  # how many values on each side

    @property
    def z(self) -> float:
        """The difference in standard errors (inf when the seeds agree exactly)."""
        if self.standard_error == 0:
            return math.copysign(math.inf, self.difference) if self.difference else 0.0
        return self.difference / self.standard_error

    def clears(self, threshold: float = STANDARD_ERRORS) -> bool:
        """True when the difference is positive and larger than ``threshold`` standard errors."""
        return self.difference > 0 and (
            math.isfinite(self.standard_error) and self.difference > threshold * self.standard_error
        )


def difference(better: Sequence[float], worse: Sequence[float]) -> Difference:
    """The Welch comparison of two sets of per-seed values (at least two values each)."""
    if len(better) < 2 or len(worse) < 2:
        raise ValueError(
            f"a verdict needs at least two seeds on each side, got {len(better)} and "
            f"{len(worse)}; train more seeds"
        )
    variance = statistics.variance(better) / len(better) + statistics.variance(worse) / len(worse)
    return Difference(
        difference=statistics.fmean(better) - statistics.fmean(worse),
        standard_error=math.sqrt(variance),
        seeds=(len(better), len(worse)),
    )


def comparison_verdict(
    better: Sequence[float], worse: Sequence[float], quantitative: bool = False
) -> str:
    """The verdict on "``better`` beats ``worse``" (per-seed values, higher is better).

    ``quantitative``: the paper states numbers this book cannot reach, so a reproduced
    direction is "reproduced in trend".
    """
    if not difference(better, worse).clears():
        return NOT_REPRODUCED
    return IN_TREND if quantitative else REPRODUCED


def no_cost_verdict(
    changed: Sequence[float], baseline: Sequence[float], quantitative: bool = False
) -> str:
    """The verdict on "the change costs nothing" (``changed`` is no worse than ``baseline``).

    Reproduced (in trend, when ``quantitative``) unless ``baseline`` beats ``changed`` by more
    than two standard errors: with a few seeds this says that no cost was detected, which is
    what such a claim can be tested for.
    """
    if difference(baseline, changed).clears():
        return NOT_REPRODUCED
    return IN_TREND if quantitative else REPRODUCED


def rising_verdict(values_by_setting: Sequence[Sequence[float]], quantitative: bool = True) -> str:
    """The verdict on "the value rises along ``values_by_setting``" (e.g. accuracy with m).

    Reproduced (in trend) when the last setting beats the first by more than two standard
    errors and the means never fall by more than two standard errors from one setting to the
    next; otherwise not reproduced.
    """
    if len(values_by_setting) < 2:
        raise ValueError("a trend needs at least two settings")
    first, last = values_by_setting[0], values_by_setting[-1]
    if not difference(last, first).clears():
        return NOT_REPRODUCED
    for lower, higher in zip(values_by_setting, values_by_setting[1:], strict=False):
        if difference(lower, higher).clears():  # a clear fall from one setting to the next
            return NOT_REPRODUCED
    return IN_TREND if quantitative else REPRODUCED


def describe(result: Difference, unit: str = " points", scale: float = 100.0) -> str:
    """ "+1.23 points (2.9 standard errors, 3 vs 3 seeds)" for a :class:`Difference`."""
    z = result.z
    z_text = "∞" if math.isinf(z) else f"{z:.1f}"
    return (
        f"{scale * result.difference:+.2f}{unit} ({z_text} standard errors, "
        f"{result.seeds[0]} vs {result.seeds[1]} seeds)"
    )


@dataclass(frozen=True)
class Claim:
    """One claim of the paper, what the book ran for it, and the build's verdict."""

    name: str  # a short title, for the summary table
    statement: str  # the paper's claim; quotations marked as such
    source: str  # section, equation, table or figure of arXiv:1704.08063v4
    experiment: str  # what this book ran (or why nothing)
    evidence: str  # the numbers of this build
    verdict: str
    where: str  # a MyST link to where the book shows it

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
