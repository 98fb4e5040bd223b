"""Reads of the analytics: the current refresh, labels for other apps, and the "why" of each label."""

from __future__ import annotations

from django.utils.translation import gettext as _

from vipcare.analytics.models import AnalyticsRefresh, MemberAnalytics
from vipcare.analytics.segments import SegmentRules

LABEL_FIELDS = ("member_id", "lifecycle", "strategy", "pyramid", "matrix", "value_curve", "falling_off", "p_alive",
                "clv_fen", "rfm_r", "rfm_f", "rfm_m", "visits_recent", "usual_visits", "spend_recent_fen",
                "usual_spend_fen")


def current_refresh() -> AnalyticsRefresh | None:
    return AnalyticsRefresh.objects.filter(is_current=True).first()


def previous_refresh(refresh: AnalyticsRefresh) -> AnalyticsRefresh | None:
    return (AnalyticsRefresh.objects.filter(status="done", as_of__lt=refresh.as_of).order_by("-as_of").first())


def refresh_rules(refresh: AnalyticsRefresh) -> SegmentRules:
    known = {name: value for name, value in (refresh.rules or {}).items() if name in SegmentRules.__dataclass_fields__}
    return SegmentRules(**known)


def falling_off_reason(row, rules: SegmentRules) -> str:
    """Why a member is (or is not) falling off, in one line."""
    if not row.falling_off:
        return ""
    return _("In the last %(days)d days: %(recent)d purchase days and ¥%(spend)s; usually %(usual).1f and "
             "¥%(usual_spend)s") % {
        "days": rules.falling_window_days, "recent": row.visits_recent, "spend": _yuan(row.spend_recent_fen),
        "usual": row.usual_visits, "usual_spend": _yuan(row.usual_spend_fen)}


def _yuan(fen: int | None) -> str:
    return f"{(fen or 0) / 100:,.0f}"


def latest_member_labels(member_ids: list[int] | None = None) -> dict[int, dict]:
    """Labels of the current refresh per member id, for other apps (the care playbooks).

    Keys: lifecycle, strategy, pyramid, matrix, value_curve (codes, see choices.py), falling_off (bool),
    falling_off_reason (str), p_alive (float; 0.0 for a member who never bought), clv_fen (int),
    rfm (str like "545"; "000" without purchases), as_of (date). {} when there is no refresh yet.
    """
    refresh = current_refresh()
    if refresh is None:
        return {}
    rows = MemberAnalytics.objects.filter(refresh=refresh)
    if member_ids is not None:
        rows = rows.filter(member_id__in=list(member_ids))
    rules = refresh_rules(refresh)
    labels = {}
    for row in rows.only(*LABEL_FIELDS):
        labels[row.member_id] = {
            "lifecycle": row.lifecycle,
            "strategy": row.strategy,
            "pyramid": row.pyramid,
            "matrix": row.matrix,
            "value_curve": row.value_curve,
            "falling_off": row.falling_off,
            "falling_off_reason": falling_off_reason(row, rules),
            "p_alive": float(row.p_alive) if row.p_alive is not None else 0.0,
            "clv_fen": int(row.clv_fen or 0),
            "rfm": row.rfm,
            "as_of": refresh.as_of,
        }
    return labels


def member_analytics(member_id: int) -> tuple[AnalyticsRefresh, MemberAnalytics] | tuple[None, None]:
    refresh = current_refresh()
    if refresh is None:
        return None, None
    row = MemberAnalytics.objects.filter(refresh=refresh, member_id=member_id).first()
    return (refresh, row) if row is not None else (None, None)


