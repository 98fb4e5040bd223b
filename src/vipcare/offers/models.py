"""Offers (优惠): coupon templates and the coupons issued from them, the rules that issue them,
member days and the birthday benefit.

A coupon is redeemed exactly once: its status moves from issued to redeemed in the checkout's
transaction (a conditional update on a locked row), and `CouponRedemption` has one row per
coupon at most (a one-to-one key in the database), so even code that skipped the status check
could not use a coupon twice. Issuing is idempotent too: every coupon has a unique `issue_key`
(the rule and occasion, the bulk batch, the staff form's token, the refund that reissued it).
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vipcare.offers.choices import (
    BirthdayWindow,
    CouponKind,
    CouponSource,
    CouponStatus,
    LimitPeriod,
    RuleTrigger,
    Stacking,
)

PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class CouponTemplate(models.Model):
    """What a coupon gives (¥50 off above ¥300; 10% off up to ¥100; a gift), how long it is valid,
    how many a member may get, and how it combines with others."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("title"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=CouponKind.choices)
    amount_fen = models.BigIntegerField(_("amount off (fen)"), default=0)
    percent = models.DecimalField(_("percent off"), max_digits=5, decimal_places=2, default=Decimal(0),
                                  validators=PERCENT)
    cap_fen = models.BigIntegerField(_("at most (fen)"), null=True, blank=True,
                                     help_text=_("Percent off: the largest discount; empty: no cap."))
    min_spend_fen = models.BigIntegerField(_("minimum spend (fen)"), default=0,
                                           help_text=_("The sale, after the discounts applied before this "
                                                       "coupon, must reach this amount."))
    gift = models.CharField(_("gift"), max_length=100, blank=True, help_text=_("Gift coupons: what is handed over."))
    valid_days = models.PositiveIntegerField(
        _("valid for days"), null=True, blank=True,
        help_text=_("Counting the day of issue; or give fixed dates instead."))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until (inclusive)"), null=True, blank=True)
    per_member_limit = models.PositiveIntegerField(_("per member at most"), default=0,
                                                   help_text=_("0: no limit. Reissued coupons do not count."))
    limit_period = models.CharField(_("limit period"), max_length=5, choices=LimitPeriod.choices,
                                    default=LimitPeriod.EVER)
    stacking = models.CharField(_("stacking"), max_length=10, choices=Stacking.choices,
                                default=Stacking.COMBINABLE)
    priority = models.PositiveSmallIntegerField(_("priority"), default=100,
                                                help_text=_("Lower is applied first among a sale's coupons."))
    reissue_on_refund = models.BooleanField(
        _("reissue when the sale is refunded"), default=True,
        help_text=_("When the whole sale comes back, the member gets a new coupon for the time the used one "
                    "had left."))
    is_active = models.BooleanField(_("active"), default=True, help_text=_("Inactive: no more issuing; coupons "
                                                                           "already issued stay valid."))

    class Meta:
        verbose_name = _("coupon template")
        verbose_name_plural = _("coupon templates")
        ordering = ["priority", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="coupon_template_amount_not_negative"),
            models.CheckConstraint(condition=Q(percent__gte=0, percent__lte=100),
                                   name="coupon_template_percent_is_a_percentage"),
            models.CheckConstraint(condition=Q(min_spend_fen__gte=0), name="coupon_template_min_spend_not_negative"),
            models.CheckConstraint(condition=Q(cap_fen__isnull=True) | Q(cap_fen__gte=0),
                                   name="coupon_template_cap_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.kind == CouponKind.AMOUNT_OFF and not self.amount_fen:
            errors["amount_fen"] = _("An amount-off coupon needs its amount.")
        if self.kind == CouponKind.PERCENT_OFF and not self.percent:
            errors["percent"] = _("A percent-off coupon needs its percentage.")
        if self.kind == CouponKind.GIFT and not self.gift.strip():
            errors["gift"] = _("Say what the gift is.")
        fixed = self.valid_from is not None or self.valid_until is not None
        if self.valid_days is None and not fixed:
            errors["valid_days"] = _("Give the days a coupon is valid, or fixed dates.")
        if self.valid_days is not None and fixed:
            errors["valid_days"] = _("Give either days or fixed dates, not both.")
        if self.valid_days == 0:
            errors["valid_days"] = _("At least one day.")
        if fixed and (self.valid_from is None or self.valid_until is None):
            errors["valid_until"] = _("Give both dates.")
        elif fixed and self.valid_until < self.valid_from:
            errors["valid_until"] = _("The last day is before the first.")
        if errors:
            raise ValidationError(errors)

    def describe(self) -> str:
        """A short statement of the benefit: "¥50 off from ¥300", "10% off, at most ¥100", "gift: …"."""
        def yuan(fen: int) -> str:
            return f"¥{fen / 100:,.2f}".replace(".00", "")

        if self.kind == CouponKind.AMOUNT_OFF:
            text = _("%(amount)s off") % {"amount": yuan(self.amount_fen)}
        elif self.kind == CouponKind.PERCENT_OFF:
            text = _("%(percent)s%% off") % {"percent": f"{self.percent.normalize():f}"}
            if self.cap_fen is not None:
                text += _(", at most %(cap)s") % {"cap": yuan(self.cap_fen)}
        else:
            text = _("gift: %(gift)s") % {"gift": self.gift}
        if self.min_spend_fen:
            text += _(" from %(min)s") % {"min": yuan(self.min_spend_fen)}
        return text


class Coupon(models.Model):
    """A coupon a member holds. Expired is derived (issued and past `valid_until`), not stored."""

    code = models.CharField(_("coupon code"), max_length=20, unique=True)
    template = models.ForeignKey(CouponTemplate, on_delete=models.PROTECT, related_name="coupons",
                                 verbose_name=_("template"))
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="coupons",
                               verbose_name=_("member"), db_index=False)
    status = models.CharField(_("status"), max_length=10, choices=CouponStatus.choices, default=CouponStatus.ISSUED)
    source = models.CharField(_("source"), max_length=10, choices=CouponSource.choices)
    issue_key = models.CharField(max_length=160, unique=True)
    rule = models.ForeignKey("offers.CouponRule", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    issued_at = models.DateTimeField(_("issued at"))
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), help_text=_("The coupon lapses at this moment."))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    reissued_from = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="reissued_as")
    reissue_refund = models.ForeignKey("sales.Refund", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+")
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["valid_until", "pk"]
        indexes = [models.Index(fields=["member", "status", "valid_until"]),
                   models.Index(fields=["template", "member"])]
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__gt=models.F("valid_from")),
                                   name="coupon_validity_in_order"),
            models.CheckConstraint(condition=Q(status=CouponStatus.REDEEMED, redeemed_at__isnull=False)
                                   | ~Q(status=CouponStatus.REDEEMED), name="coupon_redeemed_has_time"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.template})"

    def is_live(self, at: datetime.datetime) -> bool:
        return self.status == CouponStatus.ISSUED and self.valid_from <= at < self.valid_until


