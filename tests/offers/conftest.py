import datetime
import zoneinfo

import pytest

from vipcare.offers.models import CouponTemplate

SH = zoneinfo.ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, tzinfo=SH)


def template(code: str = "off50", **fields) -> CouponTemplate:
    defaults = {"name": "满300减50", "kind": "amount_off", "amount_fen": 5000, "min_spend_fen": 30000,
                "valid_days": 30}
    defaults.update(fields)
    row = CouponTemplate(code=code, **defaults)
    row.full_clean()
    row.save()
    return row


@pytest.fixture
def off50(db) -> CouponTemplate:
    return template()


@pytest.fixture
def birthday_gift(db) -> CouponTemplate:
    return template("birthday-gift", name="生日礼", kind="gift", amount_fen=0, min_spend_fen=0, gift="生日蛋糕券",
                    valid_days=30, per_member_limit=1, limit_period="year")