def label_reasons(row: MemberAnalytics, rules: SegmentRules) -> dict[str, str]:
    """One line per label saying why it applies."""
    reasons = {}
    if row.visit_days == 0:
        reasons["lifecycle"] = _("No purchase yet; enrolled %(days)d days ago") % {"days": row.enrolled_days}
    else:
        thresholds = {"new": _("first purchase %(first)d days ago (new for %(limit)d days)"),
                      "active": _("last purchase %(recency)d days ago (active up to %(limit)d days)"),
                      "at_risk": _("last purchase %(recency)d days ago (at risk after %(limit)d days)"),
                      "dormant": _("last purchase %(recency)d days ago (dormant after %(limit)d days)"),
                      "churned": _("last purchase %(recency)d days ago (churned after %(limit)d days)")}
        limit = {"new": rules.new_days, "active": rules.at_risk_days, "at_risk": rules.at_risk_days,
                 "dormant": rules.dormant_days, "churned": rules.churned_days}[row.lifecycle]
        reasons["lifecycle"] = thresholds[row.lifecycle] % {"first": row.tenure_days, "recency": row.recency_days,
                                                             "limit": limit}
    if row.pyramid == "D":
        reasons["pyramid"] = _("Outside the top %(share).0f%% of 12-month spend (¥%(spend)s)") % {
            "share": 100 * (rules.pyramid_a + rules.pyramid_b + rules.pyramid_c), "spend": _yuan(row.spend_12m_fen)}
    else:
        top = {"A": rules.pyramid_a, "B": rules.pyramid_a + rules.pyramid_b,
               "C": rules.pyramid_a + rules.pyramid_b + rules.pyramid_c}[row.pyramid]
        reasons["pyramid"] = _("In the top %(share)g%% of members by 12-month spend (¥%(spend)s)") % {
            "share": round(100 * top, 2), "spend": _yuan(row.spend_12m_fen)}
    loyal = row.matrix in ("confidant", "barnacle")
    valuable = row.matrix in ("confidant", "butterfly")
    reasons["matrix"] = _("Loyalty %(loyalty)s (frequency score %(f)d, P(active) %(p).0f%%); total value %(value)s "
                          "(spend score %(m)d)") % {
        "loyalty": _("high") if loyal else _("low"), "f": row.rfm_f, "p": 100 * (row.p_alive or 0),
        "value": _("high") if valuable else _("low"), "m": row.rfm_m}
    reasons["value_curve"] = _("Current value score %(current)d (12-month spend), potential score %(potential)d "
                               "(lifetime value); high from %(limit)d") % {
        "current": row.current_score, "potential": row.potential_score, "limit": rules.high_current_score}
    reasons["rfm"] = _("R %(r)d · F %(f)d · M %(m)d, quintiles among members who bought (5 is best)") % {
        "r": row.rfm_r, "f": row.rfm_f, "m": row.rfm_m}
    reasons["falling_off"] = falling_off_reason(row, rules) or _("Buying at the usual pace")
    return reasons


# ---------------------------------------------------------------- dashboard

SEGMENT_FIELDS = ("lifecycle", "pyramid", "matrix", "value_curve", "strategy", "falling_off", "rfm_r", "rfm_f",
                  "rfm_m")
CLV_BUCKETS_YUAN = (0, 100, 500, 1_000, 5_000, 10_000, 50_000)


def refreshes() -> list[AnalyticsRefresh]:
    return list(AnalyticsRefresh.objects.filter(status="done").order_by("-as_of")[:60])


def refresh_rows(*, staff, refresh: AnalyticsRefresh, store_id: int | None = None):
    """The member rows of a refresh this staff member may see, optionally of one home store."""
    from vipcare.members.selectors import members_visible_to

    rows = MemberAnalytics.objects.filter(refresh=refresh)
    if not staff.sees_all_stores:
        rows = rows.filter(member_id__in=members_visible_to(staff).values("pk"))
    if store_id:
        rows = rows.filter(member__home_store_id=store_id)
    return rows


def _share(part, whole) -> float | None:
    return (part / whole) if whole else None


def _grid(rows, field: str, choices, strategy_of: dict | None = None) -> list[dict]:
    from django.db.models import Count, Sum

    found = {r[field]: r for r in rows.values(field).annotate(n=Count("id"), spend=Sum("spend_12m_fen"),
                                                               clv=Sum("clv_fen"))}
    total = sum(r["n"] for r in found.values()) or 1
    cells = []
    for value, label in choices:
        r = found.get(value, {})
        cells.append({"value": value, "label": label, "n": r.get("n", 0), "share": r.get("n", 0) / total,
                      "spend_fen": r.get("spend") or 0, "clv_fen": r.get("clv") or 0,
                      "strategy": strategy_of.get(value) if strategy_of else None})
    return cells


