import datetime
import io
from collections import defaultdict

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum

from vipcare.demo import catalogue
from vipcare.members import birthdays
from vipcare.members.models import Member
from vipcare.members.selectors import duplicate_groups, member_identify, staff_archive_ranking
from vipcare.members.services import member_refresh_derived
from vipcare.org.choices import Role
from vipcare.org.models import Organisation, Staff, Store
from vipcare.sales.models import Refund, RefundLine, Sale, SaleLine

AS_OF = datetime.date(2026, 11, 23)
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
# Members and sales only; the programme's jobs over them are proven once, below.
SMALL = ["--members", "200", "--years", "1", "--as-of", AS_OF.isoformat(), "--data-only"]


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    spend = dict(Sale.objects.values_list("member__card_no").annotate(s=Sum("total_fen")))
    return {
        "members": [
            (m.card_no, m.name, m.gender, m.phone, m.birthday, m.birthday_calendar, m.address, m.occupation,
             m.home_store.code, m.registered_by.user.username, m.enrolled_at, m.completeness_quality,
             spend.get(m.card_no, 0))
            for m in Member.objects.select_related("home_store", "registered_by__user").order_by("card_no")
        ],
        "sales": Sale.objects.count(),
        "lines": SaleLine.objects.count(),
        "total": Sale.objects.aggregate(s=Sum("total_fen"))["s"],
        "refunds": sorted(Refund.objects.values_list("refund_no", "amount_fen")),
        "staff": sorted(Staff.objects.values_list("user__username", "name", "role")),
    }


def delete_everything() -> None:
    RefundLine.objects.all().delete()
    Refund.objects.all().delete()
    SaleLine.objects.all().delete()
    Sale.objects.all().delete()
    Member.objects.all().delete()
    users = list(Staff.objects.values_list("user_id", flat=True))
    Staff.objects.all().delete()
    get_user_model().objects.filter(pk__in=users).delete()
    Store.objects.all().delete()
    Organisation.objects.all().delete()


@pytest.fixture
def demo(db):
    run_demo(*SMALL, "--seed", "7")


def test_demo_same_seed_gives_the_same_data(db):
    # given a demo generated with seed 7
    run_demo(*SMALL, "--seed", "7")
    first = snapshot()
    # when the database is emptied and the same demo generated again
    delete_everything()
    run_demo(*SMALL, "--seed", "7")
    # then every name, card, date and amount is the same
    assert snapshot() == first
    assert len(first["members"]) == 200 and first["sales"] > 500


def test_demo_other_seed_gives_other_people(db):
    run_demo(*SMALL, "--seed", "7")
    first = snapshot()
    delete_everything()
    run_demo(*SMALL, "--seed", "8")
    assert [m[1] for m in snapshot()["members"]] != [m[1] for m in first["members"]]


def test_demo_members_are_what_the_member_services_would_write(demo):
    members = list(Member.objects.all())
    assert len(members) == 200
    for member in members:
        stored = (member.phone_index, member.id_number_index, member.birthday_key,
                  member.completeness_quantity, member.completeness_quality)
        member_refresh_derived(member, today=AS_OF)
        assert stored == (member.phone_index, member.id_number_index, member.birthday_key,
                          member.completeness_quantity, member.completeness_quality), member.card_no
        if member.birthday:  # the fast lunar table agrees with lunar_python
            assert member.birthday_key == birthdays.birthday_key(member.birthday, member.birthday_calendar)
        assert member.phone[:2] in {"13", "14", "15", "16", "17", "18", "19"} and len(member.phone) == 11
        assert member.enrolled_at.date() < AS_OF
    for member in members[:40]:
        member.full_clean()  # field lengths, choices, unique card numbers


def test_demo_members_are_found_by_phone_and_card(demo):
    for member in Member.objects.all():
        found = member_identify(member.phone)
        # a duplicate card shares its phone: the oldest card of that phone is the one found
        assert found.phone == member.phone
        assert found.enrolled_at <= member.enrolled_at
        assert member_identify(member.card_no) == member


def test_demo_sales_add_up_and_end_before_as_of(demo):
    lines = defaultdict(list)
    for line in SaleLine.objects.all():
        lines[line.sale_id].append(line)
    end = datetime.datetime.combine(AS_OF, datetime.time(), tzinfo=SHANGHAI)
    start = end - datetime.timedelta(days=366)
    for sale in Sale.objects.all():
        own = lines[sale.pk]
        assert own, sale.receipt_no
        assert sale.total_fen == sum(line.amount_fen for line in own)
        assert sale.item_count == sum(line.quantity for line in own)
        assert start <= sale.sold_at < end
        for line in own:
            assert (line.member_id, line.store_id, line.sold_at) == (sale.member_id, sale.store_id, sale.sold_at)
            assert line.amount_fen == line.unit_price_fen * line.quantity - line.discount_fen >= 0
    assert not Sale.objects.filter(sold_at__gte=end).exists()
    for refund in Refund.objects.prefetch_related("lines__sale_line"):
        assert refund.amount_fen == sum(rl.amount_fen for rl in refund.lines.all()) > 0
        assert refund.sale.sold_at < refund.refunded_at < end
        assert all(rl.sale_line.sale_id == refund.sale_id for rl in refund.lines.all())


