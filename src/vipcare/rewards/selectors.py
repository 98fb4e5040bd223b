"""Reads of the rewards catalogue: the list for the operations manager, what a member can redeem
now (with the reason when not), and the member's redemptions."""

import dataclasses
import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from vipcare.loyalty.models import PointsAccount
from vipcare.members.models import Member
from vipcare.org.models import Store
from vipcare.rewards.choices import RedemptionStatus
from vipcare.rewards.models import Redemption, Reward


def rewards_catalogue() -> QuerySet[Reward]:
    """Every reward with how many were redeemed (not cancelled) and how many wait to be handed over."""
    live = Q(redemptions__status__in=[RedemptionStatus.REDEEMED, RedemptionStatus.HANDED_OVER])
    return (Reward.objects.select_related("coupon_template").prefetch_related("stores")
            .annotate(redeemed=Count("redemptions", filter=live),
                      waiting=Count("redemptions", filter=Q(redemptions__status=RedemptionStatus.REDEEMED)))
            .order_by("-is_active", "points", "code"))


@dataclasses.dataclass(frozen=True)
class RewardOffer:
    """A reward as one member sees it: whether they can redeem it now, and if not, why."""

    reward: Reward
    why_not: str = ""

    @property
    def redeemable(self) -> bool:
        return not self.why_not


def spendable_points(member: Member) -> int:
    return PointsAccount.objects.filter(member=member).values_list("balance", flat=True).first() or 0


def rewards_for_member(*, member: Member, store: Store | None = None,
                       at: datetime.datetime | None = None) -> list[RewardOffer]:
    """The rewards running today, each with the reason this member cannot redeem it (if any):
    not enough points, out of stock, the per-member limit, not handed out in `store`. The
    services check the same again when the member redeems."""
    today = timezone.localdate(at or timezone.now())
    rewards = [r for r in Reward.objects.filter(is_active=True).select_related("coupon_template")
               .prefetch_related("stores").order_by("points", "code") if r.runs_on(today)]
    points = spendable_points(member)
    taken = dict(Redemption.objects.filter(member=member).exclude(status=RedemptionStatus.CANCELLED)
                 .values("reward").annotate(n=Count("pk")).values_list("reward", "n"))
    offers = []
    for reward in rewards:
        stores = list(reward.stores.all())
        if store is not None and stores and store not in stores:
            why = _("not handed out in this store")
        elif reward.stock is not None and reward.stock <= 0:
            why = _("out of stock")
        elif reward.per_member_limit and taken.get(reward.pk, 0) >= reward.per_member_limit:
            why = _("limit reached")
        elif points < reward.points:
            why = _("%(n)s more points needed") % {"n": f"{reward.points - points:,}"}
        else:
            why = ""
        offers.append(RewardOffer(reward=reward, why_not=why))
    return offers


def member_redemptions(member: Member) -> QuerySet[Redemption]:
    return (Redemption.objects.filter(member=member).select_related("reward", "store", "coupon")
            .order_by("-redeemed_at", "-pk"))
