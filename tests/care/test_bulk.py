"""The festival-day path: texts rendered once per distinct combination, rows written in bulk."""

import datetime
import uuid

from tests import factories
from vipcare.care import rules
from vipcare.care.models import Message, Playbook
from vipcare.care.playbooks.engine import _messages_insert, care_day_generate, provider_refs

WINTER = datetime.date(2026, 11, 7)  # 立冬


def test_the_renderer_keys_on_every_value_the_template_uses():
    renderer = rules.Renderer(["促销"])
    template = "{{ salutation }}，{{ wish }}{% if tier %}（{{ tier }}）{% endif %}{{ store }}"
    a = renderer.render(template, {"salutation": "李女士", "wish": "冬安", "tier": "", "store": "衣恋", "name": "李娜"})
    b = renderer.render(template, {"salutation": "李女士", "wish": "冬安", "tier": "金卡", "store": "衣恋",
                                   "name": "李娜"})
    assert a == ("李女士，冬安衣恋", []) and b == ("李女士，冬安（金卡）衣恋", [])
    assert renderer.render("{{ name }}促销", {"name": "王芳"}) == ("王芳促销", ["促销"])
    assert renderer.render("{{ name }}促销", {"name": "赵强"})[0] == "赵强促销"
    assert set(rules.template_names(template)) >= {"salutation", "wish", "tier", "store"}


def test_a_season_day_personalises_every_message_even_when_texts_are_shared(store, account_manager):
    for name in ("李娜", "李静", "王芳"):
        factories.member(name=name, home_store=store, gender="F", consent_sms=True, account_manager=account_manager)
    care_day_generate(day=WINTER, kinds=["season"])
    assert sorted(Message.objects.values_list("body", flat=True)) == sorted(
        [f"{s}，今日立冬。天气转凉了，出入注意保暖、加减衣服，饮食宜温热，愿您冬日温暖。衣恋 王导购"
         for s in ("李女士", "李女士", "王女士")])
    # a template that names the member is rendered per member, not per salutation
    Playbook.objects.filter(kind="season").update(template="{{ name }}，今日{{ term }}。")
    Message.objects.all().delete()
    care_day_generate(day=WINTER, kinds=["season"])
    assert sorted(Message.objects.values_list("body", flat=True)) == ["李娜，今日立冬。", "李静，今日立冬。",
                                                                      "王芳，今日立冬。"]
    # every row is a proper outbox row: queued, a distinct provider ref, readable through the ORM
    refs = [m.provider_ref for m in Message.objects.all()]
    assert all(isinstance(r, uuid.UUID) for r in refs) and len(set(refs)) == 3
    assert set(Message.objects.values_list("status", "attempts", "is_care")) == {("queued", 0, True)}


def test_provider_refs_are_distinct_time_ordered_uuids():
    refs = provider_refs(1000, native=True)
    assert len(set(refs)) == 1000 and all(r.version == 7 and r.variant == uuid.RFC_4122 for r in refs)
    later = provider_refs(1, native=False)[0]
    assert len(later) == 32 and uuid.UUID(later).version == 7 and uuid.UUID(later).int >> 80 >= refs[0].int >> 80


def test_a_row_written_twice_is_kept_once(vip, account_manager):
    at = datetime.datetime(2026, 11, 7, 2, tzinfo=datetime.UTC)
    row = (vip.pk, account_manager.pk, Playbook.objects.get(kind="season").pk, "sms", "t", "s", "正文", True, at,
           f"season:{vip.pk}:winter:2026", "queued")
    _messages_insert([row])
    _messages_insert([row])  # as a concurrent run would: ON CONFLICT DO NOTHING
    assert Message.objects.filter(dedupe_key=row[-2]).count() == 1
    assert Message.objects.get().scheduled_at == at


def test_greetings_skip_the_lost_the_inactive_and_follow_gender_tier_and_the_sales_words(store, account_manager,
                                                                                       tiers):
    from tests.care.conftest import give_tier
    from vipcare.care.services import member_mark_lost
    from vipcare.members.models import Member

    woman = factories.member(name="李娜", home_store=store, gender="F", consent_wechat=True)
    factories.member(name="王强", home_store=store, gender="M", consent_sms=True)
    lost = factories.member(name="赵敏", home_store=store, gender="F", consent_sms=True)
    gone = factories.member(name="钱芳", home_store=store, gender="F", consent_sms=True)
    member_mark_lost(member=lost, reason="natural", staff=account_manager)
    Member.objects.filter(pk=gone.pk).update(status="inactive")
    give_tier(woman, tiers[3])
    Playbook.objects.filter(kind="holiday").update(template="{{ salutation }}{% if tier %}（{{ tier }}）{% endif %}，"
                                                            "{{ wish }}")
    report = care_day_generate(day=datetime.date(2026, 3, 8), kinds=["holiday"])  # Women's Day: women only
    assert list(Message.objects.values_list("member_id", "channel", "body")) == [
        (woman.pk, "wechat", "李女士（金卡），节日快乐！愿您美丽常在，自在从容。")]
    assert report.messages["holiday"] == 1
    # a wish that sells is refused for everyone it would reach, and nothing is written
    parameters = Playbook.objects.get(kind="season").parameters
    parameters["wishes"]["winter"] = "冬季新品到店，欢迎选购。"
    Playbook.objects.filter(kind="season").update(parameters=parameters)
    report = care_day_generate(day=WINTER, kinds=["season"])
    assert report.skipped["sales_words"] == 2 and not Message.objects.filter(playbook__kind="season").exists()
