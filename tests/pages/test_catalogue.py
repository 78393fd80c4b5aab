"""Every string the pages show goes through the catalogue, and Chinese has all of them."""

from __future__ import annotations

import re
from pathlib import Path

from api.pages.i18n import translations
from api.pages.routes import FRAME_LABELS

PAGES = Path(__file__).resolve().parents[2] / "api" / "pages"
# Values shown through _() from data rather than written in a template.
FROM_DATA = {"valid", "invalid", "review", "open", "confirmed", "dismissed", "withdrawn", "theory", "practical", "face_capture",
             "photo_kept"} | {label for labels in FRAME_LABELS.values() for label in labels}


def _msgids() -> set[str]:
    found: set[str] = set(FROM_DATA)
    for path in [*PAGES.glob("templates/*.html"), PAGES / "routes.py", PAGES / "measures.py"]:
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'_\("([^"]+)"\)', text)) | set(re.findall(r"_\('([^']+)'\)", text))
        found |= set(re.findall(r'gettext\("([^"]+)"\)', text)) | set(re.findall(r'N_\("([^"]+)"\)', text))
    return found


def test_chinese_translates_every_string() -> None:
    zh = translations("zh_CN")
    missing = sorted(m for m in _msgids() if zh.gettext(m) == m)
    assert missing == []


def test_templates_hold_no_untranslated_text() -> None:
    """Text between tags is a template expression, never words written into the HTML."""
    for path in PAGES.glob("templates/*.html"):
        text = re.sub(r"{[{%#].*?[}%#]}", "", path.read_text(encoding="utf-8"), flags=re.S)
        text = re.sub(r"<(script|style)\b.*?</\1>", "", text, flags=re.S)
        words = [w.strip() for w in re.findall(r">([^<]+)<", text)]
        words = [w for w in words if re.search(r"[A-Za-z\u4e00-\u9fff]{2,}", w) and w not in ("中文", "English")]
        assert words == [], (path.name, words)
