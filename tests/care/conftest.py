import datetime

import pytest
from django.utils import timezone

from tests import factories
from vipcare.loyalty.models import MemberTier, Tier


@pytest.fixture
def tiers(db):
    """The default ladder: 1 普通卡, 2 银卡, 3 金卡, 4 钻石卡."""
    return {t.rank: t for t in Tier.objects.all()}


def give_tier(member, tier):
    MemberTier.objects.update_or_create(member=member, defaults={"tier": tier, "since": timezone.now()})


@pytest.fixture
def vip(db, store, account_manager, tiers):
    """A diamond (钻石卡) member who consents to SMS and phone, born 1985-03-08 (solar)."""
    member = factories.member(name="李娜", phone="13812345678", home_store=store, gender="F",
                              birthday=datetime.date(1985, 3, 8), consent_sms=True, consent_phone=True,
                              account_manager=account_manager)
    give_tier(member, tiers[4])
    return member
