"""The member screens: masking per role, revealing, store scoping, search, editing, merging, export."""

import datetime
import io

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from tests import factories
from vipcare.core.models import AuditAction, AuditLogEntry
from vipcare.members import cards
from vipcare.members.choices import MemberStatus
from vipcare.members.models import Member

HTMX = {"HTTP_HX_REQUEST": "true"}


def login(client, staff):
    client.force_login(staff.user)
    return client


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def detail(member):
    return reverse("members:member_detail", args=[member.pk])


# --- access ----------------------------------------------------------------------------------


def test_member_list_requires_login(client, db):
    response = client.get(reverse("members:member_list"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_user_without_staff_profile_gets_403(client, member):
    user = get_user_model().objects.create_user("outsider", password=factories.PASSWORD)
    client.force_login(user)
    response = client.get(reverse("members:member_list"))
    assert response.status_code == 403 and "无权访问" in response.content.decode()
    assert client.get(detail(member)).status_code == 403


# --- masking and revealing -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["cashier", "store_manager"])
def test_member_detail_masks_phone_for_store_roles(client, member, role, request):
    # given a cashier or store manager of the member's home store
    staff = request.getfixturevalue(role)
    # when they open the member
    response = login(client, staff).get(detail(member))
    # then the phone is masked and there is no way to reveal it
    content = response.content.decode()
    assert response.status_code == 200
    assert "138****5678" in content
    assert "13812345678" not in content
    assert "lina@example.com" not in content
    assert reverse("members:member_reveal", args=[member.pk]) not in content


def test_member_list_masks_phone(client, cashier, member):
    content = login(client, cashier).get(reverse("members:member_list"), {"q": "李娜"}).content.decode()
    assert "138****5678" in content
    assert "13812345678" not in content


def test_ops_manager_sees_masked_data_until_reveal_which_is_audited(client, ops_manager, member):
    login(client, ops_manager)
    # given the member 360 page shows the data masked
    content = client.get(detail(member)).content.decode()
    assert "138****5678" in content and "13812345678" not in content
    assert not AuditLogEntry.objects.exists()
    # when the operations manager presses "show personal data"
    response = client.post(reverse("members:member_reveal", args=[member.pk]), **HTMX)
    # then the unmasked values come back and the view is in the audit log with the user
    content = response.content.decode()
    assert response.status_code == 200
    assert "13812345678" in content and "lina@example.com" in content and "世纪大道100号" in content
    entry = AuditLogEntry.objects.get()
    assert entry.action == AuditAction.VIEW_PERSONAL_DATA
    assert entry.user == ops_manager.user
    assert entry.target_id == str(member.pk) and entry.target_type == "members.member"
    assert "phone" in entry.detail["fields"]


@pytest.mark.parametrize("role", ["cashier", "store_manager"])
def test_reveal_by_role_without_permission_is_403_and_writes_nothing(client, member, role, request):
    staff = request.getfixturevalue(role)
    response = login(client, staff).post(reverse("members:member_reveal", args=[member.pk]), **HTMX)
    assert response.status_code == 403
    assert b"13812345678" not in response.content
    assert not AuditLogEntry.objects.exists()


def test_reveal_needs_post(client, ops_manager, member):
    assert login(client, ops_manager).get(reverse("members:member_reveal", args=[member.pk])).status_code == 405


def test_account_manager_may_reveal_members_of_their_store_only(client, account_manager, member, store, other_store):
    # given a member of the account manager's store, and one of another store who bought in theirs
    visitor = factories.member(name="张敏", phone="13900001111", home_store=other_store)
    factories.sale(visitor, store, 10000)
    login(client, account_manager)
    # then the own-store member can be revealed
    assert client.post(reverse("members:member_reveal", args=[member.pk])).status_code == 200
    # but the visitor, whom the account manager neither manages nor hosts, cannot
    assert b"139****1111" in client.get(detail(visitor)).content
    assert client.post(reverse("members:member_reveal", args=[visitor.pk])).status_code == 403
    assert AuditLogEntry.objects.filter(action=AuditAction.VIEW_PERSONAL_DATA).count() == 1


# --- store scoping ---------------------------------------------------------------------------


def test_store_manager_cannot_open_member_of_another_store(client, store_manager, other_store):
    # given a member who belongs to store B only
    stranger = factories.member(name="周芳", phone="13700002222", home_store=other_store)
    factories.sale(stranger, other_store, 50000)
    # when the manager of store A opens them
    login(client, store_manager)
    # then the 360 page does not exist for them
    response = client.get(detail(stranger))
    assert response.status_code == 404 and "未找到" in response.content.decode()
    assert client.get(reverse("members:member_card", args=[stranger.pk])).status_code == 404
    assert client.get(reverse("members:member_update", args=[stranger.pk])).status_code == 404
    assert client.post(reverse("members:member_reveal", args=[stranger.pk])).status_code == 404


def test_store_manager_sees_only_sale_lines_of_own_store(client, store_manager, member, store, other_store):
    # given the member bought in store A and in store B
    factories.sale(member, store, 30000, brand="E·LAND", sku="AAA-111")
    factories.sale(member, other_store, 99900, brand="Lancôme", sku="BBB-222")
    # when the manager of store A opens the member
    content = login(client, store_manager).get(detail(member)).content.decode()
    # then only store A's line is shown, and the totals count only store A
    assert "AAA-111" in content
    assert "BBB-222" not in content and "Lancôme" not in content
    assert "¥300.00" in content
    assert "¥1,299.00" not in content


def test_ops_manager_sees_all_sale_lines_with_amounts_in_yuan(client, ops_manager, member, store, other_store):
    factories.sale(member, store, 30050, brand="E·LAND", sku="AAA-111")
    factories.sale(member, other_store, 99900, brand="Lancôme", sku="BBB-222")
    content = login(client, ops_manager).get(detail(member)).content.decode()
    assert "AAA-111" in content and "BBB-222" in content
    assert "¥300.50" in content and "¥999.00" in content
    assert "¥1,299.50" in content  # total spend


def test_identified_member_of_another_store_opens_as_card_not_360(client, store_manager, other_store):
    stranger = factories.member(name="周芳", phone="13700002222", home_store=other_store, gender="F",
                                size_top="M")
    login(client, store_manager)
    # when the member gives their phone at the counter
    response = client.get(reverse("members:member_lookup"), {"q": "137 0000 2222"})
    # then the one-glance card opens, and the 360 page stays closed
    assert response.status_code == 302
    assert response["Location"] == reverse("members:member_card", args=[stranger.pk])
    assert client.get(response["Location"]).status_code == 200
    assert client.get(detail(stranger)).status_code == 404


def test_lookup_by_qr_payload_and_card_number(client, cashier, member):
    login(client, cashier)
    for identifier in (cards.qr_payload(member.card_no), member.card_no):
        response = client.get(reverse("members:member_lookup"), {"q": identifier})
        assert response["Location"] == reverse("members:member_card", args=[member.pk])


def test_lookup_without_a_match_falls_back_to_search(client, cashier, member):
    response = login(client, cashier).get(reverse("members:member_lookup"), {"q": "王"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("members:member_list"))


# --- search ----------------------------------------------------------------------------------


def test_search_by_phone_name_and_card(client, ops_manager, member, store):
    other = factories.member(name="王强", phone="13911112222", home_store=store)
    login(client, ops_manager)
    url = reverse("members:member_list")
    by_phone = client.get(url, {"q": "13812345678"}, **HTMX)
    assert by_phone.status_code == 200
    assert "李娜" in by_phone.content.decode() and "王强" not in by_phone.content.decode()
    assert "<html" not in by_phone.content.decode()  # the htmx partial only
    by_name = client.get(url, {"q": "王强"}, **HTMX).content.decode()
    assert "王强" in by_name and "李娜" not in by_name
    by_card = client.get(url, {"q": other.card_no[:8]}, **HTMX).content.decode()
    assert other.card_no in by_card


def test_exact_phone_search_goes_straight_to_member(client, ops_manager, member):
    response = login(client, ops_manager).get(reverse("members:member_list"), {"q": "13812345678"})
    assert response.status_code == 302
    assert response["Location"] == detail(member)


def test_search_filters_by_gender_store_and_manager(client, ops_manager, account_manager, store, other_store):
    factories.member(name="甲女", gender="F", home_store=store, account_manager=account_manager)
    factories.member(name="乙男", gender="M", home_store=other_store)
    login(client, ops_manager)
    url = reverse("members:member_list")
    assert "乙男" not in client.get(url, {"gender": "F"}, **HTMX).content.decode()
    assert "甲女" not in client.get(url, {"store": other_store.pk}, **HTMX).content.decode()
    only_managed = client.get(url, {"manager": account_manager.pk}, **HTMX).content.decode()
    assert "甲女" in only_managed and "乙男" not in only_managed


def test_search_is_scoped_to_the_staff_stores(client, store_manager, member, other_store):
    factories.member(name="李四", home_store=other_store)
    content = login(client, store_manager).get(reverse("members:member_list"), {"q": "李"}, **HTMX).content.decode()
    assert "李娜" in content and "李四" not in content


def test_member_list_has_no_n_plus_one(client, ops_manager, account_manager, store, django_assert_max_num_queries):
    for i in range(30):
        factories.member(name=f"会员{i}", phone=f"1390000{i:04d}", home_store=store, account_manager=account_manager)
    login(client, ops_manager)
    client.get(reverse("members:member_list"))  # warm the session
    with django_assert_max_num_queries(12):
        response = client.get(reverse("members:member_list"))
    assert response.status_code == 200
    assert response.content.decode().count("139****") == 25  # one page


# --- edit, enrol, consent --------------------------------------------------------------------


def _form_data(member: Member, **changes) -> dict:
    data = {"name": member.name, "gender": member.gender, "birthday_calendar": member.birthday_calendar,
            "home_store": member.home_store_id or ""}
    data.update(changes)
    return data


def test_edit_with_bad_input_shows_errors_and_changes_nothing(client, store_manager, member):
    login(client, store_manager)
    before = Member.objects.get(pk=member.pk)
    # when the phone is not a phone number and the birthday lies in the future
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    response = client.post(reverse("members:member_update", args=[member.pk]),
                           _form_data(member, name="李娜娜", phone="12ab", birthday=future, size_top="L"))
    # then the form comes back with the errors
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "phone" in response.context["form"].errors
    # and nothing changed
    after = Member.objects.get(pk=member.pk)
    assert (after.name, after.phone, after.birthday, after.size_top) == (before.name, before.phone, before.birthday,
                                                                         before.size_top)
    assert not AuditLogEntry.objects.filter(action=AuditAction.UPDATE_MEMBER).exists()


def test_edit_keeps_personal_data_left_blank_and_saves_the_rest(client, store_manager, member):
    login(client, store_manager)
    page = client.get(reverse("members:member_update", args=[member.pk])).content.decode()
    assert "13812345678" not in page  # the form never shows personal data in full
    response = client.post(reverse("members:member_update", args=[member.pk]),
                           _form_data(member, size_top="L", hobbies="瑜伽、茶艺"))
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.size_top, member.hobbies, member.phone) == ("L", "瑜伽、茶艺", "13812345678")
    entry = AuditLogEntry.objects.get(action=AuditAction.UPDATE_MEMBER)
    assert entry.user == store_manager.user and "phone" not in entry.detail["fields"]


def test_edit_by_store_staff_keeps_a_home_store_they_do_not_cover(client, store_manager, store, other_store):
    # given a member of store B who bought in store A, edited by store A's manager
    visitor = factories.member(name="张敏", home_store=other_store)
    factories.sale(visitor, store, 10000)
    login(client, store_manager)
    page = client.get(reverse("members:member_update", args=[visitor.pk]))
    assert page.context["form"]["home_store"].value() == other_store.pk
    client.post(reverse("members:member_update", args=[visitor.pk]), _form_data(visitor, size_shoe="38"))
    visitor.refresh_from_db()
    assert (visitor.size_shoe, visitor.home_store) == ("38", other_store)


def test_enrol_member(client, account_manager, store):
    login(client, account_manager)
    response = client.post(reverse("members:member_create"), {
        "name": "孙丽", "gender": "F", "birthday_calendar": "lunar", "phone": "13566667777", "home_store": store.pk,
        "consent_sms": "on",
    })
    member = Member.objects.get(name="孙丽")
    assert response["Location"] == detail(member)
    assert member.registered_by == account_manager and member.consent_sms and not member.consent_email
    assert member.phone == "13566667777"


def test_enrol_with_bad_phone_writes_nothing(client, account_manager, store):
    response = login(client, account_manager).post(reverse("members:member_create"), {
        "name": "孙丽", "gender": "F", "birthday_calendar": "solar", "phone": "abc", "home_store": store.pk})
    assert response.status_code == 200 and "phone" in response.context["form"].errors
    assert not Member.objects.filter(name="孙丽").exists()
    # the form comes back with the field marked, its error beside it, the consent boxes after their box
    page = response.content.decode()
    phone_field = page[page.index('<label for="id_phone">'):]
    assert '<div class="field has-error">' in page[:page.index('<label for="id_phone">')][-200:]
    assert '<small class="error">' in phone_field[:phone_field.index("</div>")]
    assert '<div class="field check">' in page and '<span class="req">*</span>' in page


def test_consent_toggle(client, account_manager, member):
    login(client, account_manager)
    url = reverse("members:member_consent", args=[member.pk])
    response = client.post(url, {"channel": "wechat", "value": "on"}, **HTMX)
    assert response.status_code == 200 and 'aria-checked="true"' in response.content.decode()
    member.refresh_from_db()
    assert member.consent_wechat and member.consent_updated_at is not None
    client.post(url, {"channel": "wechat", "value": "off"}, **HTMX)
    member.refresh_from_db()
    assert not member.consent_wechat
    assert client.post(url, {"channel": "fax", "value": "on"}).status_code == 400


# --- duplicates and merge --------------------------------------------------------------------


def test_duplicates_page_and_merge_are_for_operations_only(client, store_manager, account_manager, member):
    duplicate = factories.member(name="李娜", phone="13812345678")
    for staff in (store_manager, account_manager):
        login(client, staff)
        assert client.get(reverse("members:duplicate_list")).status_code == 403
        assert client.post(reverse("members:member_merge"),
                           {"keep": member.pk, "duplicate": duplicate.pk}).status_code == 403
    duplicate.refresh_from_db()
    assert duplicate.status == MemberStatus.ACTIVE


def test_ops_manager_merges_duplicates_after_confirming(client, ops_manager, member, store):
    duplicate = factories.member(name="李娜", phone="13812345678", size_shoe="37")
    factories.sale(duplicate, store, 20000)
    login(client, ops_manager)
    # the list shows the pair, masked
    listing = client.get(reverse("members:duplicate_list")).content.decode()
    assert duplicate.card_no in listing and "138****5678" in listing and "13812345678" not in listing
    # a GET only asks for confirmation
    confirm = client.get(reverse("members:member_merge"), {"keep": member.pk, "duplicate": duplicate.pk})
    assert confirm.status_code == 200
    duplicate.refresh_from_db()
    assert duplicate.status == MemberStatus.ACTIVE
    # the POST merges
    response = client.post(reverse("members:member_merge"), {"keep": member.pk, "duplicate": duplicate.pk})
    assert response["Location"] == detail(member)
    duplicate.refresh_from_db()
    member.refresh_from_db()
    assert duplicate.status == MemberStatus.MERGED and duplicate.merged_into == member
    assert member.size_shoe == "37" and member.sales.count() == 1
    assert AuditLogEntry.objects.filter(action=AuditAction.MERGE_MEMBERS, user=ops_manager.user).exists()


# --- export ----------------------------------------------------------------------------------


def _sheet_rows(response):
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def test_export_is_masked_and_audited(client, store_manager, member):
    response = login(client, store_manager).get(reverse("members:member_export"), {"q": "李娜"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = _sheet_rows(response)
    assert len(rows) == 2
    assert "138****5678" in rows[1] and "13812345678" not in rows[1]
    entry = AuditLogEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.user == store_manager.user
    assert entry.detail["rows"] == 1 and entry.detail["unmasked_rows"] == 0
    assert entry.detail["filters"] == {"query": "李娜"}


def test_export_with_personal_data_for_ops_manager(client, ops_manager, member):
    response = login(client, ops_manager).get(reverse("members:member_export"), {"q": "13812345678", "reveal": "1"})
    rows = _sheet_rows(response)
    assert "13812345678" in rows[1] and "lina@example.com" in rows[1]
    entry = AuditLogEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.detail["unmasked_rows"] == 1
    assert "13812345678" not in str(entry.detail)  # the log does not copy the phone number


def test_export_with_personal_data_refused_for_cashier(client, cashier, member):
    response = login(client, cashier).get(reverse("members:member_export"), {"reveal": "1"})
    assert response.status_code == 403
    assert not AuditLogEntry.objects.exists()


# --- the card, the ranking, languages --------------------------------------------------------


def test_member_card_greets_by_surname_and_shows_birthday_today(client, account_manager, store):
    today = timezone.localdate()
    birthday = today.replace(year=today.year - 30) if not (today.month == 2 and today.day == 29) else today.replace(
        year=today.year - 28)
    vip = factories.member(name="欧阳倩", gender="F", home_store=store, birthday=birthday, size_top="S",
                           style_preferences="法式优雅", hobbies="茶艺", account_manager=account_manager)
    factories.sale(vip, store, 88800, brand="E·LAND")
    content = login(client, account_manager).get(reverse("members:member_card", args=[vip.pk])).content.decode()
    assert "欧阳女士" in content
    assert "今天是会员生日" in content
    assert "法式优雅" in content and "茶艺" in content and "¥888.00" in content and "王导购" in content
    english(client)
    content = client.get(reverse("members:member_card", args=[vip.pk])).content.decode()
    assert "Ms 欧阳" in content and "Birthday today" in content


def test_member_detail_renders_in_chinese_and_english(client, ops_manager, member, store):
    factories.sale(member, store, 10000)
    login(client, ops_manager)
    content = client.get(detail(member)).content.decode()
    assert "消费记录" in content and "档案完整度" in content and "<svg" in content
    content = english(client).get(detail(member)).content.decode()
    assert "Purchases" in content and "Archive completeness" in content


def test_archive_ranking(client, ops_manager, account_manager, store):
    factories.member(name="王小红", registered_by=account_manager, home_store=store, phone="13800001111",
                     gender="F", hobbies="游泳、阅读")
    factories.member(name="王先生", registered_by=ops_manager)
    content = login(client, ops_manager).get(reverse("members:archive_ranking")).content.decode()
    assert "顾客档案评比" in content
    table = content[content.index("<tbody"):]
    assert table.index("王导购") < table.index("周经理")


@pytest.mark.parametrize("name", ["member_list", "member_create", "archive_ranking"])
def test_pages_render_for_cashier(client, cashier, member, name):
    assert login(client, cashier).get(reverse(f"members:{name}")).status_code == 200
