"""From per-member features to scores and labels: fits the models and applies the rules.

Pure numpy: the same code follows both engines, so their results can only differ if their
features do.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pyarrow as pa

from vipcare.analytics import clv, segments
from vipcare.analytics.segments import SegmentRules

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Results:
    columns: dict[str, np.ndarray]  # one array per MemberAnalytics field, aligned with member_ids
    parameters: dict

    @property
    def size(self) -> int:
        return len(self.columns["member_id"])


def _fen(values: np.ndarray) -> np.ndarray:
    return np.rint(values).astype(np.int64)


def member_results(features: pa.Table, *, member_ids: np.ndarray, enrolled_day: np.ndarray, as_of_day: int,
                   rules: SegmentRules) -> Results:
    n = member_ids.size
    # Align the buyers' features with the member list (members who never bought get zeros).
    feature_ids = features.column("member_id").to_numpy()
    position = np.searchsorted(member_ids, feature_ids)
    known = (position < n) & (member_ids[np.minimum(position, n - 1)] == feature_ids) if n else position < 0
    f = {}
    for name in features.column_names:
        column = np.zeros(n, dtype=np.int64)
        column[position[known]] = features.column(name).to_numpy()[known]
        f[name] = column
    bought = f["visit_days"] > 0

    recency = np.where(bought, as_of_day - f["last_day"], -1)
    tenure = np.where(bought, as_of_day - f["first_day"], -1)
    enrolled_days = np.maximum(as_of_day - enrolled_day, 0)
    x = np.maximum(f["visit_days"] - 1, 0).astype(float)
    t_x = (f["last_day"] - f["first_day"]).astype(float)
    T = tenure.astype(float)

    parameters: dict = {}
    p_alive = np.full(n, np.nan)
    expected_90 = np.full(n, np.nan)
    expected_365 = np.full(n, np.nan)
    expected_spend = np.full(n, np.nan)
    lifetime_value = np.full(n, np.nan)
    fit_rows = bought & (T > 0)
    try:
        bgnbd = clv.bgnbd_fit(x[fit_rows], t_x[fit_rows], T[fit_rows])
        parameters["bgnbd"] = bgnbd.as_dict() | {"members": int(fit_rows.sum())}
        p_alive[bought] = clv.bgnbd_p_alive(bgnbd, x[bought], t_x[bought], T[bought])
        expected_90[bought], expected_365[bought] = clv.bgnbd_expected_purchases_many(
            bgnbd, [90, 365], x[bought], t_x[bought], T[bought])
        p_alive[~bought] = 0.0  # no purchase yet: nothing to be active in
        expected_90[~bought] = expected_365[~bought] = 0.0
        repeat = bought & (x > 0) & (f["repeat_spend_fen"] > 0)
        mean_repeat = np.where(repeat, f["repeat_spend_fen"] / np.maximum(x, 1), 0.0)
        gamma_gamma = clv.gamma_gamma_fit(x[repeat], mean_repeat[repeat])
        parameters["gamma_gamma"] = gamma_gamma.as_dict() | {"members": int(repeat.sum())}
        # One-time buyers have no repeat spend: the model gives them the population mean.
        expected_spend[bought] = clv.gamma_gamma_expected_spend(gamma_gamma, x[bought], mean_repeat[bought])
        lifetime_value[bought] = clv.customer_lifetime_value(
            bgnbd, x[bought], t_x[bought], T[bought], expected_spend[bought],
            months=rules.clv_months, monthly_discount=rules.clv_monthly_discount)
        expected_spend[~bought] = lifetime_value[~bought] = 0.0
    except clv.FitError as exc:
        # Too little history (a new deployment): labels without the future-value models.
        logger.warning("analytics: models not fitted: %s", exc)
        parameters["error"] = str(exc)

    rfm_r, rfm_f, rfm_m = segments.rfm_scores(recency_days=recency, visit_days=f["visit_days"],
                                              spend_fen=f["spend_fen"])
    current = np.zeros(n, dtype=np.int8)
    potential = np.zeros(n, dtype=np.int8)
    current[bought] = segments.quintile_scores(f["spend_12m_fen"][bought])
    if not np.isnan(lifetime_value).all():
        potential[bought] = segments.quintile_scores(lifetime_value[bought])
    history = np.where(bought, as_of_day - rules.falling_window_days - f["first_day"] + 1, 0)
    falling, usual_visits, usual_spend = segments.falling_off(
        visits_recent=f["visits_recent"], visits_before=f["visit_days"] - f["visits_recent"],
        spend_recent_fen=f["spend_recent_fen"], spend_before_fen=f["spend_fen"] - f["spend_recent_fen"],
        history_days=history, rules=rules)
    # Members already dormant or churned have fallen off: win-back, not this early signal, is for them.
    falling &= bought & (recency <= rules.dormant_days)
    matrix = segments.customer_matrix(f_score=rfm_f, m_score=rfm_m, tenure_days=tenure,
                                      p_alive=np.nan_to_num(p_alive, nan=0.0), rules=rules)
    columns = {
        "member_id": member_ids,
        "visit_days": f["visit_days"],
        "recency_days": recency,
        "tenure_days": tenure,
        "enrolled_days": enrolled_days,
        "spend_fen": f["spend_fen"],
        "spend_12m_fen": f["spend_12m_fen"],
        "visits_12m": f["visits_12m"],
        "visits_prev_12m": f["visits_prev_12m"],
        "visits_recent": f["visits_recent"],
        "usual_visits": usual_visits,
        "spend_recent_fen": f["spend_recent_fen"],
        "usual_spend_fen": _fen(usual_spend),
        "rfm_r": rfm_r, "rfm_f": rfm_f, "rfm_m": rfm_m,
        "current_score": current, "potential_score": potential,
        "p_alive": p_alive, "expected_90": expected_90, "expected_365": expected_365,
        "expected_spend_fen": np.where(np.isnan(expected_spend), -1, _fen(np.nan_to_num(expected_spend))),
        "clv_fen": np.where(np.isnan(lifetime_value), -1, _fen(np.nan_to_num(lifetime_value))),
        "lifecycle": segments.lifecycle_stages(recency_days=recency, first_purchase_days_ago=tenure,
                                               enrolled_days_ago=enrolled_days, visit_days=f["visit_days"],
                                               rules=rules),
        "pyramid": segments.pyramid_levels(f["spend_12m_fen"], member_ids, rules),
        "matrix": matrix,
        "value_curve": segments.value_curve(current_score=current, potential_score=potential, rules=rules),
        "strategy": segments.strategies(matrix),
        "falling_off": falling,
    }
    return Results(columns=columns, parameters=parameters)
