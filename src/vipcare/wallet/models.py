"""Stored value (储值卡): top-up plans, the member's card balance and its append-only ledger.

Principal (本金, what the member paid) and bonus (赠送金, what the plan gave) are kept apart:
principal is a debt to the member that can be paid out, bonus is not. Amounts are integer fen.
"""

import datetime
from fractions import Fraction

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vipcare.wallet import rules
from vipcare.wallet.choices import WalletEntryKind, WalletHoldStatus


class TopUpPlan(models.Model):
    """A top-up offer such as "pay ¥100, get ¥180" (pay 10000 fen, bonus 8000 fen)."""

    name = models.CharField(_("name"), max_length=100)
    pay_fen = models.BigIntegerField(_("pay (fen)"))
    bonus_fen = models.BigIntegerField(_("bonus (fen)"), default=0)
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("to (inclusive)"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("top-up plan")
        verbose_name_plural = _("top-up plans")
        ordering = ["pay_fen"]
        constraints = [
            models.CheckConstraint(condition=Q(pay_fen__gt=0), name="top_up_plan_pay_positive"),
            models.CheckConstraint(condition=Q(bonus_fen__gte=0), name="top_up_plan_bonus_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    def runs_on(self, day: datetime.date) -> bool:
        return self.is_active and (self.starts_on is None or self.starts_on <= day) and (
            self.ends_on is None or day <= self.ends_on)

    @property
    def effective_discount(self) -> Fraction:
        return rules.effective_discount(self.pay_fen, self.bonus_fen)

    def effective_price_fen(self, list_price_fen: int) -> int:
        return rules.effective_price_fen(list_price_fen, self.pay_fen, self.bonus_fen)

    def yearly_cost(self, members: int, top_ups_per_year: float) -> int:
        """Bonus this plan gives away in a year, in fen."""
        return rules.yearly_bonus_cost_fen(bonus_fen=self.bonus_fen, members=members,
                                           top_ups_per_year=top_ups_per_year)


class WalletAccount(models.Model):
    """A member's stored value; the balances are caches of the sums of the entries."""

    member = models.OneToOneField("members.Member", on_delete=models.PROTECT, related_name="wallet",
                                  verbose_name=_("member"))
    principal_fen = models.BigIntegerField(_("principal (fen)"), default=0)
    bonus_fen = models.BigIntegerField(_("bonus (fen)"), default=0)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("stored-value account")
        verbose_name_plural = _("stored-value accounts")
        constraints = [
            models.CheckConstraint(condition=Q(principal_fen__gte=0), name="wallet_principal_not_negative"),
            models.CheckConstraint(condition=Q(bonus_fen__gte=0), name="wallet_bonus_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.principal_fen}+{self.bonus_fen}"

    @property
    def balance_fen(self) -> int:
        return self.principal_fen + self.bonus_fen


class WalletHold(models.Model):
    """Stored value set aside at the till until the payment is captured or released (or times out)."""

    account = models.ForeignKey(WalletAccount, on_delete=models.PROTECT, related_name="holds")
    principal_fen = models.BigIntegerField()
    bonus_fen = models.BigIntegerField()
    status = models.CharField(_("status"), max_length=10, choices=WalletHoldStatus.choices,
                              default=WalletHoldStatus.HELD)
    expires_at = models.DateTimeField(_("expires at"))
    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(principal_fen__gte=0, bonus_fen__gte=0),
                                   name="wallet_hold_not_negative"),
        ]

    def __str__(self) -> str:
        return f"hold {self.pk}: {self.principal_fen}+{self.bonus_fen} ({self.status})"

    @property
    def amount_fen(self) -> int:
        return self.principal_fen + self.bonus_fen


class WalletEntry(models.Model):
    """One change of a stored-value account. Never updated or deleted."""

    account = models.ForeignKey(WalletAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(_("kind"), max_length=20, choices=WalletEntryKind.choices)
    principal_delta = models.BigIntegerField(_("principal change (fen)"))
    bonus_delta = models.BigIntegerField(_("bonus change (fen)"))
    principal_after = models.BigIntegerField(_("principal after (fen)"))
    bonus_after = models.BigIntegerField(_("bonus after (fen)"))
    idempotency_key = models.CharField(max_length=128)
    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("store"))
    sale = models.ForeignKey("sales.Sale", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    plan = models.ForeignKey(TopUpPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    hold = models.ForeignKey(WalletHold, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The payment (or captured hold) a refund gives back.
    reverses = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="refunds")
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        verbose_name = _("stored-value entry")
        verbose_name_plural = _("stored-value entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "idempotency_key"], name="wallet_entry_key_once_per_account"),
            models.CheckConstraint(condition=Q(principal_after__gte=0, bonus_after__gte=0),
                                   name="wallet_entry_after_not_negative"),
        ]
        indexes = [models.Index(fields=["account", "created_at"]), models.Index(fields=["kind", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.principal_delta:+d}/{self.bonus_delta:+d}"

    @property
    def amount_fen(self) -> int:
        return abs(self.principal_delta + self.bonus_delta)
