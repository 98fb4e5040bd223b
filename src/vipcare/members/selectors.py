"""Reads of the member archive, scoped to what the asking staff member may see."""

from django.db.models import Avg, Count, Exists, OuterRef, Q, QuerySet

from vipcare.core import crypto, ledgers
from vipcare.members import cards
from vipcare.members.choices import MemberStatus
from vipcare.members.models import Member
from vipcare.org.models import Staff


def members_visible_to(staff: Staff) -> QuerySet[Member]:
    """Members linked to the staff member's stores: home store, a purchase there, or managed by them."""
    members = Member.objects.filter(status=MemberStatus.ACTIVE)
    if staff.sees_all_stores:
        return members
    from vipcare.sales.models import Sale

    store_ids = list(staff.stores.values_list("id", flat=True))
    bought_here = Sale.objects.filter(member_id=OuterRef("pk"), store_id__in=store_ids)
    return members.filter(Q(home_store_id__in=store_ids) | Q(account_manager=staff) | Exists(bought_here))


# Plain SQL (core.ledgers): every till request identifies its member, and the ORM's query and the
# whole archive row (every encrypted field decrypted) cost about a sixth of a checkout's Python.
_BY_CARD = "card_no = %s"
_BY_PHONE = "phone_index = %s AND status = %s ORDER BY enrolled_at, id LIMIT 1"
_BY_ID = "id = %s"


def _one(where: str, params: list, only: tuple[str, ...] | None) -> Member | None:
    found = ledgers.select(Member, where, params, only=only)
    return found[0] if found else None


def member_identify(identifier: str, *, only: tuple[str, ...] | None = None) -> Member | None:
    """The member a phone number, card number or QR payload belongs to, across the whole mall.

    A member who shows their card or gives their number may be served in any store (one archive,
    no islands), so identification is not scoped; lists and searches are.
    A card number of a merged member finds the member it was merged into.
    With `only` (field names, as `QuerySet.only`), just those fields are read and decrypted; the
    status and the merge are always read.
    """
    if only is not None:
        only = tuple(sorted({*only, "status", "merged_into"}))
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    if identifier.startswith(cards.QR_PREFIX + "."):
        try:
            identifier = cards.card_no_from_qr(identifier)
        except ValueError:
            return None
    member = _one(_BY_CARD, [identifier], only)
    if member is None:
        try:
            index = crypto.phone_index(identifier)
        except ValueError:
            return None
        # Several cards may share a phone until they are merged: the oldest is the main one.
        member = _one(_BY_PHONE, [index, MemberStatus.ACTIVE.value], only)
    while member is not None and member.merged_into_id:
        member = _one(_BY_ID, [member.merged_into_id], only)
    return member


def member_search(*, staff: Staff, query: str = "", store_id: int | None = None, gender: str = "",
                  account_manager_id: int | None = None) -> QuerySet[Member]:
    """Search by phone (exact, via the blind index), card number (prefix) or name (contains)."""
    members = members_visible_to(staff)
    query = (query or "").strip()
    if query:
        condition = Q(name__icontains=query) | Q(card_no__startswith=query)
        try:
            condition |= Q(phone_index=crypto.phone_index(query))
        except ValueError:
            pass
        if query.startswith(cards.QR_PREFIX + "."):
            try:
                condition = Q(card_no=cards.card_no_from_qr(query))
            except ValueError:
                return members.none()
        members = members.filter(condition)
    if store_id:
        members = members.filter(home_store_id=store_id)
    if gender:
        members = members.filter(gender=gender)
    if account_manager_id:
        members = members.filter(account_manager_id=account_manager_id)
    return members.select_related("home_store", "account_manager")