def test_demo_prices_fit_the_store(demo):
    average = dict(SaleLine.objects.values_list("store__category").annotate(a=Sum("unit_price_fen") / Count("id")))
    assert average["jewellery"] > 5 * average["fashion"] > 5 * average["dining"]


def test_demo_spend_is_heavy_tailed(demo):
    spend = sorted((s or 0 for s in Member.objects.annotate(s=Sum("sales__total_fen")).values_list("s", flat=True)),
                   reverse=True)
    top = sum(spend[: len(spend) // 5])
    assert top >= 0.5 * sum(spend)


def test_demo_has_lapsed_members_and_duplicates(demo):
    # lapsed: bought in the first half of the year, nothing in the last four months
    end = datetime.datetime.combine(AS_OF, datetime.time(), tzinfo=SHANGHAI)
    buyers = Sale.objects.values_list("member_id", flat=True)
    early = set(buyers.filter(sold_at__lt=end - datetime.timedelta(days=183)))
    recent = set(buyers.filter(sold_at__gte=end - datetime.timedelta(days=120)))
    assert len(early - recent) >= 10
    groups = duplicate_groups()
    assert groups
    for group in groups:
        assert len({m.phone for m in group}) == 1 and len({m.card_no for m in group}) == len(group)


def test_demo_has_every_role_and_archive_quality_differs_by_staff(demo):
    assert set(Staff.objects.values_list("role", flat=True)) == set(Role.values)
    assert 30 <= Store.objects.count() <= 60
    categories = set(Store.objects.values_list("category", flat=True))
    assert {"fashion", "cosmetics", "jewellery", "dining", "kids"} <= categories
    ops = Staff.objects.get(user__username="ops")
    ranking = [row.avg_quality for row in staff_archive_ranking(staff=ops)]
    assert ranking[0] - ranking[-1] >= 20


def test_demo_peaks_on_double_11(demo):
    per_day = Sale.objects.count() / 365
    double_11 = Sale.objects.filter(sold_at__date__range=(datetime.date(2026, 11, 1), datetime.date(2026, 11, 11)))
    double_11 = double_11.count()
    assert double_11 / 11 > 1.3 * per_day


def test_demo_if_empty_adds_nothing_the_second_time(db):
    run_demo(*SMALL, "--if-empty")
    counts = (Member.objects.count(), Sale.objects.count(), Staff.objects.count())
    out = run_demo(*SMALL, "--if-empty")
    assert "no demo data added" in out
    assert (Member.objects.count(), Sale.objects.count(), Staff.objects.count()) == counts
    with pytest.raises(CommandError):
        run_demo(*SMALL)


def test_demo_prints_the_url_and_working_logins(db):
    out = run_demo(*SMALL)
    assert "http://127.0.0.1:8000/" in out and catalogue.DEMO_PASSWORD in out
    for username in ("admin", "ops", "c101-manager", "c101-guide1", "c101-cashier"):
        assert username in out
        assert authenticate(username=username, password=catalogue.DEMO_PASSWORD) is not None


def test_demo_big_load_drops_and_rebuilds_the_secondary_indexes(db):
    from vipcare.demo.generate import _secondary_indexes, generate

    # given the indexes the migrations made
    before = sorted(_secondary_indexes())
    assert any(name for name, _ in before)
    # when a load runs with its indexes deferred
    result = generate(members=300, years=1, seed=3, as_of=AS_OF, defer_indexes=True)
    # then the same indexes are back, and the rows they cover are all there
    assert sorted(_secondary_indexes()) == before
    assert Member.objects.count() == result.members == 300
    assert Sale.objects.filter(member__card_no__startswith="8").count() == result.sales


def test_demo_runs_the_programme_over_its_sales(db):
    # given a small demo with the programme's jobs (not --data-only)
    out = run_demo("--members", "150", "--years", "1", "--as-of", AS_OF.isoformat())
    # then members have levels and points, analytics labels exist, and account managers have a day of care
    from vipcare.analytics.selectors import latest_member_labels
    from vipcare.care.models import CareTask
    from vipcare.loyalty.models import MemberTier, PointsEntry

    assert MemberTier.objects.filter(tier__isnull=False).exists()
    assert PointsEntry.objects.filter(kind="earn").exists()
    labels = latest_member_labels()
    assert labels and {"lifecycle", "strategy", "pyramid"} <= set(next(iter(labels.values())))
    assert CareTask.objects.exists()
    assert "Analytics" in out

