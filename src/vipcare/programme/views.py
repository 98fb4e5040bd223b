"""The Programme page (levels, points, stored value and its liability, coupons), its configuration
forms for operations managers, and handing a member a coupon from the member 360 page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vipcare.core.views import staff_required
from vipcare.members.selectors import members_visible_to
from vipcare.offers.models import Coupon
from vipcare.offers.selectors import templates_issuable
from vipcare.offers.services import coupon_issue, coupon_void
from vipcare.programme import selectors
from vipcare.programme.forms import CONFIG
from vipcare.programme.panels import CONFIG_ROLES, OVERVIEW_ROLES


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
