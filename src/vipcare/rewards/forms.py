"""The catalogue's form for operations managers: the model's own rules, dates with a date picker,
the stores as checkboxes."""

from django import forms

from vipcare.offers.models import CouponTemplate
from vipcare.org.models import Store
from vipcare.rewards.models import Reward


class RewardForm(forms.ModelForm):
    class Meta:
        model = Reward
        fields = ["code", "name", "kind", "description", "points", "coupon_template", "stock", "per_member_limit",
                  "starts_on", "ends_on", "stores", "is_active"]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "stores": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stores"].queryset = Store.objects.filter(is_active=True).order_by("code")
        self.fields["coupon_template"].queryset = CouponTemplate.objects.filter(is_active=True)
