from vipcare.care.rules import priority


def test_priority_follows_the_analytics_strategy():
    assert priority(base=50, labels={"strategy": "deep_care"}) > priority(base=50, labels={"strategy": "deep_mining"})
    acquisition = priority(base=50, labels={"strategy": "deep_acquisition"})
    assert acquisition > priority(base=50, labels={"strategy": "long_term"})
    assert priority(base=50, labels={"strategy": "long_term"}) == priority(base=50, labels={})


def test_priority_is_capped():
    assert priority(base=95, rank=4, labels={"falling_off": True, "strategy": "deep_care", "clv_fen": 9_000_000}) == 100
