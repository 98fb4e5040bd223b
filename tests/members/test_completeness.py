import datetime

from tests import factories
from vipcare.members.completeness import completeness
from vipcare.members.models import SOFT_ARCHIVE_FIELDS
from vipcare.members.selectors import staff_archive_ranking

TODAY = datetime.date(2026, 11, 23)


def test_empty_profile_scores_zero():
    assert completeness({}, SOFT_ARCHIVE_FIELDS, [], TODAY) == (0, 0)


def test_filled_but_useless_values_count_for_quantity_not_quality():
    # given a profile filled with placeholders: "王先生", an invalid phone, "无" everywhere
    values = {"name": "王先生", "gender": "U", "phone": "12345", "email": "none", "address": "上海",
              **{f: "无" for f in SOFT_ARCHIVE_FIELDS}}
    quantity, quality = completeness(values, SOFT_ARCHIVE_FIELDS, [], TODAY)
    # then it is mostly filled but of no quality
    assert quantity > 70
    assert quality == 0


def test_good_profile_scores_high_quality():
    values = {"name": "王芳", "gender": "F", "birthday": datetime.date(1988, 3, 8), "phone": "13912348765",
              "email": "wf@example.cn", "address": "杭州市西湖区文三路478号", "size_top": "M", "size_bottom": "27",
              "size_shoe": "37", **{f: "喜欢安静的购物环境" for f in SOFT_ARCHIVE_FIELDS}}
    assert completeness(values, SOFT_ARCHIVE_FIELDS, [], TODAY) == (100, 100)


def test_implausible_birthday_is_not_quality():
    values = {"birthday": datetime.date(1890, 1, 1)}
    quantity, quality = completeness(values, [], [], TODAY)
    assert quantity > 0 and quality == 0


def test_extra_fields_count(db):
    values = {"car_brand": "宝马"}
    assert completeness(values, [], ["car_brand"], TODAY)[0] > completeness({}, [], ["car_brand"], TODAY)[0]


def test_staff_archive_ranking_orders_by_quality(store, ops_manager):
    # given two guides: one registers thorough archives, one registers placeholders
    careful = factories.staff(role="account_manager", stores=[store], name="细心")
    hasty = factories.staff(role="account_manager", stores=[store], name="马虎")
    for i in range(3):
        factories.member(name=f"顾客{i}号", phone=f"1390000000{i}", registered_by=careful, gender="F",
                         address="杭州市西湖区文三路478号", hobbies="瑜伽和旅行", occupation="设计师")
        factories.member(name="张先生", registered_by=hasty, hobbies="无")
    # when the operations manager opens the ranking
    ranking = list(staff_archive_ranking(staff=ops_manager))
    # then the careful guide is first, each with 3 archives
    assert [s.name for s in ranking] == ["细心", "马虎"]
    assert ranking[0].archives == 3 and ranking[0].avg_quality > ranking[1].avg_quality
