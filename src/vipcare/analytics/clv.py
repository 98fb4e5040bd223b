"""Future value of a member: BG/NBD (will they buy again, how often) and Gamma-Gamma (how much).

Pure, vectorised numpy/scipy. Time is in whatever unit the caller uses (the refresh uses days,
the CDNOW tests weeks); money in any unit (the refresh uses fen).

- BG/NBD: Fader, Hardie & Lee, "Counting your customers the easy way" (2005).
  Per member: x = repeat purchases (purchase days after the first), t_x = time of the last
  purchase since the first, T = time since the first purchase.
- Gamma-Gamma: Fader, Hardie & Berger's note on the Gamma-Gamma spend model; per repeat buyer
  x and m = mean spend per repeat purchase.

Fits are maximum likelihood on log-parameters with analytic gradients (BFGS). The terms that
depend on x alone (the gamma functions) are computed once per distinct x: x takes few values,
so a million members cost little more than a few vector logs.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import optimize, special


@dataclasses.dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float
    log_likelihood: float = float("nan")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class FitError(ValueError):
    """Too little data, or the optimiser did not converge."""


def _as_arrays(*arrays):
    return [np.asarray(a, dtype=float) for a in arrays]


def _by_distinct_x(x: np.ndarray):
    """Distinct x values, for each member the index of its x among them, and how many have each.

    Computed once per fit, not per evaluation: sorting a million x's costs more than the rest.
    """
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    return values, inverse.reshape(-1), counts


# ---------------------------------------------------------------- BG/NBD


def bgnbd_log_likelihood(params, x, t_x, T, *, with_gradient: bool = False, groups=None):
    """Total log-likelihood of (r, alpha, a, b); with the gradient in (r, alpha, a, b) if asked.

    `groups` is `_by_distinct_x(x)` when the caller evaluates many times on the same data.
    """
    r, alpha, a, b = params
    x, t_x, T = _as_arrays(x, t_x, T)
    xs, _inverse, counts = groups if groups is not None else _by_distinct_x(x)
    # Terms of x only (FHL 2005 eq. 6, A1 and A2 without r·log alpha).
    g1 = special.gammaln(r + xs) - special.gammaln(r) + special.gammaln(a + b) + special.gammaln(b + xs) \
        - special.gammaln(b) - special.gammaln(a + b + xs)
    log_alpha_T = np.log(alpha + T)
    log_alpha_tx = np.log(alpha + t_x)
    rx = r + x
    a3 = -rx * log_alpha_T
    repeat = x > 0
    # A4 exists only for repeat buyers; b + x - 1 > 0 there.
    log_b_x1 = np.log(np.where(repeat, b + x - 1, 1.0))
    a4 = np.where(repeat, np.log(a) - log_b_x1 - rx * log_alpha_tx, -np.inf)
    log_sum = np.logaddexp(a3, a4)
    total = float(counts @ g1 + x.size * r * np.log(alpha) + log_sum.sum())
    if not with_gradient:
        return total
    w3 = np.exp(a3 - log_sum)
    w4 = 1.0 - w3  # exactly 0 where there is no A4
    ps = special.digamma
    d_r_x = ps(r + xs) - ps(r)
    d_a_x = ps(a + b) - ps(a + b + xs)
    d_b_x = ps(a + b) + ps(b + xs) - ps(b) - ps(a + b + xs)
    grad_r = float(counts @ d_r_x + x.size * np.log(alpha) - (w3 * log_alpha_T + w4 * log_alpha_tx).sum())
    grad_alpha = float(x.size * r / alpha - (w3 * rx / (alpha + T) + w4 * rx / (alpha + t_x)).sum())
    grad_a = float(counts @ d_a_x + (w4 / a).sum())
    grad_b = float(counts @ d_b_x - (w4 / np.where(repeat, b + x - 1, 1.0)).sum())
    return total, np.array([grad_r, grad_alpha, grad_a, grad_b])


def bgnbd_fit(x, t_x, T, *, tol: float = 1e-10) -> BgNbdParams:
    """Maximum-likelihood BG/NBD parameters for members with at least one purchase (T > 0)."""
    x, t_x, T = _as_arrays(x, t_x, T)
    if x.size < 4 or not np.any(x > 0):
        raise FitError("BG/NBD needs some members with repeat purchases")
    if np.any(t_x > T) or np.any(T <= 0) or np.any(x < 0):
        raise FitError("BG/NBD needs 0 <= t_x <= T, T > 0 and x >= 0")
    # Scale time so that the largest T is 10 (as lifetimes does): alpha starts near the data.
    scale = float(T.max()) / 10.0
    ts_x, ts = t_x / scale, T / scale
    n = x.size
    groups = _by_distinct_x(x)

    def objective(log_params):
        params = np.exp(log_params)
        value, grad = bgnbd_log_likelihood(params, x, ts_x, ts, with_gradient=True, groups=groups)
        return -value / n, -grad * params / n

    result = optimize.minimize(objective, np.zeros(4), jac=True, method="BFGS", options={"gtol": tol, "maxiter": 500})
    if not np.all(np.isfinite(result.x)):
        raise FitError(f"BG/NBD fit failed: {result.message}")
    r, alpha, a, b = np.exp(result.x)
    alpha *= scale
    ll = bgnbd_log_likelihood((r, alpha, a, b), x, t_x, T, groups=groups)
    return BgNbdParams(r=float(r), alpha=float(alpha), a=float(a), b=float(b), log_likelihood=ll)


def bgnbd_p_alive(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """Probability the member is still active (has not silently left) at T."""
    x, t_x, T = _as_arrays(x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_div = (r + x) * np.log((alpha + T) / (alpha + t_x)) + np.log(a / (b + np.clip(x, 1, None) - 1))
    return np.where(x == 0, 1.0, special.expit(-log_div))


def _log_hyp2f1(a, b, c, z):
    """log 2F1 with Euler's transformation where the direct series overflows."""
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = np.log(special.hyp2f1(a, b, c, z))
        bad = ~np.isfinite(direct)
        if np.any(bad):
            alt = np.log(special.hyp2f1(c - a, c - b, c, z)) + (c - a - b) * np.log1p(-z)
            direct = np.where(bad, alt, direct)
    return direct


