"""Pure rules of the care engine: quiet hours, sales words, priority, the falling-off fallback."""

import datetime
import re

from django.template import Context, Engine

_engine = Engine(autoescape=False)
_templates: dict[str, object] = {}


def render(template: str, context: dict) -> str:
    """A playbook template ({{ salutation }}, {{ staff }}, {{ store }}…) filled in; compiled once."""
    compiled = _templates.get(template)
    if compiled is None:
        compiled = _templates[template] = _engine.from_string(template)
    return compiled.render(Context(context)).strip()


_TAG = re.compile(r"{{(.*?)}}|{%(.*?)%}", re.S)
_NAME = re.compile(r"[A-Za-z_]\w*")


def template_names(template: str) -> tuple[str, ...]:
    """Every identifier inside the template's tags: the context names its output can depend on
    (keywords and filter names come along; they only make the set larger, never wrong)."""
    return tuple(sorted({name for groups in _TAG.findall(template) for part in groups
                         for name in _NAME.findall(part)}))


class Renderer:
    """Renders each template once per distinct combination of the values it uses.

    On a festival day a million members share a few thousand (salutation, staff, store)
    combinations; the sales-word check is done once per distinct text too."""

    LIMIT = 200_000  # entries kept; per-member contexts (points, dates) would otherwise grow it

    def __init__(self, sales_words: list[str]):
        self.sales_words = sales_words
        self._names: dict[str, tuple[str, ...]] = {}
        self._done: dict[tuple, tuple[str, list[str]]] = {}

    def render(self, template: str, context: dict) -> tuple[str, list[str]]:
        """The text, and the sales words found in it."""
        names = self._names.get(template)
        if names is None:
            names = self._names[template] = template_names(template)
        key = (template, *map(context.get, names))
        try:
            found = self._done.get(key)
        except TypeError:  # an unhashable value: render without remembering
            key, found = None, None
        if found is None:
            text = render(template, context)
            found = (text, sales_words_in(text, self.sales_words))
            if key is not None:
                if len(self._done) >= self.LIMIT:
                    self._done.clear()
                self._done[key] = found
        return found


def sales_words_in(text: str, words: list[str]) -> list[str]:
    return [word for word in words if word and word in text]


class SalesWordsError(ValueError):
    """A care message (birthday, holiday, season, miss-you) may not sell."""

    def __init__(self, words: list[str]):
        self.words = words
        super().__init__("care messages may not mention sales: " + "、".join(words))


def check_care_text(text: str, words: list[str]) -> None:
    found = sales_words_in(text, words)
    if found:
        raise SalesWordsError(found)


def in_quiet_hours(at: datetime.time, start: datetime.time, end: datetime.time) -> bool:
    if start == end:
        return False
    if start > end:  # over midnight, e.g. 21:00–09:00
        return at >= start or at < end
    return start <= at < end


def after_quiet_hours(at: datetime.datetime, start: datetime.time, end: datetime.time) -> datetime.datetime:
    """`at` (aware, local) moved to the end of quiet hours when it falls inside them."""
    if not in_quiet_hours(at.timetz().replace(tzinfo=None), start, end):
        return at
    day = at.date()
    if start > end and at.time() >= start:
        day += datetime.timedelta(days=1)
    return at.replace(year=day.year, month=day.month, day=day.day, hour=end.hour, minute=end.minute, second=0,
                      microsecond=0)


# The analytics' maintenance strategies (SPEC C6): deep care for the confidants and stars first,
# then the valuable but disloyal (deep acquisition), then deep mining; long-term cultivation adds nothing.
STRATEGY_WEIGHT = {"deep_care": 8, "deep_acquisition": 5, "deep_mining": 3, "long_term": 0}


def priority(*, base: int, rank: int = 0, labels: dict | None = None) -> int:
    """Higher for higher levels, more valuable members and members we risk losing (0–100)."""
    labels = labels or {}
    score = base + 8 * rank
    if labels.get("falling_off"):
        score += 10
    score += STRATEGY_WEIGHT.get(labels.get("strategy"), 0)
    clv = labels.get("clv_fen") or 0
    if clv >= 5_000_000:
        score += 10
    elif clv >= 1_000_000:
        score += 5
    return max(0, min(100, score))


def falling_off(*, visits_last_year: int, visits_last_90_days: int, min_visits_per_year: int = 6,
                ratio: float = 0.5) -> tuple[bool, str]:
    """A regular (at least `min_visits_per_year`) whose last 90 days fell below `ratio` of their
    own usual pace; with the reason in words."""
    if visits_last_year < min_visits_per_year:
        return False, ""
    expected = visits_last_year * 90 / 365
    if visits_last_90_days < expected * ratio:
        return True, f"近90天到店{visits_last_90_days}次，平时约{expected:.0f}次"
    return False, ""


def slot(member_id: int, size: int) -> int:
    """Spreads periodic work over days: member `id` gets slot id mod size."""
    return member_id % size
