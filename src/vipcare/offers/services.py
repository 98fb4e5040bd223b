"""The only code that issues, redeems, reissues and voids coupons.

Issuing is idempotent by `Coupon.issue_key` (unique in the database): the same occasion, batch or
form submission never issues twice. Redeeming happens inside the checkout's transaction: the
coupons are locked, checked, marked redeemed with a conditional update, and one
`CouponRedemption` per coupon is inserted (one-to-one: a second use fails in the database).
"""

import dataclasses
import datetime
import secrets
from collections import Counter
from collections.abc import Callable, Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from vipcare.core import ledgers
from vipcare.loyalty.models import MemberTier, TierChange
from vipcare.members.birthdays import birthday_keys_on
from vipcare.members.choices import MemberStatus
from vipcare.members.models import Member
from vipcare.offers.choices import CouponSource, CouponStatus, LimitPeriod, RuleTrigger
from vipcare.offers.models import Coupon, CouponRedemption, CouponRule, CouponTemplate, MemberDay
from vipcare.offers.pricing import OfferRefused
from vipcare.org.choices import Role
from vipcare.org.selectors import user_has_role
from vipcare.sales.models import Refund, Sale

# Who may hand out coupons from the staff screens.
ISSUE_ROLES = {Role.ADMIN, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER}
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at the till
# A reissued coupon is valid for the time the used one had left, but at least this long.
REISSUE_AT_LEAST = datetime.timedelta(days=1)


