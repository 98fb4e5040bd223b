"""The label rules on small, hand-checked inputs."""

import numpy as np
import pytest

from vipcare.analytics import segments
from vipcare.analytics.segments import SegmentRules

RULES = SegmentRules()


def test_quintile_scores_give_equal_values_equal_scores():
    scores = segments.quintile_scores(np.array([10, 20, 30, 40, 50, 50, 60, 70, 80, 90]))
    assert scores.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert segments.quintile_scores(np.array([5, 1, 3]), higher_is_better=False).tolist() == [1, 4, 2]


def test_rfm_scores_leave_members_without_purchases_at_zero():
    r, f, m = segments.rfm_scores(recency_days=np.array([1, 400, 0]), visit_days=np.array([3, 1, 0]),
                                  spend_fen=np.array([500, 100, 0]))
    assert (r.tolist(), f.tolist(), m.tolist()) == ([3, 1, 0], [3, 1, 0], [3, 1, 0])


def test_pyramid_cuts_top_1_4_15_percent_of_spenders():
    spend = np.concatenate([np.arange(100, 0, -1), np.zeros(5)])
    levels = segments.pyramid_levels(spend, np.arange(105), RULES)
    assert (levels == "A").sum() == 1 and levels[0] == "A"
    assert (levels == "B").sum() == 4 and (levels == "C").sum() == 15
    assert (levels[100:] == "D").all()


def test_pyramid_breaks_ties_by_member_id():
    levels = segments.pyramid_levels(np.full(100, 50), np.arange(100)[::-1], RULES)
    assert levels[99] == "A"  # member id 0


@pytest.mark.parametrize(("recency", "first", "enrolled", "visits", "stage"), [
    (10, 30, 30, "2", "new"),
    (10, 300, 300, "2", "active"),
    (200, 300, 300, "2", "at_risk"),
    (400, 500, 500, "2", "dormant"),
    (800, 900, 900, "2", "churned"),
    (0, 0, 20, "0", "new"),
    (0, 0, 400, "0", "dormant"),
])
def test_lifecycle_thresholds(recency, first, enrolled, visits, stage):
    result = segments.lifecycle_stages(recency_days=[recency], first_purchase_days_ago=[first],
                                       enrolled_days_ago=[enrolled], visit_days=[int(visits)], rules=RULES)
    assert result.tolist() == [stage]


def test_matrix_value_curve_and_strategy():
    matrix = segments.customer_matrix(f_score=[5, 5, 1, 1], m_score=[5, 1, 5, 1], tenure_days=[400] * 4,
                                      p_alive=[0.9] * 4, rules=RULES)
    assert matrix.tolist() == ["confidant", "barnacle", "butterfly", "passerby"]
    assert segments.strategies(matrix).tolist() == ["deep_care", "deep_mining", "deep_acquisition", "long_term"]
    # A frequent buyer who has probably left is not loyal.
    assert segments.customer_matrix(f_score=[5], m_score=[5], tenure_days=[400], p_alive=[0.1],
                                    rules=RULES).tolist() == ["butterfly"]
    curve = segments.value_curve(current_score=[5, 5, 1, 1], potential_score=[5, 1, 5, 1], rules=RULES)
    assert curve.tolist() == ["star", "cash_cow", "question", "dog"]


def test_falling_off_flags_regulars_well_below_their_usual():
    flag, usual_visits, usual_spend = segments.falling_off(
        visits_recent=np.array([1, 3, 0, 0, 0]), visits_before=np.array([12, 12, 2, 12, 4]),
        spend_recent_fen=np.array([100, 900, 0, 0, 0]), spend_before_fen=np.array([3600, 3600, 200, 3600, 800]),
        history_days=np.array([270, 270, 270, 270, 360]), rules=RULES)
    assert usual_visits[0] == pytest.approx(4.0) and usual_spend[0] == pytest.approx(1200)
    assert flag.tolist() == [
        True,  # came once but spent a twelfth of the usual
        False,  # nearly the usual pace and spend
        False,  # not a regular
        True,  # no visit against four usually: chance of that is 2 %
        False,  # no visit against one usually happens by chance a third of the time
    ]


def test_rules_reject_unknown_settings(settings):
    settings.VIPCARE_ANALYTICS = {"pyramid_a": 0.02, "no_such_rule": 1}
    with pytest.raises(ValueError, match="no_such_rule"):
        SegmentRules.from_settings()
    settings.VIPCARE_ANALYTICS = {"pyramid_a": 0.02}
    assert SegmentRules.from_settings().pyramid_a == 0.02


def test_quintile_scores_by_counting_equal_those_by_sorting():
    # Whole numbers in a small range are ranked by counting; money and lifetime values by sorting.
    from scipy import stats

    rng = np.random.default_rng(5)
    for values in (rng.integers(0, 1000, 5000), rng.integers(-50, 50, 333), rng.gamma(2.0, 1e5, 4000),
                   np.array([7, 7, 7]), np.array([2**40, 0, 2**40])):
        expected = 1 + (5 * (stats.rankdata(values, method="min") - 1)) // values.size
        assert segments.quintile_scores(values).tolist() == expected.tolist()


def test_strategies_follow_the_matrix():
    matrix = np.array(["confidant", "butterfly", "barnacle", "passerby"])
    assert segments.strategies(matrix).tolist() == ["deep_care", "deep_acquisition", "deep_mining", "long_term"]
    assert segments.strategies(np.array([], dtype="<U9")).tolist() == []
