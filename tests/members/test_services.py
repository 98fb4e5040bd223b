import pytest
from django.core.exceptions import ValidationError

from tests import factories
from vipcare.core import crypto
from vipcare.members.models import Member
from vipcare.members.selectors import member_identify
from vipcare.members.services import member_enroll, member_merge, member_update
from vipcare.sales.models import Sale, SaleLine


def test_member_enroll_finds_member_by_phone_in_any_format(member):
    # given a member enrolled with 13812345678
    # when the till types the number with a country prefix and spaces
    found = member_identify("+86 138 1234 5678")
    # then it is the same member
    assert found == member


def test_member_enroll_rejects_bad_phone_and_writes_nothing(db):
    with pytest.raises(ValidationError) as exc:
        member_enroll(name="张三", phone="12ab")
    assert "phone" in exc.value.message_dict
    assert Member.objects.count() == 0


def test_member_update_recomputes_phone_index(member):
    member_update(member=member, phone="13900001111")
    assert member_identify("13900001111") == member
    assert member_identify("13812345678") is None
    member.refresh_from_db()
    assert member.phone_index == crypto.phone_index("13900001111")


def test_member_merge_moves_sales_and_keeps_old_card_working(member, store, other_store):
    # given the same person on two cards, each with a purchase
    duplicate = factories.member(name="李娜", phone="13812345678", size_top="M", consent_sms=True)
    factories.sale(member, store, 30000)
    factories.sale(duplicate, other_store, 50000)
    # when they are merged
    kept = member_merge(keep=member, duplicate=duplicate)
    # then all history is on the kept member, blank fields are filled, and the old card finds it
    assert Sale.objects.filter(member=kept).count() == 2
    assert SaleLine.objects.filter(member=kept).count() == 2
    assert kept.size_top == "M"
    assert kept.consent_sms is False  # only one card had consent: the stricter answer wins
    assert member_identify(duplicate.card_no) == kept
    duplicate.refresh_from_db()
    assert duplicate.status == "merged" and duplicate.merged_into == kept
    with pytest.raises(ValidationError):
        member_merge(keep=kept, duplicate=duplicate)
