"""The goods-and-services taxonomy a complaint or report is filed under.

It is data (`cases/data/categories.json`), not code, so that a refined national list is a file
change. Codes are stable: cases store the code, statistics group by it, and a renamed category
keeps its code. Two levels: the group (商品 / 服务) and the category a case is filed under.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.utils.translation import get_language

DATA_FILE = Path(__file__).resolve().parent / "data" / "categories.json"


@cache
def _groups() -> tuple[dict[str, Any], ...]:
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return tuple(data["groups"])


@cache
def _leaves() -> dict[str, dict[str, Any]]:
    return {leaf["code"]: leaf for group in _groups() for leaf in group["children"]}


def _label(entry: dict[str, Any]) -> str:
    """Chinese by default; the English name when the request's language is English."""
    language = get_language() or ""
    return entry.get("name_en", entry["name"]) if language.startswith("en") else entry["name"]


def is_category(code: str) -> bool:
    """Cases are filed under a second-level category, never a bare group."""
    return code in _leaves()


def category_name(code: str) -> str:
    leaf = _leaves().get(code)
    return _label(leaf) if leaf else ""


def category_tree() -> list[dict[str, Any]]:
    """The taxonomy as the API and the submission form show it, in the active language."""
    return [
        {
            "code": group["code"],
            "name": _label(group),
            "children": [{"code": c["code"], "name": _label(c)} for c in group["children"]],
        }
        for group in _groups()
    ]
