"""Reads of stored value: a member's card, and the liability report."""

import dataclasses
import datetime
from collections import defaultdict

from django.db.models import Q, Sum
from django.utils import timezone

from vipcare.members.models import Member
from vipcare.wallet.choices import WalletEntryKind, WalletHoldStatus
from vipcare.wallet.models import TopUpPlan, WalletAccount, WalletEntry, WalletHold

# Age buckets of outstanding stored value, by days since the top-up it is attributed to.
AGE_BUCKETS = [(0, 90, "0-90"), (91, 180, "91-180"), (181, 365, "181-365"), (366, None, "365+")]


def wallet_account(member: Member) -> WalletAccount | None:
    return WalletAccount.objects.filter(member=member).first()


def wallet_entries(member: Member):
    return WalletEntry.objects.filter(account__member=member).select_related("store").order_by("-created_at", "-pk")


def top_up_plans_on_offer(day: datetime.date | None = None):
    day = day or timezone.localdate()
    return TopUpPlan.objects.filter(is_active=True).filter(
        Q(starts_on__isnull=True) | Q(starts_on__lte=day), Q(ends_on__isnull=True) | Q(ends_on__gte=day))


def _bucket(days: int) -> str:
    for low, high, label in AGE_BUCKETS:
        if days >= low and (high is None or days <= high):
            return label
    return AGE_BUCKETS[-1][2]


@dataclasses.dataclass(frozen=True)
class LiabilityRow:
    store_id: int | None  # store of the top-up; None for value not traceable to one
    age: str
    principal_fen: int
    bonus_fen: int


def wallet_liability(*, as_of: datetime.datetime | None = None) -> list[LiabilityRow]:
    """Outstanding stored value (a liability of the mall) by store of top-up and by age.

    Spending is taken to use the oldest loaded money first, so what is left is attributed to an
    account's most recent top-ups (including those of members merged into it). Held amounts are
    still owed until captured, so they count.
    """
    as_of = as_of or timezone.now()
    held = {
        row["account_id"]: (row["p"], row["b"])
        for row in WalletHold.objects.filter(status=WalletHoldStatus.HELD).values("account_id")
        .annotate(p=Sum("principal_fen"), b=Sum("bonus_fen"))
    }
    accounts = {a.pk: a for a in WalletAccount.objects.filter(Q(principal_fen__gt=0) | Q(bonus_fen__gt=0)
                                                              | Q(pk__in=held.keys()))}
    merged_from = defaultdict(list)
    for pk, into in WalletAccount.objects.filter(merged_into__isnull=False).values_list("pk", "merged_into_id"):
        merged_from[into].append(pk)
    totals: dict[tuple[int | None, str], list[int]] = defaultdict(lambda: [0, 0])
    for account in accounts.values():
        sources, todo = [account.pk], [account.pk]
        while todo:
            more = merged_from.get(todo.pop(), [])
            sources += more
            todo += more
        hp, hb = held.get(account.pk, (0, 0))
        principal, bonus = account.principal_fen + hp, account.bonus_fen + hb
        top_ups = WalletEntry.objects.filter(account_id__in=sources,
                                             kind__in=[WalletEntryKind.TOP_UP, WalletEntryKind.OPENING],
                                             created_at__lte=as_of).order_by("-created_at", "-pk")
        for entry in top_ups.values("store_id", "created_at", "principal_delta", "bonus_delta"):
            if principal == 0 and bonus == 0:
                break
            p, b = min(principal, entry["principal_delta"]), min(bonus, entry["bonus_delta"])
            row = totals[(entry["store_id"], _bucket((as_of - entry["created_at"]).days))]
            row[0] += p
            row[1] += b
            principal, bonus = principal - p, bonus - b
        if principal or bonus:
            row = totals[(None, _bucket((as_of - account.created_at).days))]
            row[0] += principal
            row[1] += bonus
    return [LiabilityRow(store_id=s, age=age, principal_fen=p, bonus_fen=b)
            for (s, age), (p, b) in sorted(totals.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1]))]
