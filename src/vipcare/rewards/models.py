"""The rewards catalogue (积分兑换) and the members' redemptions.

A reward is a gift with stock or a coupon template, at a price in points. `Reward.stock` is what
is left to hand out: a redemption takes one with a conditional UPDATE (never below zero, checked
by the database too) and a cancelled one gives it back, so stock + live redemptions stays what
was put in. The points of a redemption are held on the member's points account (loyalty's
two-phase hold) until the gift is handed over (captured) or the redemption is cancelled
(released to the lots they came from).
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vipcare.rewards.choices import RedemptionStatus, RewardKind


class Reward(models.Model):
    """One entry of the catalogue: what it is, what it costs in points, how many are left, who may
    have how many, when and where it can be redeemed."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("reward name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=RewardKind.choices, default=RewardKind.GIFT)
    description = models.CharField(_("description"), max_length=200, blank=True)
    points = models.PositiveIntegerField(_("price in points"))
    coupon_template = models.ForeignKey(
        "offers.CouponTemplate", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("coupon template"), help_text=_("Coupon rewards: the coupon the member gets."))
    stock = models.PositiveIntegerField(
        _("stock left"), null=True, blank=True,
        help_text=_("How many are left to hand out. Empty: no limit (coupons only)."))
    per_member_limit = models.PositiveIntegerField(_("per member at most"), default=0,
                                                   help_text=_("0: no limit. Cancelled redemptions do not count."))
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("to (inclusive)"), null=True, blank=True)
    stores = models.ManyToManyField("org.Store", blank=True, related_name="+", verbose_name=_("stores"),
                                    help_text=_("Where it can be redeemed and handed out. None: every store."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["points", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="reward_points_positive"),
            models.CheckConstraint(condition=Q(stock__isnull=True) | Q(stock__gte=0), name="reward_stock_not_negative"),
            models.CheckConstraint(condition=~Q(kind="coupon") | Q(coupon_template__isnull=False),
                                   name="reward_coupon_has_template"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.kind == RewardKind.COUPON and self.coupon_template_id is None:
            errors["coupon_template"] = _("A coupon reward needs its coupon template.")
        if self.kind == RewardKind.GIFT and self.coupon_template_id is not None:
            errors["coupon_template"] = _("A gift has no coupon template.")
        if self.kind == RewardKind.GIFT and self.stock is None:
            errors["stock"] = _("A gift needs its stock.")
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The last day is before the first.")
        if errors:
            raise ValidationError(errors)

    def runs_on(self, day: datetime.date) -> bool:
        return self.is_active and (self.starts_on is None or self.starts_on <= day) and (
            self.ends_on is None or day <= self.ends_on)


class Redemption(models.Model):
    """A member's redemption of a reward. The key makes a retried request redeem once."""

    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions",
                               verbose_name=_("reward"))
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="redemptions",
                               verbose_name=_("member"))
    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("store"))
    points = models.PositiveIntegerField(_("points"))
    # Took one from the reward's stock (given back on cancel); false for a reward without a stock limit.
    from_stock = models.BooleanField(default=False)
    status = models.CharField(_("status"), max_length=12, choices=RedemptionStatus.choices,
                              default=RedemptionStatus.REDEEMED)
    idempotency_key = models.CharField(max_length=200)
    points_hold = models.OneToOneField("loyalty.PointsHold", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+")
    coupon = models.OneToOneField("offers.Coupon", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("coupon"))
    redeemed_at = models.DateTimeField(_("redeemed at"))
    redeemed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-redeemed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "idempotency_key"], name="redemption_key_once_per_member"),
        ]
        indexes = [models.Index(fields=["member", "reward", "status"])]

    def __str__(self) -> str:
        return f"{self.reward} → {self.member_id} ({self.status})"