def _flows(rows, previous: AnalyticsRefresh, field: str) -> list[dict]:
    from django.db.models import Count, OuterRef, Subquery

    before = MemberAnalytics.objects.filter(refresh=previous, member_id=OuterRef("member_id")).values(field)[:1]
    moved = (rows.annotate(before=Subquery(before)).exclude(before=None).values("before", field)
             .annotate(n=Count("id")).order_by("-n"))
    from vipcare.analytics import choices

    kinds = {"pyramid": choices.Pyramid, "lifecycle": choices.Lifecycle, "matrix": choices.Matrix}
    labels = dict(kinds[field].choices)
    return [{"before": m["before"], "after": m[field], "n": m["n"], "after_label": labels.get(m[field], m[field]),
             "before_label": labels.get(m["before"], m["before"])} for m in moved if m["before"] != m[field]]


def dashboard_figures(*, staff, refresh: AnalyticsRefresh, store_id: int | None = None) -> dict:
    """Every figure of the analytics dashboard for one refresh (the period) and store."""
    import numpy as np
    from django.db.models import Count, Q, Sum

    from vipcare.analytics import choices, segments

    rows = refresh_rows(staff=staff, refresh=refresh, store_id=store_id)
    totals = rows.aggregate(
        members=Count("id"), spend=Sum("spend_12m_fen"),
        active=Count("id", filter=Q(lifecycle__in=["new", "active"])),
        dormant=Count("id", filter=Q(lifecycle="dormant")),
        buyers_12m=Count("id", filter=Q(visits_12m__gte=1)),
        repeat_12m=Count("id", filter=Q(visits_12m__gte=2)),
        buyers_prev=Count("id", filter=Q(visits_prev_12m__gte=1)),
        lost=Count("id", filter=Q(visits_prev_12m__gte=1, visits_12m=0)),
        falling=Count("id", filter=Q(falling_off=True)),
    )
    members, spend = totals["members"], totals["spend"] or 0
    levels = _levels(rows)
    vip_spend = levels.pop("vip_spend")

    spends = np.sort(np.array(list(rows.values_list("spend_12m_fen", flat=True)), dtype=np.int64))[::-1]
    pareto = []
    top20 = None
    if spends.size and spends.sum() > 0:
        cumulative = np.cumsum(spends) / spends.sum()
        for percent in range(0, 101, 5):
            k = int(round(spends.size * percent / 100))
            pareto.append([percent, round(float(cumulative[k - 1]) * 100, 1) if k else 0.0])
        top20 = float(cumulative[max(int(round(spends.size * 0.2)) - 1, 0)])

    clv = np.array([v for v in rows.values_list("clv_fen", flat=True) if v is not None], dtype=np.int64) / 100
    edges = list(CLV_BUCKETS_YUAN) + [np.inf]
    clv_histogram = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        count = int(((clv >= low) & (clv < high)).sum()) if clv.size else 0
        clv_histogram.append({"low": low, "high": None if high == np.inf else int(high), "n": count})

    previous = previous_refresh(refresh)
    strategy_labels = dict(choices.Strategy.choices)
    matrix = _grid(rows, "matrix", choices.Matrix.choices,
                   {k: strategy_labels[v] for k, v in segments.MATRIX_STRATEGY.items()})
    curve = _grid(rows, "value_curve", choices.ValueCurve.choices,
                  {k: strategy_labels[v] for k, v in segments.VALUE_CURVE_STRATEGY.items()})
    by_value = {cell["value"]: cell for cell in matrix + curve}
    return {
        "members": members,
        "spend_12m_fen": spend,
        "active_rate": _share(totals["active"], members),
        "dormant_rate": _share(totals["dormant"], members),
        "falling_off": totals["falling"],
        "vip_share": _share(vip_spend, spend),
        "top20_share": top20,
        "pareto": pareto,
        "repurchase_rate": _share(totals["repeat_12m"], totals["buyers_12m"]),
        "yearly_churn": _share(totals["lost"], totals["buyers_prev"]),
        "levels": levels,
        "lifecycle": _grid(rows, "lifecycle", choices.Lifecycle.choices),
        "pyramid": _grid(rows, "pyramid", choices.Pyramid.choices,
                         {"A": _("Keep and grow"), "B": _("Move up to A"), "C": _("Move up to B"),
                          "D": _("Raise to C, or spend less")}),
        "matrix": matrix,
        "value_curve": curve,
        # 2 × 2 layouts: rows high → low (loyalty / potential), columns low → high (value / current).
        "matrix_quadrant": [[by_value["barnacle"], by_value["confidant"]],
                            [by_value["passerby"], by_value["butterfly"]]],
        "value_quadrant": [[by_value["question"], by_value["star"]], [by_value["dog"], by_value["cash_cow"]]],
        "strategy": _grid(rows, "strategy", choices.Strategy.choices),
        "previous": previous,
        "flows": {field: _flows(rows, previous, field) for field in ("pyramid", "lifecycle", "matrix")}
        if previous else {},
        "clv_histogram": clv_histogram,
        "parameters": refresh.parameters,
    }


