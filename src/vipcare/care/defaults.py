# ruff: noqa: E501  (message templates read best unbroken)
"""The default playbooks (written by a data migration; every one can be switched off or edited)."""

SIGN = "{{ store }} {{ staff }}"

HOLIDAY_WISHES = {
    "spring_festival": "新春快乐！祝您和家人在新的一年里身体健康、万事如意。",
    "new_years_eve": "除夕团圆夜，祝您和家人团团圆圆、平安喜乐。",
    "lantern": "元宵节快乐！愿您阖家团圆，日子甜甜美美。",
    "dragon_boat": "端午安康！天气渐热，注意防暑，愿您和家人平安健康。",
    "qixi": "七夕快乐！愿您与爱的人相守相伴，幸福美满。",
    "mid_autumn": "中秋快乐！月圆人团圆，祝您和家人幸福安康。",
    "double_ninth": "重阳节到了，祝您和家中长辈身体康健，秋高气爽，心情舒畅。",
    "new_year": "新年快乐！感谢您一年来的陪伴，祝您新的一年顺心如意。",
    "womens_day": "节日快乐！愿您美丽常在，自在从容。",
    "mothers_day": "母亲节快乐！愿您被爱包围，健康开心。",
    "fathers_day": "父亲节快乐！工作再忙也别忘了休息，愿您身体健康。",
    "teachers_day": "教师节快乐！您辛苦了，愿您桃李满园、身体健康。",
    "national_day": "国庆快乐！假期出行注意安全，愿您和家人度过愉快的长假。",
}
SEASON_WISHES = {
    "spring": "春回大地，早晚仍有凉意，出门记得添件外套，愿您春日安好。",
    "summer": "天气渐热，注意防晒、多喝水，饮食清淡些，愿您清爽一夏。",
    "autumn": "秋意渐起，早晚温差大，注意加减衣服、多喝温水，愿您秋日安康。",
    "winter": "天气转凉了，出入注意保暖、加减衣服，饮食宜温热，愿您冬日温暖。",
}

