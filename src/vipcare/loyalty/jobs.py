"""Scheduled work of the ledgers, each safe to run again (the scheduler and the CLI call these)."""

import datetime

from django.utils import timezone

from vipcare.loyalty.services import points_expire, points_holds_release_expired, tier_review
from vipcare.wallet.services import wallet_holds_release_expired


def holds_release_expired(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Every few minutes: give back points and stored value held by tills that never came back."""
    now = now or timezone.now()
    return {"points": points_holds_release_expired(now=now), "wallet": wallet_holds_release_expired(now=now)}


def nightly(*, as_of: datetime.datetime | None = None) -> dict[str, int]:
    """Once a night: lapse and mature points lots, then review levels."""
    as_of = as_of or timezone.now()
    return {"points_accounts_settled": points_expire(as_of=as_of), **tier_review(as_of=as_of)}
