"""The ladder the documents describe: quarterly spend ¥2,000 / ¥5,000 / ¥10,000 / ¥20,000 for
普通卡 / 银卡 / 金卡 / 钻石卡, and a single purchase of ¥1,000 earning the ordinary card at once."""

from decimal import Decimal

from django.db import migrations

LADDER = [
    # code, name, rank, quarterly spend, single purchase, discount %, points ×, birthday extra %, services
    ("ordinary", "普通卡", 1, 200000, 100000, "0", "1.00", "5",
     {"parking_hours": 1, "lounge": False, "priority_delivery": False}),
    ("silver", "银卡", 2, 500000, None, "3", "1.20", "5",
     {"parking_hours": 2, "lounge": False, "priority_delivery": False}),
    ("gold", "金卡", 3, 1000000, None, "5", "1.50", "5",
     {"parking_hours": 3, "lounge": True, "priority_delivery": True}),
    ("diamond", "钻石卡", 4, 2000000, None, "8", "2.00", "10",
     {"parking_hours": 5, "lounge": True, "priority_delivery": True}),
]


def create(apps, schema_editor):
    Tier = apps.get_model("loyalty", "Tier")
    for code, name, rank, spend, single, discount, multiplier, birthday, services in LADDER:
        Tier.objects.get_or_create(code=code, defaults=dict(
            name=name, rank=rank, threshold_fen=spend, threshold_points=spend // 100, single_purchase_fen=single,
            discount_percent=Decimal(discount), points_multiplier=Decimal(multiplier),
            birthday_discount_percent=Decimal(birthday), services=services,
        ))
    apps.get_model("loyalty", "TierPolicy").objects.get_or_create(pk=1)
    apps.get_model("loyalty", "PointsPolicy").objects.get_or_create(pk=1)


def remove(apps, schema_editor):
    apps.get_model("loyalty", "Tier").objects.filter(code__in=[row[0] for row in LADDER]).delete()


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
