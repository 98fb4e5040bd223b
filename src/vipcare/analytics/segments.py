"""Labels for members from their features: RFM, pyramid, lifecycle, matrix, value curve, strategy,
falling off. Pure and vectorised (numpy arrays in, arrays out); thresholds in `SegmentRules`.

Codes are stored in English; the screens show the Chinese names (choices.py).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats


@dataclasses.dataclass(frozen=True)
class SegmentRules:
    """Every threshold of the labels. Override with settings.VIPCARE_ANALYTICS = {name: value}."""

    # Pyramid: shares of spenders (by trailing-12-month spend) in A, B, C; the rest is D.
    pyramid_a: float = 0.01
    pyramid_b: float = 0.04
    pyramid_c: float = 0.15
    # Lifecycle, in days.
    new_days: int = 90  # first purchase (or enrolment without purchase) at most this long ago
    at_risk_days: int = 180  # no purchase for longer: at risk
    dormant_days: int = 365  # longer: dormant (休眠)
    churned_days: int = 730  # longer: churned
    # Customer matrix: loyalty is high when the frequency score, the tenure and P(active) all are.
    loyal_f_score: int = 4
    loyal_tenure_days: int = 180
    loyal_p_alive: float = 0.5
    high_value_m_score: int = 4  # total spend score for "high value"
    # Value curve: current = 12-month spend score, potential = CLV score.
    high_current_score: int = 4
    high_potential_score: int = 4
    # Falling off: regulars whose recent visits or spend dropped below their own usual.
    falling_window_days: int = 90
    falling_min_visits: int = 4  # visit days before the window to count as a regular
    falling_min_history_days: int = 180  # history before the window
    falling_min_usual_visits: float = 1.0  # a regular usually comes at least this often per window
    falling_surprise: float = 0.05  # so few visits would happen by chance less often than this
    falling_spend_ratio: float = 0.25  # or: fewer visits than usual and spend below this share of usual
    # Lifetime value.
    clv_months: int = 12
    clv_monthly_discount: float = 0.01

    @classmethod
    def from_settings(cls) -> SegmentRules:
        from django.conf import settings

        overrides = getattr(settings, "VIPCARE_ANALYTICS", {}) or {}
        unknown = set(overrides) - {field.name for field in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown VIPCARE_ANALYTICS settings: {sorted(unknown)}")
        return cls(**overrides)


def quintile_scores(values: np.ndarray, *, higher_is_better: bool = True) -> np.ndarray:
    """Scores 1–5 by rank among the given values (ties share the lower rank, so equal values
    always get equal scores). Empty in, empty out."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return np.zeros(0, dtype=np.int8)
    values = values if higher_is_better else -values
    ranks = _min_ranks(values)
    return (1 + (5 * (ranks - 1)) // values.size).astype(np.int8)


def _min_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing the lowest (scipy's rankdata method "min"). Whole numbers in a
    small range (days, visit counts) are ranked by counting, in linear time instead of a sort."""
    low, high = values.min(), values.max()
    if high - low < (1 << 22) and np.array_equal(values, np.floor(values)):
        offsets = (values - low).astype(np.intp)
        counts = np.bincount(offsets)
        below = np.cumsum(counts) - counts  # how many values are smaller
        return below[offsets] + 1
    # scipy's rankdata sorts stably (mergesort); ties share the lowest rank anyway, so any sort does.
    order = np.argsort(values)
    ordered = values[order]
    first = np.ones(values.size, dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(values.size), 0))
    ranks = np.empty(values.size, dtype=np.int64)
    ranks[order] = start + 1
    return ranks


def rfm_scores(*, recency_days, visit_days, spend_fen) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R, F, M quintile scores among buyers (visit_days > 0); members who never bought get 0s."""
    recency_days, visit_days, spend_fen = (np.asarray(a) for a in (recency_days, visit_days, spend_fen))
    buyers = visit_days > 0
    scores = [np.zeros(visit_days.size, dtype=np.int8) for _ in range(3)]
    scores[0][buyers] = quintile_scores(recency_days[buyers], higher_is_better=False)
    scores[1][buyers] = quintile_scores(visit_days[buyers])
    scores[2][buyers] = quintile_scores(spend_fen[buyers])
    return scores[0], scores[1], scores[2]


def pyramid_levels(spend_12m_fen, member_ids, rules: SegmentRules) -> np.ndarray:
    """A platinum / B gold / C iron by rank of 12-month spend among members who spent; D the rest."""
    spend = np.asarray(spend_12m_fen)
    member_ids = np.asarray(member_ids)
    levels = np.full(spend.size, "D", dtype="<U1")
    spenders = np.flatnonzero(spend > 0)
    if spenders.size == 0:
        return levels
    # Highest spend first; ties by member id so that the cut is the same on every run.
    order = spenders[np.lexsort((member_ids[spenders], -spend[spenders]))]
    n = spenders.size
    cuts = np.ceil(np.cumsum([rules.pyramid_a, rules.pyramid_b, rules.pyramid_c]) * n - 1e-9).astype(int)
    levels[order[: cuts[0]]] = "A"
    levels[order[cuts[0]: cuts[1]]] = "B"
    levels[order[cuts[1]: cuts[2]]] = "C"
    return levels


def lifecycle_stages(*, recency_days, first_purchase_days_ago, enrolled_days_ago, visit_days,
                     rules: SegmentRules) -> np.ndarray:
    """new / active / at_risk / dormant / churned by days since the last purchase (or since
    enrolment for members who never bought)."""
    recency = np.asarray(recency_days, dtype=float)
    first = np.asarray(first_purchase_days_ago, dtype=float)
    enrolled = np.asarray(enrolled_days_ago, dtype=float)
    bought = np.asarray(visit_days) > 0
    idle = np.where(bought, recency, enrolled)
    since_start = np.where(bought, first, enrolled)
    stage = np.select(
        [idle > rules.churned_days, idle > rules.dormant_days, idle > rules.at_risk_days,
         since_start <= rules.new_days],
        ["churned", "dormant", "at_risk", "new"],
        default="active",
    )
    # A member enrolled recently who has not bought yet is new, not at risk.
    return np.where(~bought & (enrolled <= rules.new_days), "new", stage).astype("<U8")


def customer_matrix(*, f_score, m_score, tenure_days, p_alive, rules: SegmentRules) -> np.ndarray:
    """Loyalty × total value: confidant 知己 (high, high), barnacle 藤壶 (loyal, low value),
    butterfly 蝴蝶 (not loyal, high value), passerby 过客 (low, low)."""
    loyal = (np.asarray(f_score) >= rules.loyal_f_score) & (np.asarray(tenure_days) >= rules.loyal_tenure_days) \
        & (np.asarray(p_alive) >= rules.loyal_p_alive)
    valuable = np.asarray(m_score) >= rules.high_value_m_score
    return np.select([loyal & valuable, loyal, valuable], ["confidant", "barnacle", "butterfly"],
                     default="passerby").astype("<U9")


def value_curve(*, current_score, potential_score, rules: SegmentRules) -> np.ndarray:
    """Current × potential value: star 明星, cash_cow 现金, question 问题, dog 瘦狗."""
    current = np.asarray(current_score) >= rules.high_current_score
    potential = np.asarray(potential_score) >= rules.high_potential_score
    return np.select([current & potential, current, potential], ["star", "cash_cow", "question"],
                     default="dog").astype("<U8")


MATRIX_STRATEGY = {"confidant": "deep_care", "butterfly": "deep_acquisition", "barnacle": "deep_mining",
                   "passerby": "long_term"}
VALUE_CURVE_STRATEGY = {"star": "deep_care", "question": "deep_acquisition", "cash_cow": "deep_mining",
                        "dog": "long_term"}


def strategies(matrix: np.ndarray) -> np.ndarray:
    """The maintenance strategy follows the customer matrix (the value curve maps to the same four)."""
    matrix = np.asarray(matrix)
    return np.select([matrix == cell for cell in MATRIX_STRATEGY], list(MATRIX_STRATEGY.values()),
                     default="").astype("<U16")


def falling_off(*, visits_recent, visits_before, spend_recent_fen, spend_before_fen, history_days,
                rules: SegmentRules) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Regulars whose visits in the last window fell well below their own usual rate over the
    history before the window, or who came less often and spent far less.

    Returns (flag, usual visits per window, usual spend per window).
    """
    visits_recent = np.asarray(visits_recent, dtype=float)
    visits_before = np.asarray(visits_before, dtype=float)
    history = np.asarray(history_days, dtype=float)
    windows = np.where(history > 0, history / rules.falling_window_days, np.inf)
    usual_visits = visits_before / windows
    usual_spend = np.asarray(spend_before_fen, dtype=float) / windows
    regular = (visits_before >= rules.falling_min_visits) & (history >= rules.falling_min_history_days) & (
        usual_visits >= rules.falling_min_usual_visits)
    # Fewer visits than chance allows (Poisson at the member's own rate: 0 visits against a usual
    # 1 happens a third of the time, against a usual 4 only 2 %), or some but fewer visits than
    # usual and spend far below it. Spend alone is too lumpy (one coat can be a season's spend).
    surprising = stats.poisson.cdf(visits_recent, usual_visits) < rules.falling_surprise
    dropped = surprising | ((visits_recent >= 1) & (visits_recent < usual_visits) & (
        np.asarray(spend_recent_fen, dtype=float) < rules.falling_spend_ratio * usual_spend))
    return regular & dropped, usual_visits, usual_spend
