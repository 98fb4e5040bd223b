"""The Programme page (levels, points, stored value and its liability, coupons), its configuration
forms for operations managers, and handing a member a coupon from the member 360 page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vipcare.core.views import staff_required
from vipcare.loyalty.models import MemberTier
from vipcare.loyalty.services import ADJUST_ROLES, points_adjust, tier_set
from vipcare.members.selectors import members_visible_to
from vipcare.offers.models import Coupon
from vipcare.offers.selectors import templates_issuable
from vipcare.offers.services import coupon_issue, coupon_void
from vipcare.org.selectors import stores_visible_to
from vipcare.programme import selectors
from vipcare.programme.forms import CONFIG, CashOutForm, PointsAdjustForm, TierSetForm, TopUpForm
from vipcare.programme.panels import CONFIG_ROLES, OVERVIEW_ROLES, TOP_UP_ROLES
from vipcare.wallet.selectors import top_up_plans_on_offer
from vipcare.wallet.services import CASH_OUT_ROLES, wallet_cash_out, wallet_top_up


@staff_required(roles=OVERVIEW_ROLES)
def overview(request):
    context = selectors.programme_summary()
    context["liability"] = selectors.liability_report()
    context["may_configure"] = request.staff.role in CONFIG_ROLES
    return render(request, "programme/overview.html", context)


@staff_required(roles=CONFIG_ROLES)
def config_edit(request, kind: str, pk: int | None = None):
    config = CONFIG.get(kind)
    if config is None:
        raise Http404
    if config.singleton:
        instance = config.model.objects.get_or_create(pk=1)[0]
    elif pk is not None:
        instance = get_object_or_404(config.model, pk=pk)
    else:
        instance = None
    form = config.form_class()(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("%(what)s saved.") % {"what": config.title})
        return redirect("programme:overview")
    return render(request, "programme/config_form.html", {"form": form, "config": config, "instance": instance})


@require_POST
@staff_required
def member_coupon_issue(request, pk: int):
    """Give the member one coupon by hand. The form's token makes a double submit issue once."""
    member = get_object_or_404(members_visible_to(request.staff), pk=pk)
    template = templates_issuable().filter(pk=request.POST.get("template")).first()
    token = (request.POST.get("token") or "").strip()[:64]
    if template is None or not token:
        messages.error(request, _("Choose a coupon to give."))
        return redirect("members:member_detail", pk=member.pk)
    try:
        coupon = coupon_issue(template=template, member=member, issue_key=f"manual:{request.user.pk}:{token}",
                              issued_by=request.user, note=(request.POST.get("note") or "")[:200])
    except ValidationError as error:
        messages.error(request, _("The coupon was not issued: %(why)s") % {"why": "; ".join(error.messages)})
    else:
        messages.success(request, _("Coupon %(code)s (%(name)s) issued.") % {"code": coupon.code,
                                                                              "name": template.name})
    return redirect("members:member_detail", pk=member.pk)


@require_POST
@staff_required
def coupon_void_view(request, pk: int):
    coupon = get_object_or_404(Coupon, pk=pk, member__in=members_visible_to(request.staff))
    try:
        coupon_void(coupon=coupon, voided_by=request.user, reason=request.POST.get("reason") or "")
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    else:
        messages.success(request, _("Coupon %(code)s withdrawn.") % {"code": coupon.code})
    return redirect("members:member_detail", pk=coupon.member_id)


# --- stored value, points and level from the member 360: each role checked here and again in the service;
# a bad form or a refused change comes back as a message on the 360 and changes nothing.


def _form_refused(request, form) -> None:
    messages.error(request, _("Nothing was changed: %(why)s") % {
        "why": "; ".join(str(error) for errors in form.errors.values() for error in errors)})


def _act(request, member, form, action, done_message: str):
    """A bad form, or the service call's ValidationError, becomes a message; success another."""
    if not form.is_valid():
        _form_refused(request, form)
        return redirect("members:member_detail", pk=member.pk)
    try:
        action()
    except ValidationError as error:
        messages.error(request, _("Nothing was changed: %(why)s") % {"why": "; ".join(error.messages)})
    else:
        messages.success(request, done_message)
    return redirect("members:member_detail", pk=member.pk)


def _action_key(request, form, what: str) -> str:
    return f"{what}:{request.user.pk}:{form.cleaned_data['token']}"


@require_POST
@staff_required(roles=TOP_UP_ROLES)
def member_top_up(request, pk: int):
    member = get_object_or_404(members_visible_to(request.staff), pk=pk)
    form = TopUpForm(request.POST, plans=top_up_plans_on_offer(), stores=stores_visible_to(request.staff))
    return _act(request, member, form, lambda: wallet_top_up(
        member=member, idempotency_key=_action_key(request, form, "desk-top-up"), store=form.cleaned_data["store"],
        plan=form.cleaned_data["plan"], pay_fen=form.pay_fen, created_by=request.user), _("Card topped up."))


@require_POST
@staff_required(roles=CASH_OUT_ROLES)
def member_cash_out(request, pk: int):
    member = get_object_or_404(members_visible_to(request.staff), pk=pk)
    form = CashOutForm(request.POST, stores=stores_visible_to(request.staff))
    return _act(request, member, form, lambda: wallet_cash_out(
        member=member, idempotency_key=_action_key(request, form, "desk-cash-out"), store=form.cleaned_data["store"],
        paid_by=request.user, reason=form.cleaned_data["reason"], request=request),
        _("Unused principal paid out; the bonus is forfeited."))


@require_POST
@staff_required(roles=ADJUST_ROLES)
def member_points_adjust(request, pk: int):
    member = get_object_or_404(members_visible_to(request.staff), pk=pk)
    form = PointsAdjustForm(request.POST)
    return _act(request, member, form, lambda: points_adjust(
        member=member, points=form.cleaned_data["points"], reason=form.cleaned_data["reason"],
        adjusted_by=request.user, idempotency_key=_action_key(request, form, "desk-adjust"), request=request),
        _("Points adjusted."))


@require_POST
@staff_required(roles=ADJUST_ROLES)
def member_tier_set(request, pk: int):
    member = get_object_or_404(members_visible_to(request.staff), pk=pk)
    form = TierSetForm(request.POST)
    # tier_set has no idempotency key: a repeated submit of the same level is told so and writes nothing
    if form.is_valid():
        tier = form.cleaned_data["tier"]
        current = MemberTier.objects.filter(member=member).values_list("tier_id", flat=True).first()
        if current == (tier.pk if tier else None):
            messages.info(request, _("The member is already at that level."))
            return redirect("members:member_detail", pk=member.pk)
    return _act(request, member, form, lambda: tier_set(
        member=member, tier=form.cleaned_data["tier"], note=form.cleaned_data["note"], set_by=request.user,
        request=request), _("Level set."))
