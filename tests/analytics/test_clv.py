"""BG/NBD and Gamma-Gamma against the published CDNOW results and the lifetimes implementation."""

from pathlib import Path

import numpy as np
import pytest

from vipcare.analytics import clv

lifetimes = pytest.importorskip("lifetimes")


@pytest.fixture(scope="module")
def cdnow():
    # 2,357 customers, 39-week calibration period (Fader, Hardie & Lee 2005), as lifetimes ships it.
    path = Path(lifetimes.__file__).parent / "datasets" / "cdnow_customers_summary_with_transactions.csv"
    data = np.genfromtxt(path, delimiter=",", names=True)
    return data["x"], data["t_x"], data["T"], data["zbar"]


@pytest.fixture(scope="module")
def bgnbd(cdnow):
    x, t_x, T, _ = cdnow
    return clv.bgnbd_fit(x, t_x, T)


@pytest.fixture(scope="module")
def gamma_gamma(cdnow):
    x, _, _, m = cdnow
    return clv.gamma_gamma_fit(x[x > 0], m[x > 0])


def test_bgnbd_fit_matches_fader_hardie_lee_2005(cdnow, bgnbd):
    assert len(cdnow[0]) == 2357
    assert (round(bgnbd.r, 3), round(bgnbd.alpha, 3), round(bgnbd.a, 3), round(bgnbd.b, 3)) == (
        0.243, 4.414, 0.793, 2.426)
    assert round(bgnbd.log_likelihood, 1) == -9582.4


def test_gamma_gamma_fit_matches_fader_hardie_berger(gamma_gamma):
    assert (round(gamma_gamma.p, 2), round(gamma_gamma.q, 2)) == (6.25, 3.74)
    # The note prints 15.44; the maximum (here and in lifetimes) is 15.4477: within the last printed digit.
    assert abs(gamma_gamma.gamma - 15.44) < 0.01


def test_bgnbd_gradient_is_the_derivative_of_the_likelihood(cdnow):
    x, t_x, T, _ = cdnow
    params = np.array([0.3, 4.0, 0.9, 2.0])
    _, grad = clv.bgnbd_log_likelihood(params, x, t_x, T, with_gradient=True)
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-6 * params[i]
        numeric = (clv.bgnbd_log_likelihood(params + step, x, t_x, T)
                   - clv.bgnbd_log_likelihood(params - step, x, t_x, T)) / (2 * step[i])
        assert grad[i] == pytest.approx(numeric, rel=1e-5)


def test_fits_agree_with_lifetimes(cdnow, bgnbd, gamma_gamma):
    x, t_x, T, m = cdnow
    reference = lifetimes.BetaGeoFitter().fit(x, t_x, T)
    for ours, theirs in zip((bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b), reference.params_.to_numpy(), strict=True):
        assert ours == pytest.approx(theirs, rel=1e-5)
    reference_gg = lifetimes.GammaGammaFitter().fit(x[x > 0], m[x > 0])
    for ours, theirs in zip((gamma_gamma.p, gamma_gamma.q, gamma_gamma.gamma), reference_gg.params_.to_numpy(),
                            strict=True):
        assert ours == pytest.approx(theirs, rel=1e-5)


def _lifetimes_with(params: clv.BgNbdParams):
    import pandas as pd

    fitter = lifetimes.BetaGeoFitter()
    fitter.params_ = pd.Series({"r": params.r, "alpha": params.alpha, "a": params.a, "b": params.b})
    fitter.predict = fitter.conditional_expected_number_of_purchases_up_to_time  # fit() sets this alias
    return fitter


def test_per_customer_predictions_equal_lifetimes(cdnow, bgnbd, gamma_gamma):
    import pandas as pd

    x, t_x, T, m = cdnow
    reference = _lifetimes_with(bgnbd)
    np.testing.assert_allclose(clv.bgnbd_p_alive(bgnbd, x, t_x, T),
                               reference.conditional_probability_alive(x, t_x, T), rtol=1e-6)
    for t in (1, 39, 52):
        np.testing.assert_allclose(clv.bgnbd_expected_purchases(bgnbd, t, x, t_x, T),
                                   reference.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T),
                                   rtol=1e-6)
    gg = lifetimes.GammaGammaFitter()
    gg.params_ = pd.Series({"p": gamma_gamma.p, "q": gamma_gamma.q, "v": gamma_gamma.gamma})
    spend = clv.gamma_gamma_expected_spend(gamma_gamma, x, m)
    np.testing.assert_allclose(spend, gg.conditional_expected_average_profit(pd.Series(x), pd.Series(m)), rtol=1e-6)
    # CLV: time in weeks here, so a "month" is 4.345 weeks as in lifetimes' freq="W".
    ours = clv.customer_lifetime_value(bgnbd, x, t_x, T, spend, months=12, monthly_discount=0.01,
                                       days_per_month=4.345)
    theirs = gg.customer_lifetime_value(reference, pd.Series(x), pd.Series(t_x), pd.Series(T), pd.Series(m),
                                        time=12, discount_rate=0.01, freq="W")
    np.testing.assert_allclose(ours, theirs.to_numpy(), rtol=1e-6)


