"""The reversal of a checkout by its refunds (sales.REFUND_HOOKS)."""


from django.db.models import Sum
from django.utils import timezone

from vipcare.loyalty.services import points_return_payment, points_reverse_for_refund, tier_evaluate_after_refund
from vipcare.offers import pricing
from vipcare.offers.choices import CouponStatus
from vipcare.offers.models import Coupon, CouponRedemption
from vipcare.offers.services import coupon_reissue_for_refund
from vipcare.sales.models import Refund
from vipcare.till.models import Checkout, CheckoutRefund
from vipcare.wallet.services import wallet_refund_payment


def checkout_refund_reverse(*, refund: Refund) -> CheckoutRefund | None:
    """Reverse, for one refund, what the checkout of its sale did (runs inside refund_record).

    Tenders: the refund is spread over points, stored value and other in proportion to what is
    still unrefunded of each (largest remainders), so the refunds of a sale add up to exactly its
    tenders. Points go back to the lots they came from, stored value to principal and bonus as
    the payment took them. Then the points the refunded part earned are taken back, the level is
    re-evaluated (an upgrade the sale made is undone, and its unused level-up coupons withdrawn),
    and once the whole sale has come back its coupons are reissued where the template says so.
    """
    checkout = Checkout.objects.filter(sale_id=refund.sale_id).select_related("sale", "wallet_entry").first()
    if checkout is None:
        return None
    done = CheckoutRefund.objects.filter(refund=refund).first()
    if done is not None:
        return done
    at = refund.refunded_at
    before = checkout.refunds.aggregate(points=Sum("points_returned", default=0),
                                        points_fen=Sum("points_returned_fen", default=0),
                                        stored=Sum("stored_value_returned_fen", default=0),
                                        other=Sum("other_returned_fen", default=0))
    left = [checkout.points_paid_fen - before["points_fen"], checkout.stored_value_paid_fen - before["stored"],
            checkout.other_paid_fen - before["other"]]
    points_fen, stored, other = pricing.allocate(refund.amount_fen, left)
    # points in proportion to their value given back so far; all of them with the last fen
    given_fen = before["points_fen"] + points_fen
    points_total = checkout.points_paid if given_fen == checkout.points_paid_fen else \
        checkout.points_paid * given_fen // checkout.points_paid_fen
    points = points_total - before["points"]
    if points:
        points_return_payment(refund=refund, points=points, paid=checkout.points_allocations, at=at)
    if stored:
        wallet_refund_payment(payment=checkout.wallet_entry, amount_fen=stored, idempotency_key=f"refund:{refund.pk}",
                              at=at, store=refund.store)
    reversal = points_reverse_for_refund(refund=refund, at=at)
    change = tier_evaluate_after_refund(refund=refund, at=at)
    if change is not None and checkout.tier_change_id:
        Coupon.objects.filter(issue_key__endswith=f":level_up:{checkout.tier_change_id}",
                              status=CouponStatus.ISSUED).update(status=CouponStatus.VOID,
                                                                 note=f"level-up undone by refund {refund.refund_no}")
    refunded = Refund.objects.filter(sale_id=refund.sale_id).aggregate(a=Sum("amount_fen", default=0))["a"]
    if refunded >= checkout.sale.total_fen:
        for redemption in CouponRedemption.objects.filter(sale_id=refund.sale_id).order_by("pk"):
            coupon_reissue_for_refund(redemption=redemption, refund=refund, at=at)
    return CheckoutRefund.objects.create(
        refund=refund, checkout=checkout, points_returned=points, points_returned_fen=points_fen,
        stored_value_returned_fen=stored, other_returned_fen=other,
        points_reversed=-(reversal.delta + reversal.pending_delta) if reversal else 0,
        points_shortfall=reversal.shortfall if reversal else 0, tier_change=change, created_at=timezone.now(),
    )
