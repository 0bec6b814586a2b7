"""`field__any_of=[...]`: membership in a list sent as one array on PostgreSQL.

`field__in=[...]` writes one placeholder per value: with thousands of values psycopg splits the
statement text again on every execution (past 50 parameters it keeps no parsed copy) and
PostgreSQL plans a fresh statement for each list length. `= ANY(%s)` sends the list as a single
array parameter: one text whatever the length. Other databases get `IN (...)`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import IntegerField, Lookup


@IntegerField.register_lookup
class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[int]:
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values: list[int] = self.rhs
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, values]
        if not values:
            return "0 = 1", list(lhs_params)
        placeholders = ", ".join(["%s"] * len(values))
        return f"{lhs} IN ({placeholders})", [*lhs_params, *values]
