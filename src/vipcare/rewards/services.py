"""The only code that changes the rewards catalogue's stock and the members' redemptions.

A redemption is one transaction: the member's points account is locked first (the same lock
every points service takes, so one member's redemptions, spends and checkouts queue), an earlier
redemption with the same key is returned as is, the checks run, one unit of stock is taken with
a conditional UPDATE (`stock > 0`: never below zero, whoever else redeems at the same moment),
and the points are held through the loyalty services until the gift is handed over (captured)
or the redemption is cancelled (released to the lots they came from, with the stock given back).
A refusal raises `RewardRefused` with a stable reason, and the transaction leaves nothing behind.
Locks are taken in one order everywhere — points account, redemption, reward — so they cannot
deadlock.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from vipcare.core.audit import audit_record
from vipcare.core.ledgers import lock_member_accounts
from vipcare.core.models import AuditAction
from vipcare.loyalty.models import PointsAccount
from vipcare.loyalty.services import points_capture, points_hold, points_release
from vipcare.members.choices import MemberStatus
from vipcare.members.models import Member
from vipcare.offers.choices import CouponSource
from vipcare.offers.services import coupon_issue
from vipcare.org.choices import Role
from vipcare.org.models import Store
from vipcare.org.selectors import user_has_role
from vipcare.rewards.choices import RedemptionStatus, RewardKind
from vipcare.rewards.models import Redemption, Reward

# Who may set up the catalogue, who may redeem for a member at the service desk, who may cancel.
CONFIG_ROLES = frozenset({Role.ADMIN, Role.OPERATIONS_MANAGER})
REDEEM_ROLES = frozenset(Role.values)
CANCEL_ROLES = frozenset({Role.ADMIN, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER})
# A redemption's points stay set aside until the gift is handed over or the redemption is
# cancelled; the loyalty job that releases timed-out till holds must never release them.
HOLD_FOR = datetime.timedelta(days=3650)


class RewardRefused(ValidationError):
    """A redemption the programme refuses; nothing was changed.

    `reason` is stable for programs (docs/api.md), `field` names what is to blame, `text` is the
    message."""

    def __init__(self, reason: str, text: str, field: str = "reward") -> None:
        super().__init__({field: [text]})
        self.reason, self.text, self.field = reason, text, field


def may_configure(user) -> bool:
    return user_has_role(user, CONFIG_ROLES)


def may_redeem(user) -> bool:
    return user_has_role(user, REDEEM_ROLES)


def may_cancel(user) -> bool:
    return user_has_role(user, CANCEL_ROLES)


def _lock_member(member_id: int) -> PointsAccount:
    return lock_member_accounts(PointsAccount, [member_id])[member_id]


def _check_reward(reward: Reward, *, member: Member, store: Store | None, at: datetime.datetime) -> None:
    if member.status != MemberStatus.ACTIVE:
        raise RewardRefused("member_merged", _("this card was merged into another member; use that member"), "member")
    if not reward.runs_on(timezone.localdate(at)):
        raise RewardRefused("reward_inactive", _("this reward cannot be redeemed today"))
    allowed = list(reward.stores.values_list("pk", flat=True))
    if allowed and store is None:
        raise RewardRefused("store_required", _("say in which store the reward is handed out"), "store")
    if allowed and store.pk not in allowed:
        raise RewardRefused("wrong_store", _("this reward is not handed out in store %(store)s")
                            % {"store": store.code}, "store")
    if reward.per_member_limit:
        taken = Redemption.objects.filter(member=member, reward=reward).exclude(
            status=RedemptionStatus.CANCELLED).count()
        if taken >= reward.per_member_limit:
            raise RewardRefused("over_limit", _("this member has already redeemed it %(n)d times (at most %(limit)d)")
                                % {"n": taken, "limit": reward.per_member_limit})


@transaction.atomic
def reward_redeem(*, reward: Reward, member: Member, idempotency_key: str, store: Store | None = None,
                  hand_over: bool = False, redeemed_by=None, at: datetime.datetime | None = None,
                  request=None) -> Redemption:
    """Redeem a reward for the member's points. A gift waits to be handed over unless `hand_over`;
    a coupon is issued at once (through the offers service) and so is handed over at once.
    The same key again returns the first redemption and changes nothing."""
    at = at or timezone.now()
    key = (idempotency_key or "").strip()
    if not key:
        raise ValidationError({"idempotency_key": "required"})
    if redeemed_by is not None and not may_redeem(redeemed_by):
        raise PermissionDenied("only active staff may redeem rewards for members")
    account = _lock_member(member.pk)
    done = Redemption.objects.filter(member=member, idempotency_key=key).first()
    if done is not None:
        if done.reward_id != reward.pk:
            raise RewardRefused("key_reused", _("this key was already used to redeem another reward"),
                                "idempotency_key")
        return done
    reward = Reward.objects.select_related("coupon_template").get(pk=reward.pk)  # as it is now, not as read
    _check_reward(reward, member=member, store=store, at=at)
    if account.balance < reward.points:
        raise RewardRefused("insufficient_points", _("not enough points: %(have)d available, %(need)d needed")
                                % {"have": account.balance, "need": reward.points}, "points")
    from_stock = reward.stock is not None
    if from_stock and Reward.objects.filter(pk=reward.pk, stock__gt=0).update(stock=F("stock") - 1) != 1:
        raise RewardRefused("out_of_stock", _("this reward is out of stock"))
    redemption = Redemption.objects.create(reward=reward, member=member, store=store, points=reward.points,
                                           from_stock=from_stock, idempotency_key=key, redeemed_at=at,
                                           redeemed_by=redeemed_by)
    try:
        redemption.points_hold = points_hold(member=member, points=reward.points, store=store, at=at,
                                             idempotency_key=f"reward:{redemption.pk}", expires_at=at + HOLD_FOR)
    except ValidationError as error:  # points that lapsed just now
        raise RewardRefused("insufficient_points", "; ".join(error.messages), "points") from None
    if reward.kind == RewardKind.COUPON:
        try:
            redemption.coupon = coupon_issue(template=reward.coupon_template, member=member,
                                             issue_key=f"reward:{redemption.pk}", source=CouponSource.REWARD, at=at,
                                             note=f"积分兑换 {reward.name}"[:200])
        except ValidationError as error:
            raise RewardRefused("coupon_refused", "; ".join(error.messages)) from None
        hand_over = True
    if hand_over:
        points_capture(hold=redemption.points_hold, at=at)
        redemption.points_hold.refresh_from_db()
        redemption.status, redemption.handed_over_at = RedemptionStatus.HANDED_OVER, at
    redemption.save()
    if redeemed_by is not None:
        audit_record(user=redeemed_by, action=AuditAction.REWARD_REDEEM, target=member, request=request,
                     detail={"redemption_id": redemption.pk, "reward": reward.code, "points": reward.points,
                             "store": store.code if store else None, "handed_over": hand_over})
    return redemption


def _locked_redemption(redemption: Redemption) -> Redemption:
    member_id = Redemption.objects.values_list("member_id", flat=True).get(pk=redemption.pk)
    _lock_member(member_id)
    return Redemption.objects.select_for_update(of=("self",)).select_related("reward", "points_hold").get(
        pk=redemption.pk)


@transaction.atomic
def reward_hand_over(*, redemption: Redemption, handed_over_by=None, at: datetime.datetime | None = None,
                     request=None) -> Redemption:
    """The member has the gift: the held points are captured. Doing it twice changes nothing."""
    at = at or timezone.now()
    if handed_over_by is not None and not may_redeem(handed_over_by):
        raise PermissionDenied("only active staff may hand over rewards")
    redemption = _locked_redemption(redemption)
    if redemption.status == RedemptionStatus.HANDED_OVER:
        return redemption
    if redemption.status == RedemptionStatus.CANCELLED:
        raise RewardRefused("redemption_cancelled", _("this redemption was cancelled"), "redemption")
    points_capture(hold=redemption.points_hold, at=at)
    redemption.points_hold.refresh_from_db()
    redemption.status, redemption.handed_over_at = RedemptionStatus.HANDED_OVER, at
    redemption.save(update_fields=["status", "handed_over_at"])
    if handed_over_by is not None:
        audit_record(user=handed_over_by, action=AuditAction.REWARD_HAND_OVER, target=redemption.member,
                     request=request,
                     detail={"redemption_id": redemption.pk, "reward": redemption.reward.code})
    return redemption


@transaction.atomic
def reward_cancel(*, redemption: Redemption, reason: str, cancelled_by=None, at: datetime.datetime | None = None,
                  request=None) -> Redemption:
    """Cancel a redemption whose gift was not handed over yet: the points go back to the lots they
    came from (a lot that lapsed meanwhile lapses again) and the unit goes back to stock.
    Cancelling twice changes nothing."""
    at = at or timezone.now()
    if cancelled_by is not None and not may_cancel(cancelled_by):
        raise PermissionDenied("only store managers, operations managers and administrators may cancel redemptions")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("say why the redemption is cancelled")})
    redemption = _locked_redemption(redemption)
    if redemption.status == RedemptionStatus.CANCELLED:
        return redemption
    if redemption.status == RedemptionStatus.HANDED_OVER:
        raise RewardRefused("already_handed_over", _("the reward was already handed over; it cannot be cancelled"),
                            "redemption")
    points_release(hold=redemption.points_hold, at=at)
    redemption.points_hold.refresh_from_db()
    if redemption.from_stock:
        Reward.objects.filter(pk=redemption.reward_id).update(stock=F("stock") + 1)
    redemption.status, redemption.cancelled_at, redemption.cancel_reason = RedemptionStatus.CANCELLED, at, reason[:200]
    redemption.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    if cancelled_by is not None:
        audit_record(user=cancelled_by, action=AuditAction.REWARD_CANCEL, target=redemption.member, request=request,
                     detail={"redemption_id": redemption.pk, "reward": redemption.reward.code,
                             "points": redemption.points, "reason": reason})
    return redemption
