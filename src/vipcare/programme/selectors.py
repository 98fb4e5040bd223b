"""Reads for the Programme page: the configuration in force and the figures that go with it."""

import datetime
from collections import defaultdict

from django.db.models import Count, Q, Sum
from django.utils import timezone

from vipcare.loyalty import selectors as loyalty
from vipcare.loyalty.models import EarnMultiplier, MemberTier, PointsAccount, PointsCampaign, Tier
from vipcare.members.choices import MemberStatus
from vipcare.members.models import Member
from vipcare.offers import selectors as offers
from vipcare.offers.models import MemberDay
from vipcare.org.models import Store
from vipcare.programme.panels import tier_services
from vipcare.wallet.choices import WalletEntryKind
from vipcare.wallet.models import TopUpPlan, WalletEntry
from vipcare.wallet.selectors import AGE_BUCKETS, wallet_liability


def levels_with_members() -> tuple[list[tuple[Tier, int, list[str]]], int]:
    """The ladder with how many members hold each level and its services, and how many hold none."""
    held = dict(MemberTier.objects.filter(member__status=MemberStatus.ACTIVE).values_list("tier")
                .annotate(n=Count("pk")))
    members = Member.objects.filter(status=MemberStatus.ACTIVE).count()
    ladder = [(tier, held.get(tier.pk, 0), tier_services(tier)) for tier in Tier.objects.order_by("rank")]
    return ladder, members - sum(n for tier_id, n in held.items() if tier_id)


def plans_with_cost(*, as_of: datetime.datetime | None = None) -> list[dict]:
    """Each top-up plan with its effective discount and what it gave away in the last 12 months."""
    as_of = as_of or timezone.now()
    year = WalletEntry.objects.filter(kind=WalletEntryKind.TOP_UP, created_at__gt=as_of - datetime.timedelta(days=365),
                                      created_at__lte=as_of)
    given = {row["plan"]: row for row in year.values("plan").annotate(n=Count("pk"), bonus=Sum("bonus_delta"))}
    today = timezone.localdate(as_of)
    return [{"plan": plan, "on_offer": plan.runs_on(today), "discount": float(plan.effective_discount),
             "top_ups": given.get(plan.pk, {}).get("n", 0), "bonus_fen": given.get(plan.pk, {}).get("bonus") or 0}
            for plan in TopUpPlan.objects.order_by("pay_fen")]


def liability_report(*, as_of: datetime.datetime | None = None) -> dict:
    """Outstanding stored value by store of top-up and by age (wallet.selectors.wallet_liability),
    as a table: one row per store, one column per age bucket, with totals."""
    rows = wallet_liability(as_of=as_of)
    names = dict(Store.objects.filter(pk__in={r.store_id for r in rows if r.store_id}).values_list("pk", "name"))
    ages = [label for _low, _high, label in AGE_BUCKETS]
    table: dict = defaultdict(lambda: {age: [0, 0] for age in ages})
    for row in rows:
        cell = table[row.store_id][row.age]
        cell[0] += row.principal_fen
        cell[1] += row.bonus_fen
    stores = sorted(table, key=lambda s: (s is None, names.get(s, "")))
    body = [{"store": names.get(s), "cells": [table[s][age] for age in ages],
             "principal": sum(table[s][a][0] for a in ages), "bonus": sum(table[s][a][1] for a in ages)}
            for s in stores]
    totals = [[sum(r["cells"][i][0] for r in body), sum(r["cells"][i][1] for r in body)] for i in range(len(ages))]
    return {"ages": ages, "rows": body, "totals": totals, "principal": sum(r["principal"] for r in body),
            "bonus": sum(r["bonus"] for r in body)}


def programme_summary() -> dict:
    levels, without_level = levels_with_members()
    points = PointsAccount.objects.filter(merged_into__isnull=True).aggregate(
        spendable=Sum("balance", default=0), waiting=Sum("pending", default=0),
        members=Count("pk", filter=Q(balance__gt=0) | Q(pending__gt=0)))
    today = timezone.localdate()
    return {
        "levels": levels,
        "without_level": without_level,
        "tier_policy": loyalty.tier_policy(),
        "points_policy": loyalty.points_policy(),
        "points": points,
        "multipliers": list(EarnMultiplier.objects.order_by("-is_active", "name")),
        "campaigns": list(PointsCampaign.objects.filter(ends_on__gte=today - datetime.timedelta(days=90))
                          .order_by("starts_on")),
        "plans": plans_with_cost(),
        "templates": list(offers.template_summaries()),
        "rules": list(offers.active_rules()),
        "member_days": list(MemberDay.objects.select_related("min_tier").order_by("-is_active", "name")),
        "offers_policy": offers.offers_policy(),
        "today": today,
    }