def coupon_code() -> str:
    return "C" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(11))


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def validity(template: CouponTemplate, at: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """[valid_from, valid_until) of a coupon issued at `at`: N days counting the day of issue
    (until local midnight after the last), or the template's fixed dates."""
    if template.valid_days:
        last = timezone.localdate(at) + datetime.timedelta(days=template.valid_days)
        return at, _local_midnight(last)
    return (_local_midnight(template.valid_from),
            _local_midnight(template.valid_until + datetime.timedelta(days=1)))


def _period_start(period: str, at: datetime.datetime) -> datetime.datetime | None:
    day = timezone.localdate(at)
    if period == LimitPeriod.YEAR:
        return _local_midnight(day.replace(month=1, day=1))
    if period == LimitPeriod.MONTH:
        return _local_midnight(day.replace(day=1))
    return None


def _counted(template: CouponTemplate, at: datetime.datetime):
    """Coupons of the template that count towards the per-member limit at `at`."""
    coupons = Coupon.objects.filter(template=template).exclude(source=CouponSource.REISSUE)
    start = _period_start(template.limit_period, at)
    return coupons.filter(issued_at__gte=start) if start is not None else coupons


def may_issue(user) -> bool:
    return user_has_role(user, ISSUE_ROLES)


@transaction.atomic
def coupon_issue(*, template: CouponTemplate, member: Member, issue_key: str, source: str = CouponSource.MANUAL,
                 at: datetime.datetime | None = None, issued_by=None, rule: CouponRule | None = None,
                 note: str = "") -> Coupon:
    """Give a member one coupon. The same `issue_key` again returns the coupon it issued."""
    at = at or timezone.now()
    if source == CouponSource.MANUAL and not may_issue(issued_by):
        raise PermissionDenied("only store managers, operations managers and administrators may issue coupons")
    done = Coupon.objects.filter(issue_key=issue_key).first()
    if done is not None:
        if done.member_id != member.pk or done.template_id != template.pk:
            raise ValidationError({"issue_key": "already used to issue another coupon"})
        return done
    member = Member.objects.select_for_update().get(pk=member.pk)  # one issue per member at a time: exact limits
    if member.status != MemberStatus.ACTIVE:
        raise ValidationError({"member": "this card was merged into another member; use that member"})
    if not template.is_active:
        raise ValidationError({"template": "this coupon template is no longer issued"})
    valid_from, valid_until = validity(template, at)
    if valid_until <= at:
        raise ValidationError({"template": "this template's validity has ended"})
    if template.per_member_limit and \
            _counted(template, at).filter(member=member).count() >= template.per_member_limit:
        raise ValidationError({"template": f"this member already has {template.per_member_limit} of these "
                                           f"({template.get_limit_period_display()})"})
    return Coupon.objects.create(code=coupon_code(), template=template, member=member, source=source,
                                 issue_key=issue_key, rule=rule, issued_at=at, valid_from=valid_from,
                                 valid_until=valid_until, issued_by=issued_by, note=note)


@dataclasses.dataclass
class IssueReport:
    issued: int = 0
    already: int = 0  # issued by an earlier run with the same key
    over_limit: int = 0  # the member has reached the template's limit
    closed: int = 0  # the template is inactive or its validity has ended

    def add(self, other: "IssueReport") -> None:
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


@transaction.atomic
def coupon_issue_bulk(*, template: CouponTemplate, member_ids: Iterable[int], key: Callable[[int], str],
                      source: str = CouponSource.BULK, at: datetime.datetime | None = None, issued_by=None,
                      rule: CouponRule | None = None, note: str = "") -> IssueReport:
    """Issue one coupon to each member (a campaign, or a rule's occasion), in bulk.

    `key(member_id)` names each coupon's occasion, so a second run issues nothing new. The
    template's per-member limit is applied with one grouped count.
    """
    at = at or timezone.now()
    member_ids = sorted(set(member_ids))
    report = IssueReport()
    if not member_ids:
        return report
    valid_from, valid_until = validity(template, at)
    if not template.is_active or valid_until <= at:
        report.closed = len(member_ids)
        return report
    keys = {member_id: key(member_id) for member_id in member_ids}
    existing = set()
    key_list = list(keys.values())
    for start in range(0, len(key_list), 5000):
        existing |= set(Coupon.objects.filter(issue_key__in=key_list[start:start + 5000])
                        .values_list("issue_key", flat=True))
    todo = [m for m in member_ids if keys[m] not in existing]
    report.already = len(member_ids) - len(todo)
    if template.per_member_limit and todo:
        held = Counter()
        for start in range(0, len(todo), 5000):
            chunk = todo[start:start + 5000]
            held.update({row["member_id"]: row["n"] for row in _counted(template, at).filter(member_id__in=chunk)
                         .values("member_id").annotate(n=Count("pk"))})
        allowed = [m for m in todo if held[m] < template.per_member_limit]
        report.over_limit = len(todo) - len(allowed)
        todo = allowed
    Coupon.objects.bulk_create(
        [Coupon(code=coupon_code(), template=template, member_id=m, source=source, issue_key=keys[m], rule=rule,
                issued_at=at, valid_from=valid_from, valid_until=valid_until, issued_by=issued_by, note=note)
         for m in todo],
        batch_size=2000,
    )
    report.issued = len(todo)
    return report


# --- rules -------------------------------------------------------------------------------------


def _members_at_or_above(rule: CouponRule, member_ids):
    """Narrow member ids (a queryset of ids) to the rule's level and above, and to active members."""
    members = Member.objects.filter(pk__in=member_ids, status=MemberStatus.ACTIVE)
    if rule.tier is not None:
        members = members.filter(pk__in=MemberTier.objects.filter(tier__rank__gte=rule.tier.rank)
                                 .values("member_id"))
    return members.values_list("pk", flat=True)


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    return _local_midnight(day), _local_midnight(day + datetime.timedelta(days=1))


def _rule_candidates(rule: CouponRule, day: datetime.date) -> tuple[list[int], Callable[[int], str]]:
    """The members a rule gives a coupon to on `day`, and each one's issue key."""
    if rule.trigger == RuleTrigger.BIRTHDAY:
        target = day + datetime.timedelta(days=rule.days_before)
        ids = Member.objects.filter(birthday_key__in=birthday_keys_on(target)).values("pk")
        return list(_members_at_or_above(rule, ids)), lambda m: f"rule:{rule.pk}:birthday:{target}:{m}"
    if rule.trigger == RuleTrigger.MEMBER_DAY:
        if not any(d.falls_on(day) for d in MemberDay.objects.filter(is_active=True)):
            return [], str
        return list(_members_at_or_above(rule, Member.objects.values("pk"))), \
            lambda m: f"rule:{rule.pk}:member_day:{day}:{m}"
    if rule.trigger == RuleTrigger.NEW_MEMBER:
        start, end = _day_bounds(day)
        ids = Member.objects.filter(enrolled_at__gte=start, enrolled_at__lt=end).values("pk")
        return list(_members_at_or_above(rule, ids)), lambda m: f"rule:{rule.pk}:new_member:{m}"
    raise ValueError(f"not a per-member rule: {rule.trigger}")


def _level_up_key(rule: CouponRule, change: TierChange) -> str:
    return f"rule:{rule.pk}:level_up:{change.pk}"


def _rule_wants(rule: CouponRule, change: TierChange) -> bool:
    to_rank = change.to_tier.rank if change.to_tier else 0
    from_rank = change.from_tier.rank if change.from_tier else 0
    return to_rank > from_rank and (rule.tier_id is None or rule.tier_id == change.to_tier_id)


def coupons_issue_for_level_up(*, change: TierChange, at: datetime.datetime | None = None) -> list[Coupon]:
    """Issue the level-up rules' coupons for one upgrade, at once (the till calls this after a
    qualifying sale); the same keys as the daily job, so the job will not issue them again."""
    at = at or timezone.now()
    issued = []
    for rule in CouponRule.objects.filter(is_active=True, trigger=RuleTrigger.LEVEL_UP).select_related("template"):
        if not _rule_wants(rule, change):
            continue
        try:
            issued.append(coupon_issue(template=rule.template, member=change.member,
                                       issue_key=_level_up_key(rule, change), source=CouponSource.RULE, at=at,
                                       rule=rule))
        except ValidationError:  # over the limit, template closed: the upgrade stands without it
            continue
    return issued


def coupons_issue_by_rules(*, day: datetime.date, at: datetime.datetime | None = None) -> dict[str, IssueReport]:
    """The daily job (`vipcare offers issue --date`): every active rule's coupons for `day`.
    Safe to run again, and to run for a day that was missed: keys name each occasion."""
    at = at or timezone.now()
    reports: dict[str, IssueReport] = {}
    for rule in CouponRule.objects.filter(is_active=True).select_related("template", "tier").order_by("pk"):
        report = reports.setdefault(rule.trigger, IssueReport())
        if rule.trigger == RuleTrigger.LEVEL_UP:
            start, end = _day_bounds(day)
            changes = TierChange.objects.filter(changed_at__gte=start, changed_at__lt=end,
                                                member__status=MemberStatus.ACTIVE) \
                .select_related("from_tier", "to_tier").order_by("pk")
            for change in changes:
                if _rule_wants(rule, change):
                    report.add(coupon_issue_bulk(template=rule.template, member_ids=[change.member_id],
                                                 key=lambda _m, c=change: _level_up_key(rule, c),
                                                 source=CouponSource.RULE, at=at, rule=rule))
            continue
        member_ids, key = _rule_candidates(rule, day)
        report.add(coupon_issue_bulk(template=rule.template, member_ids=member_ids, key=key,
                                     source=CouponSource.RULE, at=at, rule=rule))
    return reports


# --- at the till --------------------------------------------------------------------------------


def coupons_for_checkout(*, member: Member, codes: list[str], at: datetime.datetime, lock: bool) -> list[Coupon]:
    """The scanned coupons, in scan order, checked as usable by this member now (locked when
    `lock`, i.e. inside the checkout). Refusals name the coupon as the request does."""
    if not codes:
        return []
    for i, code in enumerate(codes):
        if code in codes[:i]:
            raise OfferRefused("coupon_duplicate", f"coupons[{i}]", "this coupon was scanned twice")
    coupons = Coupon.objects.filter(code__in=codes).select_related("template").order_by("pk")
    if lock:
        coupons = coupons.select_for_update(of=("self",))
    found = {c.code: c for c in coupons}
    result = []
    for i, code in enumerate(codes):
        field = f"coupons[{i}]"
        coupon = found.get(code)
        if coupon is None:
            raise OfferRefused("coupon_not_found", field, "no coupon with this code")
        if coupon.member_id != member.pk:
            raise OfferRefused("coupon_not_yours", field, "this coupon belongs to another member")
        if coupon.status == CouponStatus.REDEEMED:
            raise OfferRefused("coupon_used", field, "this coupon has already been used")
        if coupon.status == CouponStatus.VOID:
            raise OfferRefused("coupon_void", field, "this coupon was withdrawn")
        if at < coupon.valid_from:
            raise OfferRefused("coupon_not_yet_valid", field,
                               f"valid from {timezone.localtime(coupon.valid_from):%Y-%m-%d %H:%M}")
        if at >= coupon.valid_until:
            raise OfferRefused("coupon_expired", field,
                               f"expired on {timezone.localtime(coupon.valid_until):%Y-%m-%d %H:%M}")
        result.append(coupon)
    return result


def coupons_redeem(*, coupons: list[Coupon], discounts: dict[str, int], sale: Sale,
                   at: datetime.datetime) -> list[CouponRedemption]:
    """Use the coupons (checked by `coupons_for_checkout` in this transaction) on the sale."""
    # plain SQL (core.ledgers): on the checkout's hot path
    redemptions = []
    for coupon in coupons:
        if ledgers.execute(_REDEEM, [CouponStatus.REDEEMED, ledgers.db_datetime(at), coupon.pk,
                                     CouponStatus.ISSUED]) != 1:
            raise OfferRefused("coupon_used", "coupons", f"coupon {coupon.code} has already been used")
        coupon.status, coupon.redeemed_at = CouponStatus.REDEEMED, at
        redemptions.append(ledgers.insert(CouponRedemption, coupon=coupon, member_id=sale.member_id, sale=sale,
                                          store_id=sale.store_id, discount_fen=discounts.get(coupon.code, 0),
                                          redeemed_at=at))
    return redemptions


_REDEEM = "UPDATE offers_coupon SET status = %s, redeemed_at = %s WHERE id = %s AND status = %s"


@transaction.atomic
def coupon_reissue_for_refund(*, redemption: CouponRedemption, refund: Refund,
                              at: datetime.datetime | None = None) -> Coupon | None:
    """Give the member a new coupon for one used on a sale that has now come back whole, if the
    template says so. Valid for the time the used one had left when it was used (at least a
    day). Once per used coupon, whatever the number of refunds or retries."""
    at = at or timezone.now()
    coupon = Coupon.objects.select_related("template").get(pk=redemption.coupon_id)
    if not coupon.template.reissue_on_refund:
        return None
    key = f"reissue:{coupon.pk}"
    done = Coupon.objects.filter(issue_key=key).first()
    if done is not None:
        return done
    left = max(coupon.valid_until - redemption.redeemed_at, REISSUE_AT_LEAST)
    return Coupon.objects.create(code=coupon_code(), template=coupon.template, member_id=coupon.member_id,
                                 source=CouponSource.REISSUE, issue_key=key, issued_at=at, valid_from=at,
                                 valid_until=at + left, reissued_from=coupon, reissue_refund=refund,
                                 note=f"refund {refund.refund_no}")


@transaction.atomic
def coupon_void(*, coupon: Coupon, voided_by, reason: str) -> Coupon:
    """Withdraw an unused coupon (issued by mistake)."""
    if not may_issue(voided_by):
        raise PermissionDenied("only store managers, operations managers and administrators may withdraw coupons")
    if not reason.strip():
        raise ValidationError({"reason": "say why the coupon is withdrawn"})
    coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
    if coupon.status != CouponStatus.ISSUED:
        raise ValidationError({"coupon": "only an unused coupon can be withdrawn"})
    coupon.status, coupon.note = CouponStatus.VOID, reason[:200]
    coupon.save(update_fields=["status", "note"])
    return coupon
