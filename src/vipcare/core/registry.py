"""Places where apps plug into shared screens without editing them.

Each app registers in its AppConfig.ready():
- NAV_ITEMS: `NavItem(label, url_name, roles)` — a link in the top navigation; `roles` empty
  means every staff role.
- MEMBER_PANELS: `panel(*, member, staff) -> Panel | None` — a card on the member 360 page
  (levels and points, segments, care tasks…), rendered from the app's own template.
- MEMBER_CARD_FACTS: `fact(*, member, staff) -> list[tuple[label, value]]` — short facts on the
  one-glance member card (level, points, open complaints…).
The member timeline has its own list: vipcare.members.selectors.TIMELINE_SOURCES.
"""

import dataclasses
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str] = frozenset()
    order: int = 100


@dataclasses.dataclass
class Panel:
    title: str
    template: str
    context: dict
    order: int = 100  # lower comes first


NAV_ITEMS: list[NavItem] = []
MEMBER_PANELS: list[Callable[..., Panel | None]] = []
MEMBER_CARD_FACTS: list[Callable[..., list[tuple[str, str]]]] = []


def nav_for(staff) -> list[NavItem]:
    if staff is None:
        return []
    items = [item for item in NAV_ITEMS if not item.roles or staff.role in item.roles]
    return sorted(items, key=lambda item: item.order)


def member_panels(*, member, staff) -> list[Panel]:
    panels = [panel for make in MEMBER_PANELS if (panel := make(member=member, staff=staff)) is not None]
    return sorted(panels, key=lambda panel: panel.order)


def member_card_facts(*, member, staff) -> list[tuple[str, str]]:
    return [fact for make in MEMBER_CARD_FACTS for fact in make(member=member, staff=staff)]