def staff_archive_ranking(*, staff: Staff) -> QuerySet[Staff]:
    """Staff ranked by the quality of the archives they registered (顾客档案评比)."""
    from vipcare.org.selectors import stores_visible_to

    ranked = Staff.objects.filter(organisation=staff.organisation)
    if not staff.sees_all_stores:
        ranked = ranked.filter(stores__in=stores_visible_to(staff)).distinct()
    return (
        ranked.annotate(
            archives=Count("registered_members", filter=Q(registered_members__status=MemberStatus.ACTIVE)),
            avg_quality=Avg("registered_members__completeness_quality",
                            filter=Q(registered_members__status=MemberStatus.ACTIVE)),
            avg_quantity=Avg("registered_members__completeness_quantity",
                             filter=Q(registered_members__status=MemberStatus.ACTIVE)),
        )
        .filter(archives__gt=0)
        .order_by("-avg_quality", "-archives", "staff_no")
    )


def duplicate_groups(*, limit: int = 200) -> list[list[Member]]:
    """Active members who share a phone number or ID number: likely one person on two cards."""
    groups = []
    for field in ("phone_index", "id_number_index"):
        shared = (
            Member.objects.filter(status=MemberStatus.ACTIVE).exclude(**{field: ""})
            .values(field).annotate(n=Count("id")).filter(n__gt=1).values_list(field, flat=True)[:limit]
        )
        for value in shared:
            same = Member.objects.filter(status=MemberStatus.ACTIVE, **{field: value})
            group = list(same.order_by("enrolled_at", "pk"))
            if group not in groups:
                groups.append(group)
    return groups[:limit]


def personal_data_revealable(*, staff: Staff, member: Member, store_ids: set[int] | None = None) -> bool:
    """May this staff member see the member's personal data unmasked (each reveal is audited)?

    Operations managers and administrators: any member. Account managers: the members they
    look after and the members whose home store is one of theirs. Everyone else: never.
    Pass the staff member's `store_ids` when checking many members, to save a query each.
    """
    if not staff.may_reveal_personal_data:
        return False
    if staff.sees_all_stores:
        return True
    if member.account_manager_id == staff.pk:
        return True
    if member.home_store_id is None:
        return False
    if store_ids is not None:
        return member.home_store_id in store_ids
    return staff.stores.filter(pk=member.home_store_id).exists()


def account_managers_for(*, staff: Staff) -> QuerySet[Staff]:
    """Staff who may be chosen as a member's account manager, for filters and forms."""
    from vipcare.org.choices import Role

    managers = Staff.objects.filter(organisation=staff.organisation, is_active=True,
                                    role__in=[Role.ACCOUNT_MANAGER, Role.STORE_MANAGER])
    if not staff.sees_all_stores:
        managers = managers.filter(stores__in=staff.stores.all()).distinct()
    return managers.order_by("name", "staff_no")


# Apps that add events to a member's timeline (care records, points, …) append a function
# `(member=, staff=, limit=) -> list[dict]` here; each dict has at, kind, title, detail, store.
TIMELINE_SOURCES: list = []


def member_timeline(*, member: Member, staff: Staff, limit: int = 30) -> list[dict]:
    """Enrolment, purchases and refunds (and whatever other apps add), newest first."""
    from vipcare.sales.selectors import member_refunds, member_sales

    events = [{"at": member.enrolled_at, "kind": "enrol", "title": member.get_source_display(), "detail": "",
               "store": member.home_store, "amount_fen": None}]
    for sale in member_sales(member=member, staff=staff)[:limit]:
        events.append({"at": sale.sold_at, "kind": "sale", "title": sale.receipt_no, "detail": sale.item_count,
                       "store": sale.store, "amount_fen": sale.total_fen})
    for refund in member_refunds(member=member, staff=staff)[:limit]:
        events.append({"at": refund.refunded_at, "kind": "refund", "title": refund.refund_no, "detail": refund.reason,
                       "store": refund.store, "amount_fen": refund.amount_fen})
    for source in TIMELINE_SOURCES:
        events.extend(source(member=member, staff=staff, limit=limit))
    events.sort(key=lambda e: e["at"], reverse=True)
    return events[:limit]
