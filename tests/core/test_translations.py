"""Chinese is the first language: every catalogue is complete."""

from pathlib import Path

import pytest

import vipcare

CATALOGUES = sorted(Path(vipcare.__file__).parent.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))


def _entries(po: Path):
    """(msgid, msgstrs, fuzzy) per entry, read with a small parser of the .po format."""
    entry, key, fuzzy = {}, None, False
    for line in po.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry.get("msgid"):
                yield entry["msgid"], [v for k, v in entry.items() if k.startswith("msgstr")], fuzzy
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


def test_there_are_catalogues():
    assert CATALOGUES


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.parent.parent.parent.parent.name))
def test_every_string_is_translated(po):
    missing = [msgid for msgid, msgstrs, fuzzy in _entries(po) if fuzzy or not all(msgstrs)]
    assert missing == []
    assert po.with_suffix(".mo").exists(), "run compilemessages"


def test_the_check_finds_an_untranslated_and_a_fuzzy_entry(tmp_path):
    po = tmp_path / "django.po"
    po.write_text('msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\nmsgid "Members"\nmsgstr "会员"\n\n'
                  'msgid "Today"\nmsgstr ""\n\n#, fuzzy\nmsgid "Visit"\nmsgstr "到店次数"\n', encoding="utf-8")
    assert [(m, f) for m, s, f in _entries(po) if f or not all(s)] == [("Today", False), ("Visit", True)]
