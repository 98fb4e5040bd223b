"""Stored-value arithmetic as pure functions: how a payment splits between principal and bonus,
how a refund gives it back, and what a bonus plan costs (SPEC C4).

A payment takes principal and bonus pro rata to the balances at that moment (本金:赠送金 in the
ratio the card holds them). With one plan that is exactly the ratio they were loaded in; with
mixed plans it is the blended ratio, which is what the finance teams we follow book. Rounding
favours taking principal: the bonus share is rounded down.
"""

from fractions import Fraction


def split_payment(amount_fen: int, principal_fen: int, bonus_fen: int) -> tuple[int, int]:
    """(principal, bonus) taken for a payment of `amount_fen`; never more than either balance."""
    if amount_fen <= 0:
        raise ValueError("amount must be positive")
    total = principal_fen + bonus_fen
    if amount_fen > total:
        raise ValueError("amount exceeds the balance")
    bonus = amount_fen * bonus_fen // total
    return amount_fen - bonus, bonus


def split_refund(paid_principal: int, paid_bonus: int, refunded_before: int, amount_fen: int) -> tuple[int, int]:
    """(principal, bonus) to give back when `amount_fen` more of a payment is refunded, so that
    the refunds together return each part in proportion and a whole refund returns exactly what
    the payment took."""
    paid = paid_principal + paid_bonus
    if amount_fen <= 0 or refunded_before + amount_fen > paid:
        raise ValueError("refund exceeds what is left of the payment")

    def bonus_back(refunded: int) -> int:
        return paid_bonus * refunded // paid

    bonus = bonus_back(refunded_before + amount_fen) - bonus_back(refunded_before)
    return amount_fen - bonus, bonus


def effective_discount(pay_fen: int, bonus_fen: int) -> Fraction:
    """What a yuan of card value costs: "pay ¥100, get ¥180" is 100/180 ≈ 0.556 (a 5.6折 price)."""
    return Fraction(pay_fen, pay_fen + bonus_fen)


def effective_price_fen(list_price_fen: int, pay_fen: int, bonus_fen: int) -> int:
    """The price actually paid for something listed at `list_price_fen` when paid from the card."""
    return round(list_price_fen * effective_discount(pay_fen, bonus_fen))


def yearly_bonus_cost_fen(*, bonus_fen: int, members: int, top_ups_per_year: float) -> int:
    """Bonus given away in a year: members × top-ups each × bonus per top-up."""
    return round(members * top_ups_per_year * bonus_fen)


def yearly_discount_cost_fen(*, list_price_fen: int, effective_price_fen: int, units_per_day: float,
                             days: int = 360) -> int:
    """The documents' way of costing a scheme: (list − effective price) × units sold a day × days
    (their internet café: (¥3 − ¥1.3) × 1,500 h × 30 × 12 ≈ ¥900,000)."""
    return round((list_price_fen - effective_price_fen) * units_per_day * days)
