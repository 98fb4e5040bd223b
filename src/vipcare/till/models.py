"""The till (收银): what one checkout did across the programme, so a refund can reverse it.

A `Checkout` is written in the same transaction as its sale, its points and stored-value
payments, its coupon redemptions, its points earned and its level change; it keeps the price
breakdown and the tenders (points, stored value, other: cash or card). A `CheckoutRefund` keeps
what each refund gave back. A `TillHold` groups the points and stored value a till set aside for
one payment (two-phase: hold, then a checkout captures it or the till releases it).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vipcare.till.choices import TillHoldStatus


class TillHold(models.Model):
    """Points and/or stored value held for one payment at one store until a checkout captures
    them, the till releases them, or the hold times out (`vipcare till release-holds`)."""

    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+", db_index=False)
    points_hold = models.OneToOneField("loyalty.PointsHold", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="till_hold")
    wallet_hold = models.OneToOneField("wallet.WalletHold", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="till_hold")
    points = models.BigIntegerField(_("points"), default=0)
    points_fen = models.BigIntegerField(_("points value (fen)"), default=0)
    stored_value_fen = models.BigIntegerField(_("stored value (fen)"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=TillHoldStatus.choices,
                              default=TillHoldStatus.HELD)
    expires_at = models.DateTimeField(_("expires at"))
    created_at = models.DateTimeField(_("time"))
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("till hold")
        verbose_name_plural = _("till holds")
        indexes = [models.Index(fields=["member", "status", "expires_at"]),
                   models.Index(fields=["status", "expires_at"])]
        constraints = [models.CheckConstraint(condition=Q(points__gte=0, stored_value_fen__gte=0),
                                              name="till_hold_not_negative")]

    def __str__(self) -> str:
        return f"hold {self.pk}: {self.points} points, {self.stored_value_fen} fen ({self.status})"


class Checkout(models.Model):
    """One sale through the till with everything the programme did for it."""

    sale = models.OneToOneField("sales.Sale", on_delete=models.PROTECT, related_name="checkout")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+", db_index=False)
    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, related_name="+")
    tier = models.ForeignKey("loyalty.Tier", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("level at the sale"))
    # the price
    gross_fen = models.BigIntegerField(_("before the programme's discounts (fen)"))
    level_discount_fen = models.BigIntegerField(_("level discount (fen)"), default=0)
    birthday_discount_fen = models.BigIntegerField(_("birthday discount (fen)"), default=0)
    member_day_discount_fen = models.BigIntegerField(_("member day discount (fen)"), default=0)
    coupon_discount_fen = models.BigIntegerField(_("coupon discount (fen)"), default=0)
    total_fen = models.BigIntegerField(_("total (fen)"))
    # the tenders: points + stored value + other (cash, card) = total
    points_paid = models.BigIntegerField(_("points paid"), default=0)
    points_paid_fen = models.BigIntegerField(_("paid with points (fen)"), default=0)
    stored_value_paid_fen = models.BigIntegerField(_("paid with stored value (fen)"), default=0)
    other_paid_fen = models.BigIntegerField(_("paid otherwise (fen)"), default=0)
    # what paid: a spend entry, or the capture of a hold
    points_entry = models.ForeignKey("loyalty.PointsEntry", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    points_allocations = models.JSONField(default=list, blank=True)  # [[lot id, points], …] the payment took
    wallet_entry = models.ForeignKey("wallet.WalletEntry", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    hold = models.OneToOneField(TillHold, on_delete=models.PROTECT, null=True, blank=True, related_name="checkout")
    # what it earned and changed
    points_earned = models.BigIntegerField(_("points earned"), default=0)
    tier_change = models.ForeignKey("loyalty.TierChange", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("checkout")
        verbose_name_plural = _("checkouts")
        indexes = [models.Index(fields=["member", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_fen=models.F("points_paid_fen") + models.F("stored_value_paid_fen")
                            + models.F("other_paid_fen")),
                name="checkout_tenders_add_up"),
            models.CheckConstraint(condition=Q(points_paid_fen__gte=0, stored_value_paid_fen__gte=0,
                                               other_paid_fen__gte=0, points_paid__gte=0),
                                   name="checkout_tenders_not_negative"),
        ]

    def __str__(self) -> str:
        return f"checkout {self.pk} (sale {self.sale_id})"


class CheckoutRefund(models.Model):
    """What one refund of a checkout gave back: each tender in proportion to what is left of it,
    the points the sale earned, the level, and reissued coupons (on `Coupon.reissue_refund`)."""

    refund = models.OneToOneField("sales.Refund", on_delete=models.PROTECT, related_name="checkout_refund")
    checkout = models.ForeignKey(Checkout, on_delete=models.PROTECT, related_name="refunds")
    points_returned = models.BigIntegerField(_("points given back"), default=0)
    points_returned_fen = models.BigIntegerField(_("points given back (fen)"), default=0)
    stored_value_returned_fen = models.BigIntegerField(_("stored value given back (fen)"), default=0)
    other_returned_fen = models.BigIntegerField(_("cash or card to give back (fen)"), default=0)
    points_reversed = models.BigIntegerField(_("earned points taken back"), default=0)
    points_shortfall = models.BigIntegerField(_("earned points already spent"), default=0)
    tier_change = models.ForeignKey("loyalty.TierChange", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("checkout refund")
        verbose_name_plural = _("checkout refunds")

    def __str__(self) -> str:
        return f"refund {self.refund_id} of checkout {self.checkout_id}"
