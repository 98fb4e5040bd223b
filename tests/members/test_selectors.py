from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from vipcare.members import cards
from vipcare.members.models import Member
from vipcare.members.selectors import duplicate_groups, member_identify, member_search, members_visible_to
from vipcare.members.services import member_merge


def test_member_identify_by_card_phone_and_qr(member):
    assert member_identify(member.card_no) == member
    assert member_identify("13812345678") == member
    assert member_identify(cards.qr_payload(member.card_no)) == member


def test_member_identify_reads_the_whole_row_by_default(member):
    found = member_identify(member.card_no)
    assert found.get_deferred_fields() == set()
    stored = Member.objects.get(pk=member.pk)
    assert [getattr(found, f.attname) for f in Member._meta.concrete_fields] == [
        getattr(stored, f.attname) for f in Member._meta.concrete_fields]
    assert found.email == "lina@example.com" and found.phone == "13812345678"


def test_member_identify_only_some_fields_reads_and_decrypts_only_those(member):
    for identifier in (member.card_no, "13812345678", cards.qr_payload(member.card_no)):
        found = member_identify(identifier, only=("card_no", "phone"))
        assert found == member
        assert {"email", "address", "birthday", "name", "extra"} <= found.get_deferred_fields()
        assert "phone" not in found.get_deferred_fields() and "status" not in found.get_deferred_fields()
        with CaptureQueriesContext(connection) as queries:
            assert (found.card_no, found.phone, found.status) == (member.card_no, "13812345678", "active")
            assert found.merged_into_id is None
        assert len(queries) == 0
        assert found.email == "lina@example.com"  # a field left out is still there, read when asked for


def test_member_identify_follows_a_merge_with_only_some_fields(member):
    duplicate = factories.member(name="李娜", phone="13900000009")
    member_merge(keep=member, duplicate=duplicate)
    found = member_identify(duplicate.card_no, only=("birthday_key",))
    assert found == member and found.status == "active"
    assert member_identify(duplicate.card_no) == member


def test_member_identify_refuses_forged_qr(member):
    forged = f"{cards.QR_PREFIX}.{member.card_no}.0000000000000000"
    assert member_identify(forged) is None
    assert member_identify("") is None and member_identify("nonsense") is None


def test_store_manager_sees_only_members_of_their_store(store, other_store, store_manager, member):
    # given a member of another store, and one who only bought in our store
    elsewhere = factories.member(name="外店顾客", home_store=other_store)
    shopper = factories.member(name="来过的顾客", home_store=other_store, phone="13700000001")
    factories.sale(shopper, store, 5000)
    # then the store manager sees their own members and the one who bought here, not the other
    visible = set(members_visible_to(store_manager))
    assert member in visible and shopper in visible and elsewhere not in visible


def test_operations_manager_sees_everyone(ops_manager, member, other_store):
    elsewhere = factories.member(name="外店顾客", home_store=other_store)
    assert {member, elsewhere} <= set(members_visible_to(ops_manager))


def test_account_manager_sees_the_members_they_manage(store, other_store, account_manager):
    managed = factories.member(name="专属", home_store=other_store, account_manager=account_manager)
    assert managed in set(members_visible_to(account_manager))


def test_member_search_by_phone_name_and_card(ops_manager, member):
    assert list(member_search(staff=ops_manager, query="138 1234 5678")) == [member]
    assert list(member_search(staff=ops_manager, query="李")) == [member]
    assert list(member_search(staff=ops_manager, query=member.card_no[:6])) == [member]
    assert list(member_search(staff=ops_manager, query="13899999999")) == []


def test_search_is_scoped_too(store_manager, other_store):
    factories.member(name="外店顾客", home_store=other_store, phone="13600000000")
    assert list(member_search(staff=store_manager, query="外店")) == []


def test_duplicate_groups_by_phone(member):
    twin = factories.member(name="李娜", phone="138-1234-5678")
    factories.member(name="别人", phone="13600000009")
    assert duplicate_groups() == [[member, twin]]
