"""Configuration forms of the programme, for operations managers. Each validates the whole row
(the model's own rules, its constraints) and, where one row depends on others, across rows."""

import dataclasses
from decimal import Decimal

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from vipcare.loyalty.models import EarnMultiplier, PointsCampaign, PointsPolicy, Tier, TierPolicy
from vipcare.offers.models import CouponRule, CouponTemplate, MemberDay, OffersPolicy
from vipcare.wallet.models import TopUpPlan


class TierForm(forms.ModelForm):
    """A level, with its services as separate fields, and thresholds that rise with the rank."""

    parking_hours = forms.IntegerField(label=_("free parking (hours)"), min_value=0, max_value=24, initial=0)
    lounge = forms.BooleanField(label=_("VIP lounge"), required=False)
    priority_delivery = forms.BooleanField(label=_("priority delivery"), required=False)

    class Meta:
        model = Tier
        fields = ["code", "name", "rank", "threshold_fen", "threshold_points", "single_purchase_fen",
                  "discount_percent", "points_multiplier", "birthday_discount_percent", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        services = self.instance.services or {}
        for name in ("parking_hours", "lounge", "priority_delivery"):
            self.fields[name].initial = services.get(name, self.fields[name].initial)

    def clean(self):
        data = super().clean()
        rank, active = data.get("rank"), data.get("is_active")
        if rank is None or not active:
            return data
        others = Tier.objects.filter(is_active=True).exclude(pk=self.instance.pk)
        for field in ("threshold_fen", "threshold_points"):
            value = data.get(field)
            if value is None:
                continue
            lower = others.filter(rank__lt=rank, **{f"{field}__gte": value}).order_by("-rank").first()
            higher = others.filter(rank__gt=rank, **{f"{field}__lte": value}).order_by("rank").first()
            if lower is not None:
                self.add_error(field, _("must be above %(tier)s's (%(value)s)")
                               % {"tier": lower.name, "value": getattr(lower, field)})
            elif higher is not None:
                self.add_error(field, _("must be below %(tier)s's (%(value)s)")
                               % {"tier": higher.name, "value": getattr(higher, field)})
        return data

    def save(self, commit=True):
        services = dict(self.instance.services or {})
        services.update({name: self.cleaned_data[name] for name in ("parking_hours", "lounge", "priority_delivery")})
        self.instance.services = services
        return super().save(commit)


class DatesInOrderForm(forms.ModelForm):
    """Rows with a date range: the last day is not before the first."""

    def clean(self):
        data = super().clean()
        first = data.get("starts_on") or data.get("valid_from")
        last = data.get("ends_on") or data.get("valid_until")
        if first and last and last < first:
            self.add_error("ends_on" if "ends_on" in self.fields else "valid_until",
                           _("The last day is before the first."))
        return data


@dataclasses.dataclass(frozen=True)
class ConfigKind:
    """One kind of configuration row the Programme page lets operations managers edit."""

    model: type[models.Model]
    title: str
    form: type[forms.ModelForm] | None = None
    singleton: bool = False  # one row, pk=1

    def form_class(self) -> type[forms.ModelForm]:
        if self.form is not None:
            return self.form
        return forms.modelform_factory(self.model, form=DatesInOrderForm, fields="__all__",
                                       formfield_callback=_date_picker)


def _date_picker(field: models.Field, **kwargs) -> forms.Field | None:
    """Model fields as form fields, dates with the browser's date picker."""
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
        kwargs["widget"] = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return field.formfield(**kwargs)


CONFIG: dict[str, ConfigKind] = {
    "levels": ConfigKind(Tier, _("Level"), form=TierForm),
    "level-policy": ConfigKind(TierPolicy, _("Level policy"), singleton=True),
    "points-policy": ConfigKind(PointsPolicy, _("Points policy"), singleton=True),
    "multipliers": ConfigKind(EarnMultiplier, _("Earning multiplier")),
    "campaigns": ConfigKind(PointsCampaign, _("Points campaign")),
    "plans": ConfigKind(TopUpPlan, _("Top-up plan")),
    "coupon-templates": ConfigKind(CouponTemplate, _("Coupon template")),
    "coupon-rules": ConfigKind(CouponRule, _("Coupon rule")),
    "member-days": ConfigKind(MemberDay, _("Member day")),
    "offers-policy": ConfigKind(OffersPolicy, _("Birthday benefit"), singleton=True),
}


# --- acting on a member from the member 360 (stored value, points, level) -----------------------------


class MemberActionForm(forms.Form):
    """The per-render token that makes a double-submitted form act once."""

    token = forms.CharField(max_length=64)


class TopUpForm(MemberActionForm):
    """Load the card by a plan on offer today, or by a plain amount in yuan (no bonus)."""

    plan = forms.ModelChoiceField(queryset=TopUpPlan.objects.none(), required=False)
    amount = forms.DecimalField(min_value=Decimal("0.01"), max_digits=10, decimal_places=2, required=False)
    store = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, plans, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = plans
        self.fields["store"].queryset = stores

    def clean(self):
        data = super().clean()
        if not self.errors and (data.get("plan") is None) == (data.get("amount") is None):
            raise forms.ValidationError(_("Choose a top-up plan or enter an amount, not both."))
        return data

    @property
    def pay_fen(self) -> int | None:
        amount = self.cleaned_data.get("amount")
        return None if amount is None else int(amount * 100)


class CashOutForm(MemberActionForm):
    store = forms.ModelChoiceField(queryset=None)
    reason = forms.CharField(max_length=200)

    def __init__(self, *args, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores


class PointsAdjustForm(MemberActionForm):
    points = forms.IntegerField(min_value=-10_000_000, max_value=10_000_000)
    reason = forms.CharField(max_length=200)


class TierSetForm(forms.Form):
    tier = forms.ModelChoiceField(queryset=Tier.objects.filter(is_active=True), required=False)
    note = forms.CharField(max_length=200)
