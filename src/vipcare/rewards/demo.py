"""The rewards' part of the demo: a catalogue a mall's service desk starts with (gifts with stock,
a coupon for points), and a few redemptions by members with points, some still waiting to be
handed over. Everything goes through the services; the same run twice adds nothing twice."""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

# code, name, description, points, stock, per member
GIFTS = [
    ("umbrella", "晴雨伞", "商场定制折叠伞", 800, 120, 1),
    ("parking-2h", "停车券 2小时", "地下停车场", 300, 500, 4),
    ("tote-bag", "帆布购物袋", "周年庆限定款", 1500, 60, 1),
    ("afternoon-tea", "双人下午茶", "三楼咖啡厅", 5000, 12, 1),
]
COUPON = ("off50-for-points", "满300减50券", "积分换券", 2000, None, 2, "off50")


def rewards_demo(*, as_of: datetime.date, write=print) -> dict:
    from vipcare.loyalty.models import PointsAccount
    from vipcare.members.choices import MemberStatus
    from vipcare.offers.models import CouponTemplate
    from vipcare.rewards.models import Reward
    from vipcare.rewards.services import RewardRefused, reward_redeem

    rewards = []
    for code, name, description, points, stock, limit in GIFTS:
        rewards.append(Reward.objects.get_or_create(code=code, defaults={
            "name": name, "description": description, "points": points, "stock": stock,
            "per_member_limit": limit})[0])
    template = CouponTemplate.objects.filter(code=COUPON[6]).first()
    if template is not None:
        code, name, description, points, stock, limit, _template = COUPON
        rewards.append(Reward.objects.get_or_create(code=code, defaults={
            "name": name, "kind": "coupon", "coupon_template": template, "description": description,
            "points": points, "stock": stock, "per_member_limit": limit})[0])

    noon = timezone.make_aware(datetime.datetime.combine(as_of, datetime.time(11)))
    members = (PointsAccount.objects.filter(balance__gte=2000, member__home_store__isnull=False,
                                            member__status=MemberStatus.ACTIVE)
               .select_related("member__home_store").order_by("-balance", "pk")[:12])
    redeemed = 0
    for i, account in enumerate(members):
        # the first reward from the i-th on that the member can afford
        reward = next((rewards[(i + k) % len(rewards)] for k in range(len(rewards))
                       if rewards[(i + k) % len(rewards)].points <= account.balance), rewards[0])
        try:
            reward_redeem(reward=reward, member=account.member, store=account.member.home_store,
                          idempotency_key=f"demo-reward:{account.member_id}", hand_over=i % 3 != 0,
                          at=noon - datetime.timedelta(days=i, minutes=13 * i))
            redeemed += 1
        except (RewardRefused, ValidationError):
            continue
    write(f"  {len(rewards)} rewards in the catalogue, {redeemed} redeemed")
    return {"rewards": len(rewards), "redeemed": redeemed}
