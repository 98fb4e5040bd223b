"""The catalogue list and form (operations managers), and the service desk's steps from the member
360 page: redeem a reward for points, hand it over, cancel it. Each view calls one service."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vipcare.core.views import staff_required
from vipcare.members.selectors import members_visible_to
from vipcare.org.selectors import stores_visible_to
from vipcare.rewards import selectors
from vipcare.rewards.forms import RewardForm
from vipcare.rewards.models import Redemption, Reward
from vipcare.rewards.panels import CATALOGUE_ROLES
from vipcare.rewards.services import CONFIG_ROLES, reward_cancel, reward_hand_over, reward_redeem


@staff_required(roles=CATALOGUE_ROLES)
def catalogue(request):
    return render(request, "rewards/catalogue.html", {
        "rewards": list(selectors.rewards_catalogue()),
        "may_configure": request.staff.role in CONFIG_ROLES,
    })


@staff_required(roles=CONFIG_ROLES)
def reward_edit(request, pk: int | None = None):
    instance = get_object_or_404(Reward, pk=pk) if pk is not None else None
    form = RewardForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        reward = form.save()
        messages.success(request, _("Reward %(name)s saved.") % {"name": reward.name})
        return redirect("rewards:catalogue")
    return render(request, "rewards/reward_form.html", {"form": form, "instance": instance})


def _refusal(error: ValidationError) -> str:
    return "; ".join(error.messages)


@require_POST
@staff_required
def member_redeem(request, pk: int):
    """Redeem one reward for the member. The form's token makes a double submit redeem once."""
    member = get_object_or_404(members_visible_to(request.staff), pk=pk)
    reward = Reward.objects.filter(pk=request.POST.get("reward")).first()
    store = stores_visible_to(request.staff).filter(pk=request.POST.get("store")).first()
    token = (request.POST.get("token") or "").strip()[:64]
    if reward is None or store is None or not token:
        messages.error(request, _("Choose a reward and the store that hands it out."))
        return redirect("members:member_detail", pk=member.pk)
    try:
        redemption = reward_redeem(reward=reward, member=member, store=store, idempotency_key=f"web:{token}",
                                   hand_over=bool(request.POST.get("hand_over")), redeemed_by=request.user,
                                   request=request)
    except ValidationError as error:
        messages.error(request, _("Not redeemed: %(why)s") % {"why": _refusal(error)})
    else:
        messages.success(request, _("%(reward)s redeemed for %(points)s points.")
                         % {"reward": reward.name, "points": f"{redemption.points:,}"})
    return redirect("members:member_detail", pk=member.pk)


def _visible_redemption(request, pk: int) -> Redemption:
    return get_object_or_404(Redemption, pk=pk, member__in=members_visible_to(request.staff))


@require_POST
@staff_required
def redemption_hand_over(request, pk: int):
    redemption = _visible_redemption(request, pk)
    try:
        reward_hand_over(redemption=redemption, handed_over_by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, _("%(reward)s handed over.") % {"reward": redemption.reward.name})
    return redirect("members:member_detail", pk=redemption.member_id)


@require_POST
@staff_required
def redemption_cancel(request, pk: int):
    redemption = _visible_redemption(request, pk)
    try:
        reward_cancel(redemption=redemption, reason=request.POST.get("reason") or "", cancelled_by=request.user,
                      request=request)
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, _("Redemption of %(reward)s cancelled; the points are back.")
                         % {"reward": redemption.reward.name})
    return redirect("members:member_detail", pk=redemption.member_id)