PLAYBOOKS = [
    {"kind": "birthday", "name": "生日祝福短信", "action": "message", "channel": "sms", "priority": 60,
     "parameters": {"channels": ["sms", "wechat"], "send_time": "10:00"},
     "template": "{{ salutation }}，今天是您的生日！" + SIGN + "祝您生日快乐，幸福安康，心愿达成。"},
    {"kind": "birthday_gift", "name": "高等级会员生日礼物", "action": "task", "channel": "phone", "priority": 70,
     "parameters": {"top_ranks": 2, "lead_days": 7},
     "template": "从礼品清单为{{ salutation }}选一份生日礼物（生日{{ birthday }}），邮寄后记录快递单号，系统会告知会员礼物已寄出。"},
    {"kind": "holiday", "name": "节日问候", "action": "message", "channel": "sms", "priority": 40,
     "parameters": {"channels": ["sms", "wechat"], "send_time": "09:30",
                    "festivals": ["spring_festival", "lantern", "dragon_boat", "qixi", "mid_autumn", "double_ninth",
                                  "new_year", "womens_day", "mothers_day", "national_day"],
                    "gender": {"womens_day": "F", "mothers_day": "F", "fathers_day": "M"},
                    "wishes": HOLIDAY_WISHES},
     "template": "{{ salutation }}，{{ wish }}" + SIGN + "敬上"},
    {"kind": "season", "name": "换季关怀", "action": "message", "channel": "sms", "priority": 40,
     "parameters": {"channels": ["sms", "wechat"], "send_time": "09:30", "wishes": SEASON_WISHES},
     "template": "{{ salutation }}，今日{{ term }}。{{ wish }}" + SIGN},
    {"kind": "new_member_call", "name": "新会员首次消费一周回访", "action": "task", "channel": "phone", "priority": 60,
     "parameters": {"after_days": 7, "due_time": "15:00"},
     "template": "{{ salutation }}您好，我是{{ store }}的{{ staff }}。您上周在我们店买的东西用得还满意吗？"
                 "有什么想法和建议都可以告诉我。（不满意时可送一份小礼品）"},
    {"kind": "new_member_weekly", "name": "每周一：上周新会员本周回访", "action": "task", "channel": "phone",
     "priority": 50, "parameters": {"due_days": 4},
     "template": "{{ salutation }}您好，我是{{ store }}的{{ staff }}，欢迎您成为我们的会员！跟您核对一下资料，"
                 "也给您介绍一下会员可以享受的权益和服务。"},
    {"kind": "regular_call", "name": "VIP定期电话问候", "action": "task", "channel": "phone", "priority": 45,
     "parameters": {"min_rank": 1, "every_months_by_rank": {"1": 3, "2": 1}, "every_months_by_strategy": {},
                    "due_time": "14:00"},
     "template": "{{ salutation }}您好，我是{{ store }}的{{ staff }}。最近天气变化大，您和家人都好吧？"
                 "（聊聊生活，不谈产品；有空请她来店里喝杯茶）"},
    {"kind": "director_contact", "name": "店长/主管亲自联系顶级VIP", "action": "task", "channel": "phone",
     "priority": 80, "parameters": {"top_ranks": 1, "period_months": 3},
     "template": "{{ salutation }}您好，我是{{ store }}的店长{{ staff }}，感谢您一直以来的支持，想听听您对我们服务的意见。"},
    {"kind": "miss_you", "name": "久未到店的想念问候", "action": "message", "channel": "sms", "priority": 30,
     "parameters": {"channels": ["sms", "wechat"], "send_time": "10:30", "absent_days": 90, "every_weeks": 1,
                    "stop_after_days": 730},
     "template": "{{ salutation }}，好久不见，{{ store }}的{{ staff }}很想念您。最近天气多变，记得注意休息，照顾好自己。"},
    {"kind": "thank_you", "name": "到店后感谢问候", "action": "message", "channel": "sms", "priority": 30,
     "parameters": {"channels": ["wechat", "sms"], "delay_minutes": 30},
     "template": "{{ salutation }}，谢谢您今天来{{ store }}，回家路上注意安全，祝您生活愉快！{{ staff }}"},
    {"kind": "falling_off", "name": "老顾客消费减少回访", "action": "task", "channel": "phone", "priority": 65,
     "parameters": {"min_visits_per_year": 6, "ratio": 0.5, "due_time": "16:00"},
     "template": "{{ salutation }}您好，我是{{ store }}的{{ staff }}，有段时间没见到您了，最近都好吗？"
                 "（倾听并记录她的想法）"},
    {"kind": "points_milestone", "name": "积分接近整数里程碑问候", "action": "message", "channel": "sms",
     "priority": 30, "parameters": {"channels": ["sms", "wechat"], "send_time": "11:00",
                                    "milestones": [10000, 50000, 100000], "within": 1000},
     "template": "{{ salutation }}您好，您的积分已有{{ points }}分，离{{ milestone }}分只差{{ gap }}分了，感谢您的支持！" + SIGN},
    {"kind": "points_expiring", "name": "积分到期提醒", "action": "message", "channel": "sms", "priority": 35,
     "parameters": {"channels": ["sms", "wechat"], "send_time": "11:00", "within_days": 30},
     "template": "{{ salutation }}您好，您有{{ points }}积分将于{{ expiry }}到期，记得在到期前使用哦。" + SIGN},
    {"kind": "occasion_notice", "name": "VIP活动/优惠提前3天通知", "action": "message", "channel": "sms",
     "priority": 55, "parameters": {"channels": ["sms", "wechat"], "send_time": "10:00", "days_ahead": 3,
                                    "call_script": "{{ salutation }}您好，我是{{ store }}的{{ staff }}，{{ starts_on }}"
                                                   "我们有{{ occasion }}，特别想邀请您来，您方便吗？"},
     "template": "{{ salutation }}您好，{{ occasion }}将于{{ starts_on }}举行，诚邀您光临。" + SIGN},
    {"kind": "gift_sent", "name": "礼物寄出通知", "action": "message", "channel": "sms", "priority": 50,
     "parameters": {"channels": ["sms", "wechat"]},
     "template": "{{ salutation }}您好，为您准备的{{ gift }}已经寄出{% if tracking_no %}（快递单号{{ tracking_no }}）"
                 "{% endif %}，请注意查收。" + SIGN},
    {"kind": "complaint_survey", "name": "投诉处理后满意度回访", "action": "task", "channel": "phone", "priority": 75,
     "parameters": {"after_days": 1},
     "template": "{{ salutation }}您好，关于您之前反映的问题我们已经处理，想听听您对处理结果满不满意（1–5分）？"},
]
