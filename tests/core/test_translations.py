"""Chinese is the first language: the catalogue is complete, compiled, and one."""

import gettext
from pathlib import Path

import pytest
from django.utils import translation

import vipcare

CATALOGUES = sorted(Path(vipcare.__file__).parent.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))


def _entries(po: Path):
    """(msgid, msgstrs, fuzzy) per entry, read with a small parser of the .po format; an entry
    with a context has the key gettext gives it, "context\x04msgid"."""
    entry, key, fuzzy = {}, None, False
    for line in po.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry.get("msgid"):
                msgid = f"{entry['msgctxt']}\x04{entry['msgid']}" if "msgctxt" in entry else entry["msgid"]
                yield msgid, [v for k, v in entry.items() if k.startswith("msgstr")], fuzzy
            entry, key, fuzzy = {}, None, False
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += line[1:-1]
        else:
            key, _, value = line.partition(" ")
            entry[key] = value[1:-1]


def test_there_is_one_catalogue():
    # `make messages` puts a string in the nearest locale folder up the tree, and at run time a
    # string in two catalogues takes the translation of whichever comes first: one catalogue
    # keeps each word translated once, and the same everywhere unless a context says otherwise
    assert [p.relative_to(Path(vipcare.__file__).parent) for p in CATALOGUES] == [
        Path("locale/zh_Hans/LC_MESSAGES/django.po")]


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.parent.parent.parent.parent.name))
def test_every_string_is_translated(po):
    missing = [msgid for msgid, msgstrs, fuzzy in _entries(po) if fuzzy or not all(msgstrs)]
    assert missing == []
    # and the compiled catalogue is the one the .po says (make messages compiles it)
    compiled = gettext.GNUTranslations(po.with_suffix(".mo").open("rb"))._catalog
    stale = [msgid for msgid, msgstrs, _ in _entries(po)
             if msgid and compiled.get(msgid, compiled.get((msgid, 0))) != msgstrs[0]]  # (msgid, 0): a plural
    assert stale == [], "run make messages"


def test_one_word_in_two_places_reads_right_in_each(db):
    with translation.override("zh-hans"):
        assert translation.gettext("Stored value") == "储值"
        assert translation.gettext("Hand over") == "领取"  # a reward handed to the member
        assert translation.pgettext("staff handover", "Hand over") == "交接"  # a leaving colleague's members


def test_the_check_finds_an_untranslated_and_a_fuzzy_entry(tmp_path):
    po = tmp_path / "django.po"
    po.write_text('msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\nmsgid "Members"\nmsgstr "会员"\n\n'
                  'msgid "Today"\nmsgstr ""\n\n#, fuzzy\nmsgid "Visit"\nmsgstr "到店次数"\n', encoding="utf-8")
    assert [(m, f) for m, s, f in _entries(po) if f or not all(s)] == [("Today", False), ("Visit", True)]
