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


# Integer values below this are grouped by counting (O(n)) instead of sorting.
_COUNTING_RANGE = 1 << 24


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Dot product of member-sized vectors without BLAS: OpenBLAS spreads a dot over threads
    that, on a busy machine, wait for each other far longer than the sum takes (25x slower)."""
    return float(np.einsum("i,i->", a, b))


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values (sorted) and, for each value, the index of its distinct value.

    Day numbers and purchase counts are small whole numbers: counting them is linear, where
    sorting a million of them costs more than a whole likelihood evaluation.
    """
    if values.size and values.min() >= 0 and values.max() < _COUNTING_RANGE \
            and np.array_equal(values, np.floor(values)):
        whole = values.astype(np.intp)
        present = np.bincount(whole) > 0
        position = np.cumsum(present) - 1
        return np.flatnonzero(present).astype(values.dtype), position[whole]
    uniques, inverse = np.unique(values, return_inverse=True)
    return uniques, inverse.reshape(-1)


def _distinct_pairs(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (first, second) pairs as two arrays, and for each row the index of its pair."""
    firsts, first_index = _distinct(first)
    seconds, second_index = _distinct(second)
    keys, inverse = _distinct(first_index.astype(np.int64) * seconds.size + second_index)
    keys = keys.astype(np.int64)
    return firsts[keys // seconds.size], seconds[keys % seconds.size], inverse


# ---------------------------------------------------------------- BG/NBD


class _BgNbdData:
    """The data of a BG/NBD fit, arranged once so that each evaluation does the least work.

    Per member i the log-likelihood (FHL 2005 eq. 6) is
        g(x) + r·log α − (r + x)·log(α + T) + [x > 0]·softplus(z),
        z = log a − log(b + x − 1) + (r + x)·(log(α + T) − log(α + t_x)).
    g(x) holds the gamma functions: one value per distinct x. The second and third terms are
    summed per distinct T. Only softplus(z) is computed per repeat buyer, with its logarithms
    looked up per distinct T and t_x (whole days: a few thousand values for millions of members).
    """

    def __init__(self, x, t_x, T, *, time_scale: float = 1.0):
        self.n = x.size
        self.xs, x_index = _distinct(x)
        self.x_counts = np.bincount(x_index, minlength=self.xs.size).astype(float)
        Ts, T_index = _distinct(T)
        self.Ts = Ts / time_scale
        self.T_counts = np.bincount(T_index, minlength=Ts.size).astype(float)
        self.T_x_sums = np.bincount(T_index, weights=x, minlength=Ts.size)
        repeat = x > 0
        self.x_repeat = x[repeat]
        self.x_index_repeat = x_index[repeat]
        self.T_index_repeat = T_index[repeat]
        txs, self.tx_index_repeat = _distinct(t_x[repeat])
        self.txs = txs / time_scale
        # b + x - 1 for the distinct x; x = 0 never uses it (1 avoids log of a negative).
        self.xs_minus_1 = np.where(self.xs > 0, self.xs - 1, 1.0)


def bgnbd_log_likelihood(params, x, t_x, T, *, with_gradient: bool = False):
    """Total log-likelihood of (r, alpha, a, b); with the gradient in (r, alpha, a, b) if asked."""
    return _bgnbd_log_likelihood(params, _BgNbdData(*_as_arrays(x, t_x, T)), with_gradient)


def _softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z) without overflow; several times faster than np.logaddexp(0, z)."""
    result = np.exp(-np.abs(z))
    np.log1p(result, out=result)
    result += np.maximum(z, 0.0)
    return result


def _bgnbd_log_likelihood(params, d: _BgNbdData, with_gradient: bool):
    r, alpha, a, b = params
    xs, counts, n = d.xs, d.x_counts, d.n
    gammaln = special.gammaln
    g = gammaln(r + xs) - gammaln(r) + gammaln(a + b) + gammaln(b + xs) - gammaln(b) - gammaln(a + b + xs)
    log_alpha_T = np.log(alpha + d.Ts)
    T_weight = r * d.T_counts + d.T_x_sums  # sum of (r + x) per distinct T
    log_ratio = log_alpha_T[d.T_index_repeat] - np.log(alpha + d.txs)[d.tx_index_repeat]
    rx = r + d.x_repeat
    log_c = np.log(a) - np.log(b + d.xs_minus_1)
    z = rx * log_ratio
    z += log_c[d.x_index_repeat]
    softplus = _softplus(z)
    total = float(counts @ g + n * r * np.log(alpha) - log_alpha_T @ T_weight + softplus.sum())
    if not with_gradient:
        return total
    w = np.exp(z - softplus)  # sigmoid(z): the weight of "active until t_x, then left"
    w_by_x = np.bincount(d.x_index_repeat, weights=w, minlength=xs.size)
    psi = special.digamma
    reciprocal = (1.0 / (alpha + d.Ts))[d.T_index_repeat] - (1.0 / (alpha + d.txs))[d.tx_index_repeat]
    reciprocal *= rx
    grad_r = counts @ (psi(r + xs) - psi(r)) + n * np.log(alpha) - log_alpha_T @ d.T_counts + _dot(w, log_ratio)
    grad_alpha = n * r / alpha - T_weight @ (1.0 / (alpha + d.Ts)) + _dot(w, reciprocal)
    grad_a = counts @ (psi(a + b) - psi(a + b + xs)) + w_by_x.sum() / a
    grad_b = counts @ (psi(a + b) + psi(b + xs) - psi(b) - psi(a + b + xs)) - w_by_x @ (1.0 / (b + d.xs_minus_1))
    return total, np.array([grad_r, grad_alpha, grad_a, grad_b], dtype=float)


# A fit on more members than twice this starts from the maximum of an evenly spread sample of this many.
_SAMPLE = 10_000


def _maximise(log_likelihood, arrays, *, dimensions: int, tol: float) -> tuple[np.ndarray, str]:
    """Maximum of the mean log-likelihood over log-parameters: (log-parameters, message).

    `log_likelihood(*arrays)` arranges the data once and returns a function of the parameters
    giving (value, gradient). Up to 2 × _SAMPLE members: BFGS from zero. Beyond, BFGS finds the
    maximum of an evenly spread sample of _SAMPLE members and Newton steps with that sample's
    Hessian finish on all of them: the sample's mean log-likelihood has nearly the same shape, so
    each step divides the distance to the maximum by about a hundred, and the whole data is
    evaluated a handful of times instead of the dozens BFGS's line searches take.
    """
    def objective_of(arrays):
        evaluate = log_likelihood(*arrays)
        size = arrays[0].size

        def objective(log_params):
            params = np.exp(log_params)
            value, grad = evaluate(params)
            return -value / size, -grad * params / size
        return objective

    def bfgs(objective, start, gtol):
        result = optimize.minimize(objective, start, jac=True, method="BFGS", options={"gtol": gtol, "maxiter": 500})
        return result.x, result.message

    size = arrays[0].size
    if size <= 2 * _SAMPLE:
        return bfgs(objective_of(arrays), np.zeros(dimensions), tol)
    sample = objective_of([array[::size // _SAMPLE] for array in arrays])
    start, message = bfgs(sample, np.zeros(dimensions), 1e-7)
    hessian = _hessian(sample, start) if np.all(np.isfinite(start)) else None
    objective = objective_of(arrays)
    if hessian is None:
        return bfgs(objective, start if np.all(np.isfinite(start)) else np.zeros(dimensions), tol)
    point = start
    for _ in range(20):
        _value, grad = objective(point)
        if not np.all(np.isfinite(grad)):
            break
        if np.abs(grad).max() <= tol:
            return point, "converged"
        step = np.linalg.solve(hessian, grad)
        point = point - step
        # Below this the steps are rounding noise of sums over millions of members.
        if np.abs(step).max() <= 1e-11:
            return point, "converged (steps below rounding)"
    return bfgs(objective, start, tol)  # the sample misled: the general method from its maximum


def _hessian(objective, point: np.ndarray, step: float = 1e-4) -> np.ndarray | None:
    """Hessian by central differences of the gradient; None unless positive definite."""
    columns = []
    for i in range(point.size):
        delta = np.zeros(point.size)
        delta[i] = step
        columns.append((objective(point + delta)[1] - objective(point - delta)[1]) / (2 * step))
    hessian = np.array(columns)
    hessian = (hessian + hessian.T) / 2
    if not np.all(np.isfinite(hessian)) or np.linalg.eigvalsh(hessian).min() <= 0:
        return None
    return hessian


def bgnbd_fit(x, t_x, T, *, tol: float = 1e-10) -> BgNbdParams:
    """Maximum-likelihood BG/NBD parameters for members with at least one purchase (T > 0)."""
    x, t_x, T = _as_arrays(x, t_x, T)
    if x.size < 4 or not np.any(x > 0):
        raise FitError("BG/NBD needs some members with repeat purchases")
    if np.any(t_x > T) or np.any(T <= 0) or np.any(x < 0):
        raise FitError("BG/NBD needs 0 <= t_x <= T, T > 0 and x >= 0")
    # Scale time so that the largest T is 10 (as lifetimes does): alpha starts near the data.
    scale = float(T.max()) / 10.0

    everyone = _BgNbdData(x, t_x, T, time_scale=scale)

    def log_likelihood(*arrays):
        data = everyone if arrays[0] is x else _BgNbdData(*arrays, time_scale=scale)
        return lambda params: _bgnbd_log_likelihood(params, data, True)

    log_params, message = _maximise(log_likelihood, [x, t_x, T], dimensions=4, tol=tol)
    if not np.all(np.isfinite(log_params)):
        raise FitError(f"BG/NBD fit failed: {message}")
    r, alpha, a, b = np.exp(log_params)
    # In days rather than scaled time, each member's likelihood is divided by scale^x.
    ll = _bgnbd_log_likelihood((r, alpha, a, b), everyone, False) - float(x.sum() * np.log(scale))
    return BgNbdParams(r=float(r), alpha=float(alpha * scale), a=float(a), b=float(b), log_likelihood=ll)


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
    px, pT, inverse = _distinct_pairs(x, T)
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


class _GammaGammaData:
    """The data of a Gamma-Gamma fit, arranged once. Per repeat buyer the log-likelihood is
        log Γ(px + q) − log Γ(px) − log Γ(q) + px·log x + q·log γ + (px − 1)·log m − (px + q)·log(xm + γ):
    the gamma functions per distinct x, the terms in log m as two sums computed once, so an
    evaluation computes only log(xm + γ) per member.
    """

    def __init__(self, x, m, *, money_scale: float = 1.0):
        self.n = x.size
        self.xs, x_index = _distinct(x)
        self.x_counts = np.bincount(x_index, minlength=self.xs.size).astype(float)
        self.x = x
        self.xm = x * (m / money_scale)
        log_m = np.log(m / money_scale)
        self.sum_log_m = float(log_m.sum())
        self.sum_x_log_m = _dot(x, log_m)


def gamma_gamma_log_likelihood(params, x, m, *, with_gradient: bool = False):
    """Total log-likelihood of (p, q, gamma) for repeat buyers with x purchases of mean value m."""
    return _gamma_gamma_log_likelihood(params, _GammaGammaData(*_as_arrays(x, m)), with_gradient)


def _gamma_gamma_log_likelihood(params, d: _GammaGammaData, with_gradient: bool):
    p, q, v = params
    xs, counts, n = d.xs, d.x_counts, d.n
    pxs = p * xs
    log_xm_v = np.log(d.xm + v)
    sum_log_xm_v = log_xm_v.sum()
    sum_x_log_xm_v = _dot(d.x, log_xm_v)
    total = float(counts @ (special.gammaln(pxs + q) - special.gammaln(pxs) + pxs * np.log(xs))
                  - n * special.gammaln(q) + n * q * np.log(v)
                  + p * d.sum_x_log_m - d.sum_log_m - p * sum_x_log_xm_v - q * sum_log_xm_v)
    if not with_gradient:
        return total
    psi = special.digamma
    dpq = psi(pxs + q)
    reciprocal = 1.0 / (d.xm + v)
    grad_p = counts @ (xs * (dpq - psi(pxs) + np.log(xs))) + d.sum_x_log_m - sum_x_log_xm_v
    grad_q = counts @ dpq - n * psi(q) + n * np.log(v) - sum_log_xm_v
    grad_v = n * q / v - p * _dot(d.x, reciprocal) - q * reciprocal.sum()
    return total, np.array([grad_p, grad_q, grad_v], dtype=float)


def gamma_gamma_fit(x, m, *, tol: float = 1e-10) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters; pass repeat buyers only (x > 0, m > 0)."""
    x, m = _as_arrays(x, m)
    if x.size < 3 or np.any(x <= 0) or np.any(m <= 0):
        raise FitError("Gamma-Gamma needs repeat buyers with positive spend")
    # Money scaled to mean 1: p and q do not change, gamma scales with the money unit.
    scale = float(m.mean())

    everyone = _GammaGammaData(x, m, money_scale=scale)

    def log_likelihood(*arrays):
        data = everyone if arrays[0] is x else _GammaGammaData(*arrays, money_scale=scale)
        return lambda params: _gamma_gamma_log_likelihood(params, data, True)

    log_params, message = _maximise(log_likelihood, [x, m], dimensions=3, tol=tol)
    if not np.all(np.isfinite(log_params)):
        raise FitError(f"Gamma-Gamma fit failed: {message}")
    p, q, v = np.exp(log_params)
    if q <= 1:
        raise FitError("Gamma-Gamma fit has q <= 1: mean spend is undefined")
    # In the caller's money unit, each member's density of m is divided by the scale.
    ll = _gamma_gamma_log_likelihood((p, q, v), everyone, False) - float(x.size * np.log(scale))
    v *= scale
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
