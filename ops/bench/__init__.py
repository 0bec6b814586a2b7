"""The benchmark suite (`manage.py bench`) and the fast table writers of the workload generator.

- `loading`: bulk writes of generated rows (PostgreSQL COPY through psycopg, executemany elsewhere);
- `figures`: percentiles, ratios and CPU arithmetic, pure and unit-tested;
- `cpu`: machine and per-process CPU time from /proc;
- `loadgen`: the HTTP load generator (closed loop with N keep-alive connections, or a fixed rate);
- `intake`, `reads`, `sweep`: the measurements, each beside its raw baseline where it has one;
- `runner`: one bench run on one database (started by `manage.py bench` in a child process);
- `report`: `var/bench/latest.json` and the readable table.
"""