class CouponRedemption(models.Model):
    """The use of a coupon on a sale: at most one per coupon, enforced by the database."""

    coupon = models.OneToOneField(Coupon, on_delete=models.PROTECT, related_name="redemption")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+", db_index=False)
    sale = models.ForeignKey("sales.Sale", on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, related_name="+")
    discount_fen = models.BigIntegerField(_("discount (fen)"))
    redeemed_at = models.DateTimeField(_("redeemed at"))

    class Meta:
        verbose_name = _("coupon redemption")
        verbose_name_plural = _("coupon redemptions")
        indexes = [models.Index(fields=["member", "redeemed_at"])]
        constraints = [models.CheckConstraint(condition=Q(discount_fen__gte=0),
                                              name="coupon_redemption_discount_not_negative")]

    def __str__(self) -> str:
        return f"{self.coupon_id} on sale {self.sale_id}"


class CouponRule(models.Model):
    """Issues a template's coupons on an occasion: the birthday (N days ahead), the member day, a
    new member's enrolment, or reaching a level. Run by `vipcare offers issue --date`; level-ups at
    the till issue at once."""

    name = models.CharField(_("title"), max_length=100)
    trigger = models.CharField(_("occasion"), max_length=12, choices=RuleTrigger.choices)
    template = models.ForeignKey(CouponTemplate, on_delete=models.PROTECT, related_name="rules",
                                 verbose_name=_("coupon template"))
    tier = models.ForeignKey("loyalty.Tier", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("level"),
                             help_text=_("Level up: the level reached (empty: any upgrade). Other occasions: "
                                         "members at this level or above (empty: every member)."))
    days_before = models.PositiveSmallIntegerField(_("days ahead"), default=0,
                                                   help_text=_("Birthday: issue this many days before."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("coupon rule")
        verbose_name_plural = _("coupon rules")
        ordering = ["trigger", "name"]

    def __str__(self) -> str:
        return self.name


class MemberDay(models.Model):
    """会员日: a day of the month or of the week with an extra discount for members."""

    name = models.CharField(_("title"), max_length=100)
    day_of_month = models.PositiveSmallIntegerField(_("day of the month"), null=True, blank=True,
                                                    validators=[MinValueValidator(1), MaxValueValidator(31)])
    weekday = models.PositiveSmallIntegerField(_("day of the week"), null=True, blank=True,
                                               choices=[(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")),
                                                        (3, _("Thursday")), (4, _("Friday")), (5, _("Saturday")),
                                                        (6, _("Sunday"))])
    discount_percent = models.DecimalField(_("extra discount (%)"), max_digits=5, decimal_places=2,
                                           default=Decimal(0), validators=PERCENT)
    min_tier = models.ForeignKey("loyalty.Tier", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("from level"), help_text=_("Empty: every member."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("member day")
        verbose_name_plural = _("member days")
        constraints = [
            models.CheckConstraint(condition=Q(day_of_month__isnull=True) ^ Q(weekday__isnull=True),
                                   name="member_day_by_month_or_week"),
            models.CheckConstraint(condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                                   name="member_day_discount_is_a_percentage"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (self.day_of_month is None) == (self.weekday is None):
            raise ValidationError({"day_of_month": _("Give a day of the month or a day of the week, not both.")})

    def falls_on(self, day: datetime.date) -> bool:
        if self.day_of_month is not None:
            return day.day == self.day_of_month
        return day.weekday() == self.weekday


class OffersPolicy(models.Model):
    """When the birthday benefit applies. One row (pk=1); see `selectors.offers_policy()`.
    The extra discount itself is each level's `birthday_discount_percent`."""

    birthday_window = models.CharField(_("birthday benefit applies"), max_length=5, choices=BirthdayWindow.choices,
                                       default=BirthdayWindow.DAY)
    birthday_default_percent = models.DecimalField(
        _("birthday discount without a level (%)"), max_digits=5, decimal_places=2, default=Decimal(0),
        validators=PERCENT)

    class Meta:
        verbose_name = _("offers policy")
        verbose_name_plural = _("offers policy")

    def __str__(self) -> str:
        return str(self.get_birthday_window_display())
