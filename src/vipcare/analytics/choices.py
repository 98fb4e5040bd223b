from django.db import models
from django.utils.translation import gettext_lazy as _


class RefreshStatus(models.TextChoices):
    BUILDING = "building", _("Building")
    DONE = "done", _("Done")


class Engine(models.TextChoices):
    DUCKDB = "duckdb", _("DuckDB (embedded)")
    SPARK = "spark", _("Spark (distributed)")


class Lifecycle(models.TextChoices):
    NEW = "new", _("New 新会员")
    ACTIVE = "active", _("Active 活跃")
    AT_RISK = "at_risk", _("At risk 流失预警")
    DORMANT = "dormant", _("Dormant 休眠")
    CHURNED = "churned", _("Churned 流失")


class Pyramid(models.TextChoices):
    A = "A", _("A platinum 白金")
    B = "B", _("B gold 黄金")
    C = "C", _("C iron 钢铁")
    D = "D", _("D lead 重铅")


class Matrix(models.TextChoices):
    CONFIDANT = "confidant", _("Confidant 知己")
    BARNACLE = "barnacle", _("Barnacle 藤壶")
    BUTTERFLY = "butterfly", _("Butterfly 蝴蝶")
    PASSERBY = "passerby", _("Passer-by 过客")


class ValueCurve(models.TextChoices):
    STAR = "star", _("Star 明星")
    CASH_COW = "cash_cow", _("Cash cow 现金")
    QUESTION = "question", _("Question mark 问题")
    DOG = "dog", _("Dog 瘦狗")


class Strategy(models.TextChoices):
    DEEP_CARE = "deep_care", _("Deep care 深度关爱")
    DEEP_ACQUISITION = "deep_acquisition", _("Deep acquisition 深度获取")
    DEEP_MINING = "deep_mining", _("Deep mining 深度挖掘")
    LONG_TERM = "long_term", _("Long-term cultivation 长期培育")
