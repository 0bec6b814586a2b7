"""Free text as people type it: what counts as written.

`str.strip` removes white space but not the invisible format characters a paste can carry
(zero-width spaces U+200B, direction marks and overrides U+200E/U+202E, the byte-order mark
U+FEFF): a note made of them alone would pass a "required" check and show as nothing.
"""

from __future__ import annotations

import unicodedata

# Unicode categories that show nothing on their own: controls, format characters, separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def clean_text(value: str) -> str:
    """`value` without surrounding white space; "" when no visible character is left."""
    text = value.strip()
    if any(unicodedata.category(ch) not in _INVISIBLE for ch in text):
        return text
    return ""
