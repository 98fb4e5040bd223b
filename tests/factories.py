"""Small builders for test data; each returns saved rows made through the services."""

import datetime
import itertools

from django.utils import timezone

from vipcare.members.models import Member
from vipcare.members.services import member_enroll
from vipcare.org.models import Organisation, Staff, Store
from vipcare.org.services import staff_create
from vipcare.sales.models import Sale
from vipcare.sales.services import LineInput, sale_record

_seq = itertools.count(1)
PASSWORD = "vip-care-2026!"


def organisation() -> Organisation:
    return Organisation.objects.first() or Organisation.objects.create(name="星河购物中心")


def store(code: str | None = None, **fields) -> Store:
    n = next(_seq)
    fields.setdefault("name", f"测试店铺{n}")
    fields.setdefault("brand", f"品牌{n}")
    fields.setdefault("category", "fashion")
    return Store.objects.create(organisation=organisation(), code=code or f"S{n:03d}", **fields)


def staff(role: str = "account_manager", stores: list[Store] | None = None, username: str | None = None,
          name: str | None = None) -> Staff:
    n = next(_seq)
    return staff_create(organisation=organisation(), username=username or f"staff{n}", password=PASSWORD,
                        name=name or f"员工{n}", role=role, staff_no=f"E{n:04d}", stores=stores or [])


def member(name: str = "李娜", **fields) -> Member:
    return member_enroll(name=name, **fields)


def sale(member: Member, store: Store, amount_fen: int = 10000, *, quantity: int = 1, sold_at=None,
         receipt_no: str | None = None, **line) -> Sale:
    return sale_record(
        store=store, member=member, receipt_no=receipt_no or f"R{next(_seq):06d}",
        sold_at=sold_at or timezone.now() - datetime.timedelta(days=1),
        lines=[LineInput(unit_price_fen=amount_fen // quantity, quantity=quantity, **line)],
    )
