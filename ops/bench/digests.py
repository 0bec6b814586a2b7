"""The event hash chain for generated cases, without `json.dumps`' per-call machinery.

`cases.events.event_digest` hashes `json.dumps([...], ensure_ascii=False, sort_keys=True,
separators=(",", ":"), default=str)`. Most of its cost is setting up an encoder per call, not
encoding. Here the same text is assembled from pieces: strings through the encoder's own
escaping function (`json.encoder.encode_basestring`; memoised for the few hundred strings the
generator repeats, called directly for case numbers and moments), integers and booleans as JSON
spells them, anything else through `json.dumps` with the same arguments. `tests/test_workload.py`
checks that the digests are byte-identical to `event_digest` on every event of generated chunks.
"""

from __future__ import annotations

import datetime as dt
import json
from hashlib import sha256
from json.encoder import encode_basestring
from typing import Any

from cases.rules import SHANGHAI
from ops.bench.loading import looked_up

_STRINGS: dict[str, str] = {}
_STRINGS_MAX = 100_000  # a cap on the memo, not on what can be encoded


def json_string(value: str) -> str:
    """`value` as JSON text, exactly as `json.dumps(value, ensure_ascii=False)` writes it."""
    text = _STRINGS.get(value)
    if text is None:
        text = encode_basestring(value)
        if len(_STRINGS) < _STRINGS_MAX:
            _STRINGS[value] = text
    return text


def _generic(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def json_text(value: Any) -> str:
    """Compact JSON with sorted keys, identical to `event_digest`'s encoding of `value`."""
    kind = type(value)
    if kind is str:
        return json_string(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    if kind is dict:
        return _object(value)
    if kind is list:
        return "[" + ",".join(json_text(item) for item in value) + "]"
    return _generic(value)


_KEY_ORDERS: dict[tuple[Any, ...], tuple[tuple[str, str], ...]] = {}  # the data's few shapes


def _object(value: dict[Any, Any]) -> str:
    """A dict of string keys, flat values written inline (the events' data are flat); the sorted
    keys, already encoded, are looked up per set of keys."""
    keys = tuple(value)
    order = _KEY_ORDERS.get(keys)
    if order is None:
        if any(type(key) is not str for key in keys):
            return _generic(value)
        order = tuple((key, f"{json_string(key)}:") for key in sorted(keys))
        if len(_KEY_ORDERS) < _STRINGS_MAX:
            _KEY_ORDERS[keys] = order
    parts = []
    for key, prefix in order:
        item = value[key]
        kind = type(item)
        if kind is str:
            text = json_string(item)
        elif kind is int:
            text = int.__repr__(item)
        else:
            text = json_text(item)
        parts.append(prefix + text)
    return "{" + ",".join(parts) + "}"


_UTC_SINCE = dt.datetime(2000, 1, 1, 8, tzinfo=SHANGHAI)  # 2000-01-01T00:00:00Z
_UTC_SECONDS: list[str] = []  # second of the day -> "THH:MM:SS+00:00"


def utc_text(moment: dt.datetime) -> str:
    """`moment.astimezone(dt.UTC).isoformat()`, looked up for the generator's moments (whole
    seconds in Asia/Shanghai, +08:00 all year since 1992: see `loading.moment_text`)."""
    text = looked_up(moment, _UTC_SINCE, _UTC_SECONDS, "T", "+00:00")
    return text or moment.astimezone(dt.UTC).isoformat()


def event_digest(
    *,
    prev_hash: str,
    case_number: str,
    seq: int,
    at: dt.datetime,
    action: str,
    actor_id: int | None,
    department_id: str | None,
    visibility: str,
    note: str,
    data_json: str,
) -> str:
    """`cases.events.event_digest` with the event's data already as `json_text(data)`."""
    return chain_digest(
        prev_hash,
        encode_basestring(case_number),
        seq,
        at,
        action,
        actor_id,
        department_id,
        visibility,
        note,
        data_json,
    )


def chain_digest(
    prev_hash: str,
    number_json: str,
    seq: int,
    at: dt.datetime,
    action: str,
    actor_id: int | None,
    department_id: str | None,
    visibility: str,
    note: str,
    data_json: str,
) -> str:
    """`event_digest` for the events of one case in turn: the case number already as JSON text,
    arguments by position. The moment is written between quotes as it is: ISO text has nothing
    that JSON escapes."""
    payload = (
        f'[{number_json},{int.__repr__(seq)},"{utc_text(at)}",'
        f"{json_string(action)},{'null' if actor_id is None else int.__repr__(actor_id)},"
        f"{'null' if department_id is None else json_string(department_id)},"
        f"{json_string(visibility)},{json_string(note)},{data_json}]"
    )
    return sha256((prev_hash + payload).encode()).hexdigest()
