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


def test_member_update_audits_field_names_not_values(member, ops_manager):
    from vipcare.core.models import AuditLogEntry

    member_update(member=member, changed_by=ops_manager.user, phone="13900001111", hobbies="茶艺")
    entry = AuditLogEntry.objects.get(action="update_member")
    assert entry.user == ops_manager.user and entry.target_id == str(member.pk)
    assert entry.detail == {"fields": ["hobbies", "phone"]}
    assert "13900001111" not in str(entry.detail)


def test_member_update_with_bad_input_changes_nothing(member):
    with pytest.raises(ValidationError):
        member_update(member=member, hobbies="茶艺", phone="not a phone")
    member.refresh_from_db()
    assert member.hobbies == "" and member.phone == "13812345678"


def test_member_update_rejects_undefined_extra_field(member):
    with pytest.raises(ValidationError) as exc:
        member_update(member=member, extra={"car_brand": "宝马"})
    assert "extra.car_brand" in exc.value.message_dict


def test_member_update_validates_choice_extra_field(member):
    from vipcare.members.models import MemberFieldDefinition

    MemberFieldDefinition.objects.create(key="tea", label="喜欢的茶", field_type="choice", choices="龙井\n普洱")
    member_update(member=member, extra={"tea": "龙井"})
    with pytest.raises(ValidationError):
        member_update(member=member, extra={"tea": "咖啡"})
    member.refresh_from_db()
    assert member.extra == {"tea": "龙井"}


def test_member_merge_is_audited(member, ops_manager):
    from vipcare.core.models import AuditLogEntry

    duplicate = factories.member(name="李娜", phone="13812345678")
    member_merge(keep=member, duplicate=duplicate, merged_by=ops_manager.user)
    entry = AuditLogEntry.objects.get(action="merge_members")
    assert entry.detail["duplicate_id"] == duplicate.pk and entry.user == ops_manager.user