def test_fit_refuses_data_without_repeat_buyers():
    with pytest.raises(clv.FitError, match="repeat"):
        clv.bgnbd_fit([0, 0, 0, 0], [0, 0, 0, 0], [5, 6, 7, 8])
    with pytest.raises(clv.FitError, match="t_x <= T"):
        clv.bgnbd_fit([1, 2, 0, 0], [9, 3, 0, 0], [5, 6, 7, 8])
    with pytest.raises(clv.FitError):
        clv.gamma_gamma_fit([1, 2, 3], [10.0, 0.0, 5.0])


def test_gamma_gamma_gradient_is_the_derivative_of_the_likelihood(cdnow):
    x, _, _, m = cdnow
    x, m = x[x > 0], m[x > 0]
    params = np.array([5.0, 3.0, 14.0])
    _, grad = clv.gamma_gamma_log_likelihood(params, x, m, with_gradient=True)
    for i in range(3):
        step = np.zeros(3)
        step[i] = 1e-6 * params[i]
        numeric = (clv.gamma_gamma_log_likelihood(params + step, x, m)
                   - clv.gamma_gamma_log_likelihood(params - step, x, m)) / (2 * step[i])
        assert grad[i] == pytest.approx(numeric, rel=1e-5)


def test_fitted_log_likelihoods_are_those_of_the_data_in_its_own_units(cdnow, bgnbd, gamma_gamma):
    # The fits work in scaled time and money; the log-likelihood they report is in the caller's units.
    x, t_x, T, m = cdnow
    assert bgnbd.log_likelihood == pytest.approx(
        clv.bgnbd_log_likelihood((bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b), x, t_x, T), rel=1e-12)
    assert gamma_gamma.log_likelihood == pytest.approx(
        clv.gamma_gamma_log_likelihood((gamma_gamma.p, gamma_gamma.q, gamma_gamma.gamma), x[x > 0], m[x > 0]),
        rel=1e-12)


def _paper_log_likelihood(params, x, t_x, T):
    """FHL 2005 eq. 6, member by member, written as plainly as possible."""
    from scipy.special import gammaln

    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x), -np.inf)
    return float((a1 + a2 + np.logaddexp(a3, a4)).sum())


@pytest.fixture(scope="module")
def members_in_days():
    """The BG/NBD story in whole days (as the refresh has them): each member buys at their own
    Gamma(0.6, 14) rate and after each purchase leaves with their own Beta(1.1, 17) probability."""
    rng = np.random.default_rng(3)
    x, t_x, T = np.zeros(5000), np.zeros(5000), rng.integers(1, 1096, 5000).astype(float)
    for i, (rate, leave) in enumerate(zip(rng.gamma(0.6, 1 / 14, 5000), rng.beta(1.1, 17, 5000), strict=True)):
        day = rng.exponential(1 / rate)
        while day < T[i]:
            x[i], t_x[i] = x[i] + 1, np.floor(day)
            if rng.random() < leave:
                break
            day += rng.exponential(1 / rate)
    return x, t_x, T


def test_bgnbd_likelihood_and_gradient_on_whole_days(members_in_days):
    x, t_x, T = members_in_days
    params = np.array([0.6, 14.0, 1.1, 17.0])
    value, grad = clv.bgnbd_log_likelihood(params, x, t_x, T, with_gradient=True)
    assert value == pytest.approx(_paper_log_likelihood(params, x, t_x, T), rel=1e-12)
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-6 * params[i]
        numeric = (_paper_log_likelihood(params + step, x, t_x, T)
                   - _paper_log_likelihood(params - step, x, t_x, T)) / (2 * step[i])
        assert grad[i] == pytest.approx(numeric, rel=1e-5)


def test_fits_from_a_sample_then_newton_reach_the_same_maximum(cdnow, bgnbd, gamma_gamma, members_in_days,
                                                               monkeypatch):
    # Large data sets start from a sample's maximum; make CDNOW "large" so that path runs on it.
    monkeypatch.setattr(clv, "_SAMPLE", 400)
    x, t_x, T, m = cdnow
    again = clv.bgnbd_fit(x, t_x, T)
    for name in ("r", "alpha", "a", "b", "log_likelihood"):
        assert getattr(again, name) == pytest.approx(getattr(bgnbd, name), rel=1e-6), name
    again_gg = clv.gamma_gamma_fit(x[x > 0], m[x > 0])
    for name in ("p", "q", "gamma", "log_likelihood"):
        assert getattr(again_gg, name) == pytest.approx(getattr(gamma_gamma, name), rel=1e-6), name
    days = clv.bgnbd_fit(*members_in_days)
    monkeypatch.setattr(clv, "_SAMPLE", 10**9)
    directly = clv.bgnbd_fit(*members_in_days)
    for name in ("r", "alpha", "a", "b", "log_likelihood"):
        assert getattr(days, name) == pytest.approx(getattr(directly, name), rel=1e-6), name