def bgnbd_expected_purchases(params: BgNbdParams, t: float, x, t_x, T) -> np.ndarray:
    """Expected number of purchases in the next `t` (FHL 2005 eq. 10)."""
    return bgnbd_expected_purchases_many(params, [t], x, t_x, T)[0]


def bgnbd_expected_purchases_many(params: BgNbdParams, ts, x, t_x, T) -> list[np.ndarray]:
    """Expected purchases for each horizon in `ts`.

    The hypergeometric term depends on (x, T) only; members share those pairs (days are whole
    numbers), so it is computed once per distinct pair, and the pairs are found once for all horizons.
    """
    x, t_x, T = _as_arrays(x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    pairs, inverse = np.unique(np.stack([x, T]), axis=1, return_inverse=True)
    inverse = inverse.reshape(-1)
    px, pT = pairs
    denominator = 1 + (x > 0) * (a / (b + x - 1 + (x == 0))) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    first = (a + b + px - 1) / (a - 1)
    results = []
    for t in ts:
        if t <= 0:
            results.append(np.zeros_like(x))
            continue
        log_hyp = _log_hyp2f1(r + px, b + px, a + b + px - 1, t / (alpha + pT + t))
        second = -np.expm1(log_hyp + (r + px) * np.log((alpha + pT) / (alpha + t + pT)))
        results.append((first * second)[inverse] / denominator)
    return results


# ---------------------------------------------------------------- Gamma-Gamma


def gamma_gamma_log_likelihood(params, x, m, *, with_gradient: bool = False, groups=None):
    """Total log-likelihood of (p, q, gamma) for repeat buyers with x purchases of mean value m."""
    p, q, v = params
    x, m = _as_arrays(x, m)
    xs, _inverse, counts = groups if groups is not None else _by_distinct_x(x)
    ps = special.digamma
    # Gamma-function terms per distinct x; the rest per member.
    pxs = p * xs
    total_x = counts @ (special.gammaln(pxs + q) - special.gammaln(pxs) + pxs * np.log(xs))
    log_m = np.log(m)
    xm_v = x * m + v
    log_xm_v = np.log(xm_v)
    px = p * x
    total = float(total_x - x.size * special.gammaln(q) + x.size * q * np.log(v)
                  + ((px - 1) * log_m - (px + q) * log_xm_v).sum())
    if not with_gradient:
        return total
    dpq = ps(pxs + q)
    grad_p = float(counts @ (xs * (dpq - ps(pxs) + np.log(xs))) + (x * (log_m - log_xm_v)).sum())
    grad_q = float(counts @ dpq - x.size * ps(q) + x.size * np.log(v) - log_xm_v.sum())
    grad_v = float(x.size * q / v - ((px + q) / xm_v).sum())
    return total, np.array([grad_p, grad_q, grad_v])


def gamma_gamma_fit(x, m, *, tol: float = 1e-10) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters; pass repeat buyers only (x > 0, m > 0)."""
    x, m = _as_arrays(x, m)
    if x.size < 3 or np.any(x <= 0) or np.any(m <= 0):
        raise FitError("Gamma-Gamma needs repeat buyers with positive spend")
    # Money scaled to mean 1: p and q do not change, gamma scales with the money unit.
    scale = float(m.mean())
    ms = m / scale
    n = x.size
    groups = _by_distinct_x(x)

    def objective(log_params):
        params = np.exp(log_params)
        value, grad = gamma_gamma_log_likelihood(params, x, ms, with_gradient=True, groups=groups)
        return -value / n, -grad * params / n

    result = optimize.minimize(objective, np.zeros(3), jac=True, method="BFGS", options={"gtol": tol, "maxiter": 500})
    if not np.all(np.isfinite(result.x)):
        raise FitError(f"Gamma-Gamma fit failed: {result.message}")
    p, q, v = np.exp(result.x)
    v *= scale
    if q <= 1:
        raise FitError("Gamma-Gamma fit has q <= 1: mean spend is undefined")
    ll = gamma_gamma_log_likelihood((p, q, v), x, m, groups=groups)
    return GammaGammaParams(p=float(p), q=float(q), gamma=float(v), log_likelihood=ll)


def gamma_gamma_expected_spend(params: GammaGammaParams, x, m) -> np.ndarray:
    """Expected mean spend per future purchase: a weighted mean of the member's own and everyone's."""
    x, m = _as_arrays(x, m)
    p, q, v = params.p, params.q, params.gamma
    weight = p * x / (p * x + q - 1)
    population_mean = v * p / (q - 1)
    return (1 - weight) * population_mean + weight * m


# ---------------------------------------------------------------- lifetime value


def customer_lifetime_value(bgnbd: BgNbdParams, x, t_x, T, spend, *, months: int = 12,
                            monthly_discount: float = 0.01, days_per_month: float = 30.0) -> np.ndarray:
    """Discounted expected spend over `months` (time in days): each month's expected purchases
    times the expected spend per purchase, discounted by (1 + rate)^month."""
    x, t_x, T, spend = _as_arrays(x, t_x, T, spend)
    horizons = [month * days_per_month for month in range(0, months + 1)]
    cumulative = bgnbd_expected_purchases_many(bgnbd, horizons, x, t_x, T)
    value = np.zeros_like(x)
    for month in range(1, months + 1):
        value += spend * (cumulative[month] - cumulative[month - 1]) / (1 + monthly_discount) ** month
    return value
