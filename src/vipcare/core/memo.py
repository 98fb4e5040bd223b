"""Configuration read once per unit of work.

A checkout asks for the points policy, the level ladder and the earning rules several times
(pricing, paying, earning, the level); inside `memo_scope()` each such read runs once and the
answer is shared until the scope ends. Outside a scope nothing is kept, so an edit of the
configuration is seen by the next request, in every process, with no cache to invalidate.
"""

import contextlib
import contextvars
import functools

_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar("vipcare_memo", default=None)


@contextlib.contextmanager
def memo_scope():
    token = _memo.set({}) if _memo.get() is None else None
    try:
        yield
    finally:
        if token is not None:
            _memo.reset(token)


def memoized(function):
    """Share the result of `function(*args)` within the current `memo_scope()` (args hashable)."""

    @functools.wraps(function)
    def wrapper(*args):
        memo = _memo.get()
        if memo is None:
            return function(*args)
        key = (function, args)
        if key not in memo:
            memo[key] = function(*args)
        return memo[key]

    return wrapper
