"""Two-phase holds: points and stored value set aside for a payment that may still fail."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from vipcare.loyalty import selectors as loyalty_selectors
from vipcare.loyalty.services import points_hold, points_release
from vipcare.members.models import Member
from vipcare.org.models import Store
from vipcare.till.choices import TillHoldStatus
from vipcare.till.models import TillHold
from vipcare.till.services.shared import TillRefused, check_active
from vipcare.wallet.services import wallet_hold, wallet_release

MAX_HOLD = datetime.timedelta(hours=1)


@transaction.atomic
def till_hold(*, store: Store, member: Member, points: int = 0, stored_value_fen: int = 0,
              expires_at: datetime.datetime, at: datetime.datetime | None = None) -> TillHold:
    """Set points and/or stored value aside for a payment that may still fail (a card payment
    for the rest): a checkout naming the hold captures it; the till releases it otherwise; at
    `expires_at` it is released by `vipcare till release-holds` (or by the member's next hold)."""
    at = at or timezone.now()
    check_active(member)
    if points < 0 or stored_value_fen < 0 or not (points or stored_value_fen):
        raise TillRefused(422, "nothing_to_hold", "hold some points or stored value (amounts above zero)")
    if not at < expires_at <= at + MAX_HOLD:
        raise TillRefused(422, "invalid", f"a hold lasts at most {int(MAX_HOLD.total_seconds())} seconds",
                          "expires_in_seconds")
    policy = loyalty_selectors.points_policy()
    if points % policy.redeem_step:
        raise TillRefused(422, "points_not_whole", f"hold a multiple of {policy.redeem_step} points", "points")
    for stale in TillHold.objects.filter(member=member, status=TillHoldStatus.HELD, expires_at__lte=at) \
            .order_by("pk"):
        _release(stale, at)
    hold = TillHold.objects.create(store=store, member=member, points=points,
                                   points_fen=policy.redeem_value_fen(points), stored_value_fen=stored_value_fen,
                                   expires_at=expires_at, created_at=at)
    if points:
        try:
            hold.points_hold = points_hold(member=member, points=points, idempotency_key=f"till-hold:{hold.pk}",
                                           expires_at=expires_at, at=at, store=store)
        except ValidationError as error:
            raise TillRefused(409, "insufficient_points", "; ".join(error.messages), "points") from None
    if stored_value_fen:
        try:
            hold.wallet_hold = wallet_hold(member=member, amount_fen=stored_value_fen, store=store, at=at,
                                           idempotency_key=f"till-hold:{hold.pk}", expires_at=expires_at)
        except ValidationError as error:
            raise TillRefused(409, "insufficient_balance", "; ".join(error.messages), "stored_value_fen") from None
    hold.save(update_fields=["points_hold", "wallet_hold"])
    return hold


def _release(hold: TillHold, at: datetime.datetime) -> TillHold:
    if hold.points_hold_id:
        points_release(hold=hold.points_hold, at=at)
    if hold.wallet_hold_id:
        wallet_release(hold=hold.wallet_hold, at=at)
    hold.status, hold.settled_at = TillHoldStatus.RELEASED, at
    hold.save(update_fields=["status", "settled_at"])
    return hold


@transaction.atomic
def till_hold_release(*, hold_id: int, store: Store | None, at: datetime.datetime | None = None) -> TillHold:
    """Give a hold's points and stored value back (the card payment failed). Releasing twice is
    harmless; a captured hold cannot be released (refund the checkout instead)."""
    at = at or timezone.now()
    hold = TillHold.objects.select_for_update().filter(pk=hold_id).first()
    if hold is None:
        raise TillRefused(404, "hold_not_found", "no hold with this id")
    if store is not None and hold.store_id != store.pk:
        raise TillRefused(403, "wrong_store", f"this hold belongs to another store than {store.code}")
    if hold.status == TillHoldStatus.CAPTURED:
        raise TillRefused(409, "hold_captured", "this hold has paid for a checkout; refund the checkout instead")
    if hold.status == TillHoldStatus.RELEASED:
        return hold
    return _release(hold, at)


def till_holds_release_expired(*, now: datetime.datetime | None = None) -> int:
    """Release every till hold whose time is up (a till that never came back), one per transaction."""
    now = now or timezone.now()
    released = 0
    for pk in TillHold.objects.filter(status=TillHoldStatus.HELD, expires_at__lte=now).order_by("pk") \
            .values_list("pk", flat=True):
        try:
            till_hold_release(hold_id=pk, store=None, at=now)
            released += 1
        except TillRefused:  # captured meanwhile
            continue
    return released
