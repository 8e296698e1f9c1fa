"""The site's two languages: Chinese (zh-CN), the default, and English.

Templates and pages write English message ids; ``catalog/zh-CN.json`` gives
each its Chinese, and ``catalog/en.json`` the English of the ids that are
codes (``complaint_about_cadre``). A message missing from a catalog shows as
written rather than not at all (``tests/gateway/test_site.py`` checks that
none is missing).
The reader's choice is kept in a cookie, set by the switch on every page.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

ZH, EN = "zh-CN", "en"
LANGUAGES = (ZH, EN)
DEFAULT = ZH
COOKIE = "orgwork_lang"
CATALOGS = Path(__file__).parent / "catalog"


@cache
def catalog(language: str) -> dict[str, str]:
    """Message id to text in ``language`` (an English sentence is its own id)."""
    with open(CATALOGS / f"{language}.json", encoding="utf-8") as file:
        return dict(json.load(file))


def chosen(cookie: str | None) -> str:
    """The language a cookie names, or the default (anything else in it is ignored)."""
    return cookie if cookie in LANGUAGES else DEFAULT


def translate(language: str, message: str) -> str:
    return catalog(language).get(message, message)
