#!/usr/bin/env python3
"""vendo's stores side by side, in one run, with 1,000,000 devices already registered:

  SQLite, 1 host  |  PostgreSQL, 1 host  |  PostgreSQL, 3 hosts behind haproxy

For each: /gettoken (1000 devices in turn, record cache off so every request reads the
store) and durable registrations/s. Ratios are against SQLite on one host. On a 2-core
machine the three hosts, haproxy, PostgreSQL and wrk all share the same two cores, so the
3-host row shows the cost of the extra hops, not the capacity that three machines would add.

Run by `make bench`; numbers are printed, not asserted.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../tests/integration"))
from peers import Haproxy, PostgresServer  # noqa: E402
from run_bench import REGISTER_LUA, Server, free_port, write_master_key, wrk  # noqa: E402
from sts_bench import devices, lua_for, signed_path  # noqa: E402
from chart import bar_chart  # noqa: E402

SEED = 1_000_000
POLICY = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
          '"Resource":"arn:aws:s3:::bench/${uid}/*"}]}')


def config(workdir, name, port, store):
    path = os.path.join(workdir, name + ".toml")
    with open(path, "w") as f:
        f.write(f"""default_app = "bench"
[admin]
listen = "127.0.0.1:0"
[server]
listen = "127.0.0.1:{port}"
log_level = "warn"
[store]
{store}
master_key_file = "{workdir}/master.key"
cache_ttl_ms = 0
[apps.bench]
allow_insecure_legacy = true
mode = "anonymous"
duration_seconds = 3600
policy = '{POLICY}'
[apps.bench.limits]
tokens_per_device_per_minute = 0  # the benchmark asks for one device's token on purpose
""")
    return path


def seed_sqlite(db):
    sql = ("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < "
           f"{SEED - 1}) INSERT INTO devices (app, uid, key_sealed, user_id, created_at, "
           "updated_at) SELECT 'bench', printf('seed%020d', i), 'unused', NULL, 0, 0 FROM n;")
    subprocess.run(["sqlite3", db, sql], check=True)


def seed_postgres(pg):
    sql = ("INSERT INTO devices (app, uid, key_sealed, user_id, created_at, updated_at) "
           "SELECT 'bench', 'seed' || lpad(i::text, 20, '0'), 'unused', NULL, 0, 0 "
           f"FROM generate_series(0, {SEED - 1}) AS i; ANALYZE devices;")
    with open(pg.password_file) as f:
        env = dict(os.environ, PGPASSWORD=f.read().strip())
    subprocess.run(["psql", "-q", pg.url, "-c", sql], check=True, env=env)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vendo", default="./build/vendo")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    vendo = os.path.abspath(args.vendo)
    workdir = tempfile.mkdtemp(prefix="vendo-storebench-")
    pg = None
    servers = []
    try:
        write_master_key(workdir)
        print(f"[1/2] seeding {SEED:,} devices into SQLite and PostgreSQL", flush=True)
        db = os.path.join(workdir, "bench.db")
        port = free_port()
        s = Server([vendo, "serve", "--config", config(workdir, "schema", port, f'path = "{db}"')],
                   os.path.join(workdir, "schema.log"))
        s.wait_port(port)  # creates the schema
        s.stop()
        seed_sqlite(db)
        pg = PostgresServer()
        pg_store = f'url = "{pg.url}"\npassword_file = "{pg.password_file}"'
        port = free_port()
        s = Server([vendo, "serve", "--config", config(workdir, "pgschema", port, pg_store)],
                   os.path.join(workdir, "pgschema.log"))
        s.wait_port(port)
        s.stop()
        seed_postgres(pg)

        # (label, store, hosts, register the 1000 devices: the PostgreSQL setups share them)
        setups = [("SQLite, 1 host", f'path = "{db}"', 1, True),
                  ("PostgreSQL, 1 host", pg_store, 1, True),
                  ("PostgreSQL, 3 hosts", pg_store, 3, False)]
        print(f"[2/2] /gettoken and /registerdevice, {args.connections} connections, "
              f"{args.seconds}s each", flush=True)
        results = {}
        devs = devices(1000, "bench")
        for label, store, hosts, register in setups:
            ports = [free_port() for _ in range(hosts)]
            servers = []
            for i, p in enumerate(ports):
                srv = Server([vendo, "serve", "--config",
                              config(workdir, f"h{hosts}-{i}", p, store)],
                             os.path.join(workdir, f"h{hosts}-{i}.log"))
                srv.wait_port(p)
                servers.append(srv)
            lb = Haproxy(ports) if hosts > 1 else None
            front = lb.port if lb else ports[0]
            for uid, key in devs if register else []:
                urllib.request.urlopen(
                    f"http://127.0.0.1:{front}/registerdevice?uid={uid}&key={key}").read()
            script = lua_for(workdir, f"paths-{hosts}-{len(results)}",
                             [signed_path(u, k).replace("/apps/bench", "") for u, k in devs])
            get = wrk(f"http://127.0.0.1:{front}/", 2, args.connections, args.seconds, script)
            reg_lua = os.path.join(workdir, "register.lua")
            with open(reg_lua, "w") as f:
                f.write(REGISTER_LUA)
            reg = wrk(f"http://127.0.0.1:{front}/registerdevice", 2, args.connections,
                      args.seconds, reg_lua)
            results[label] = (get, reg)
            if lb:
                lb.stop()
            for srv in servers:
                srv.stop()
            servers = []
        base_get, base_reg = results["SQLite, 1 host"]
        print(f"  {'':<22}{'/gettoken req/s':>16}{'p99 ms':>9}{'ratio':>7}"
              f"{'registrations/s':>18}{'p99 ms':>9}{'ratio':>7}")
        for label, (get, reg) in results.items():
            print(f"  {label:<22}{get['rps']:>16.0f}{get['p99_ms']:>9.2f}"
                  f"{get['rps'] / base_get['rps']:>7.2f}{reg['rps']:>18.0f}{reg['p99_ms']:>9.2f}"
                  f"{reg['rps'] / base_reg['rps']:>7.2f}   non-2xx {get['non2xx'] + reg['non2xx']}")
        bar_chart("store", "/gettoken by store and hosts (req/s)",
                  [(label, get["rps"]) for label, (get, _) in results.items()], "req/s")
    finally:
        for srv in servers:
            srv.stop()
        if pg:
            pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