def _levels(rows) -> dict:
    """Members by card level × lifecycle, and the 12-month spend of VIPs (any level above the lowest)."""
    from django.apps import apps
    from django.db.models import Count, Sum

    if not apps.is_installed("vipcare.loyalty"):
        return {"rows": [], "stages": [], "vip_spend": None}
    from vipcare.analytics.choices import Lifecycle
    from vipcare.loyalty.models import Tier

    tiers = list(Tier.objects.order_by("rank").values_list("pk", "name", "rank"))
    counts = rows.values("member__tier_state__tier", "lifecycle").annotate(n=Count("id"))
    table: dict = {}
    for c in counts:
        table.setdefault(c["member__tier_state__tier"], {})[c["lifecycle"]] = c["n"]
    stages = Lifecycle.choices
    level_rows = [{"tier": None, "name": _("No level"), "cells": [table.get(None, {}).get(s, 0) for s, _l in stages]}]
    for pk, name, _rank in tiers:
        level_rows.append({"tier": pk, "name": name, "cells": [table.get(pk, {}).get(s, 0) for s, _l in stages]})
    level_rows = [r for r in level_rows if any(r["cells"])]
    vip_spend = None
    if tiers:
        vip_spend = rows.filter(member__tier_state__tier__rank__gt=tiers[0][2]).aggregate(
            s=Sum("spend_12m_fen"))["s"] or 0
    return {"rows": level_rows, "stages": stages, "vip_spend": vip_spend}


def member_rows(*, staff, refresh: AnalyticsRefresh, filters: dict, store_id: int | None = None):
    """Rows of one dashboard cell: `filters` maps SEGMENT_FIELDS (and `tier`, `before_<field>`) to values."""
    from django.db.models import OuterRef, Subquery

    rows = refresh_rows(staff=staff, refresh=refresh, store_id=store_id)
    for field, value in filters.items():
        if field in SEGMENT_FIELDS:
            rows = rows.filter(**{field: value})
        elif field == "tier":
            rows = rows.filter(member__tier_state__tier=value or None)
        elif field.startswith("before_") and field[7:] in ("pyramid", "lifecycle", "matrix"):
            previous = previous_refresh(refresh)
            if previous is None:
                return rows.none()
            before = MemberAnalytics.objects.filter(refresh=previous, member_id=OuterRef("member_id")).values(
                field[7:])[:1]
            rows = rows.annotate(before=Subquery(before)).filter(before=value)
        elif field == "clv_min":
            rows = rows.filter(clv_fen__gte=int(value) * 100)
        elif field == "clv_max":
            rows = rows.filter(clv_fen__lt=int(value) * 100)
        else:
            raise ValueError(f"unknown filter {field!r}")
    return rows.select_related("member", "member__home_store").order_by("-clv_fen", "member_id")
