"""The till flow: a quote, a checkout that commits everything in one transaction, two-phase holds,
and the reversal of a checkout by its refunds.

A checkout, inside one transaction (the API wraps it in the idempotency helper's, so a retried
request replays the stored answer and does nothing twice):

1. takes the hold it captures, if any (locked), and the scanned coupons (locked, checked);
2. prices the lines (`vipcare.offers.pricing`: level, birthday, member day, coupons);
3. splits the total over the tenders: points, stored value, other (cash or card);
4. records the sale with the programme's discounts on its lines (so a refund of a line gives
   back what that line really cost);
5. pays with points and stored value (or captures the hold), redeems the coupons, earns points
   on what was not paid with points, evaluates the level (and issues level-up coupons);
6. writes the `Checkout`.

Locks are taken in one order everywhere — till hold, coupons, points account, stored-value
account, member level, member — so two checkouts (or a checkout and a refund) never deadlock.

A refund (through the till, the POS refund endpoint or a staff screen: sales.REFUND_HOOKS) gives
each tender back in proportion to what is left of it, takes back the points the refunded part
earned (ADR 0003: never below zero), re-evaluates the level, and — once the whole sale has come
back — reissues its coupons where the template says so.
"""

from vipcare.till.services.checkout import till_checkout
from vipcare.till.services.holds import MAX_HOLD, till_hold, till_hold_release, till_holds_release_expired
from vipcare.till.services.quote import Quote, till_quote
from vipcare.till.services.refunds import checkout_refund_reverse
from vipcare.till.services.shared import OFFER_STATUS, TillLine, TillRefused, spendable_points

__all__ = [
    "MAX_HOLD",
    "OFFER_STATUS",
    "Quote",
    "TillLine",
    "TillRefused",
    "checkout_refund_reverse",
    "spendable_points",
    "till_checkout",
    "till_hold",
    "till_hold_release",
    "till_holds_release_expired",
    "till_quote",
]
