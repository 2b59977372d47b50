"""Several stateless vendo hosts on one PostgreSQL, behind haproxy: a host killed with SIGKILL
loses no acknowledged registration, devices registered on one host get tokens from the
others, and PostgreSQL restarting under load is survived. Also `vendo store copy`."""
import http.client
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from peers import Haproxy, PostgresServer, free_port
from vendo_harness import (VENDO, Vendo, new_device, now_ts, sign_b64, write_config)

APPS = """
[apps.sensors]
allow_insecure_legacy = true
mode = "anonymous"
duration_seconds = 3600
policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${uid}/*"}]}'
[apps.sensors.limits]
tokens_per_device_per_minute = 0  # the load asks for a few devices' tokens again and again
"""


def pg_store(pg, cache_ttl_ms=1000):
    return (f'url = "{pg.url}"\npassword_file = "{pg.password_file}"\n'
            f"cache_ttl_ms = {cache_ttl_ms}")


class Client:
    """One keep-alive connection to `port`, reopened after errors."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def get(self, path, params):
        import urllib.parse
        target = path + "?" + urllib.parse.urlencode(params)
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            self.conn.request("GET", target)
            r = self.conn.getresponse()
            r.read()
            return r.status
        except (OSError, http.client.HTTPException):
            if self.conn:
                self.conn.close()
            self.conn = None
            return None  # no answer

    def register(self, uid, key):
        return self.get("/apps/sensors/registerdevice", {"uid": uid, "key": key})

    def gettoken(self, uid, key):
        ts = now_ts()
        return self.get("/apps/sensors/gettoken",
                        {"uid": uid, "timestamp": ts, "signature": sign_b64(key, ts)})


class ScaleOutTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PostgresServer()
        cls.dir = tempfile.mkdtemp(prefix="vendo-scale-")
        cls.key_file = os.path.join(cls.dir, "master.key")
        with open(cls.key_file, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        os.chmod(cls.key_file, 0o600)

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def host(self, name, port=0, cache_ttl_ms=1000):
        d = os.path.join(self.dir, name)
        os.makedirs(d, exist_ok=True)
        cfg = write_config(d, APPS, listen=f"127.0.0.1:{port}", store=pg_store(self.pg, cache_ttl_ms),
                           server_extra='trusted_proxies = ["127.0.0.1"]', key_file=self.key_file)
        v = Vendo(data_dir=d, config=cfg).start()
        self.addCleanup(v.cleanup)
        return v

    def test_three_hosts_behind_haproxy_survive_a_sigkill(self):
        ports = [free_port() for _ in range(3)]
        hosts = [self.host(f"host{i}", p) for i, p in enumerate(ports)]
        lb = Haproxy(ports)
        self.addCleanup(lb.stop)

        acked = []           # (uid, key) of registrations answered 200
        failures = []        # (time, what) of requests with no 2xx answer
        lock = threading.Lock()
        stop = threading.Event()
        killed_at = []

        def worker():
            c = Client(lb.port)
            while not stop.is_set():
                uid, key = new_device()
                status = c.register(uid, key)
                now = time.time()
                with lock:
                    if status == 200:
                        acked.append((uid, key))
                    else:
                        failures.append((now, f"register {status}"))
                    sample = acked[len(acked) // 2] if acked else None
                if sample:
                    status = c.gettoken(*sample)
                    if status != 200:
                        with lock:
                            failures.append((time.time(), f"gettoken {status}"))

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        killed_at.append(time.time())
        hosts[1].proc.send_signal(signal.SIGKILL)
        time.sleep(2.5)
        stop.set()
        for t in threads:
            t.join(timeout=30)

        self.assertGreater(len(acked), 100, "the load ran")
        # Only requests the killed host had taken fail: those it was serving, and those the
        # kernel had queued on its socket before the kill (haproxy had connected already, so
        # it cannot retry them). All right after the kill; refused connections are retried
        # elsewhere and haproxy drops the host within a few health checks.
        self.assertLessEqual(len(failures), 2 * len(threads), failures)
        for when, what in failures:
            self.assertGreaterEqual(when, killed_at[0], what)
            self.assertLess(when, killed_at[0] + 1.0, what)
        # No acknowledged registration is lost, and every device, whichever host registered
        # it, gets tokens from each surviving host directly.
        for survivor in (hosts[0], hosts[2]):
            c = Client(survivor.port)
            statuses = [c.gettoken(uid, key) for uid, key in acked]
            self.assertEqual(statuses.count(200), len(acked), survivor.port)
        # The killed host's access log shows it served part of the load before it died.
        self.assertIn('"path":"/apps/sensors/registerdevice"', hosts[1].logs())
        # Client addresses come from haproxy's X-Forwarded-For (trusted_proxies).
        self.assertIn('"remote":"127.0.0.1"', hosts[0].logs())

    def test_postgres_restart_under_load(self):
        v = self.host("restart")
        uid, key = new_device()
        self.assertEqual(Client(v.port).register(uid, key), 200)
        results = []  # (time, status)
        stop = threading.Event()

        def worker():
            c = Client(v.port)
            while not stop.is_set():
                new_uid, new_key = new_device()
                results.append((time.time(), c.register(new_uid, new_key), "register"))
                results.append((time.time(), c.gettoken(uid, key), "gettoken"))
                time.sleep(0.01)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        self.pg.kill()
        down_at = time.time()
        time.sleep(2.0)
        restarting_at = time.time()
        self.pg.restart()
        up_at = time.time()
        time.sleep(6.0)
        stop.set()
        for t in threads:
            t.join(timeout=30)

        self.assertIsNone(v.proc.poll(), "vendo is still running")
        during = [(round(t - down_at, 2), s, w) for t, s, w in results
                  if down_at + 1.2 < t < restarting_at]  # past the 1 s record cache
        self.assertTrue(during)
        self.assertEqual({s for _, s, _ in during}, {500}, during[:20])
        after = [(t, s) for t, s, _ in results if t > up_at]
        recovered = [t for t, s in after if s == 200]
        self.assertTrue(recovered, "vendo recovers by itself")
        self.assertLess(recovered[0] - up_at, 5.0)
        self.assertTrue(all(s == 200 for t, s in after if t > recovered[0] + 1.0),
                        [s for t, s in after if s != 200])
        self.assertEqual(v.request("GET", "/readyz")[0], 200)


class StoreCopyTest(unittest.TestCase):
    def test_copy_from_sqlite_to_postgres_then_serve(self):
        pg = PostgresServer()
        self.addCleanup(pg.stop)
        d = tempfile.mkdtemp(prefix="vendo-copy-")
        self.addCleanup(shutil.rmtree, d, True)
        single = Vendo(data_dir=d, config=write_config(d, APPS)).start()
        devices = [new_device() for _ in range(50)]
        c = Client(single.port)
        for uid, key in devices:
            self.assertEqual(c.register(uid, key), 200)
        single.stop()

        def copy():
            return subprocess.run(
                [VENDO, "store", "copy", "--from", f"sqlite://{d}/vendo.db", "--to", pg.url,
                 "--to-password-file", pg.password_file], capture_output=True, text=True)

        first = copy()
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertIn("copied 50 devices and 0 users", first.stdout)
        self.assertIn("verified", first.stdout)
        # Progress: each step with how far it came.
        self.assertRegex(first.stderr, r"copying devices\s+50 rows")
        self.assertRegex(first.stderr, r"verifying target devices\s+50 rows")
        again = copy()
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("copied 0 devices", again.stdout)
        # A password in the URL is refused, and not echoed.
        bad = subprocess.run([VENDO, "store", "copy", "--from", f"sqlite://{d}/vendo.db",
                              "--to", pg.url.replace("vendo@", "vendo:hunter2@")],
                             capture_output=True, text=True)
        self.assertEqual(bad.returncode, 2)
        self.assertNotIn("hunter2", bad.stderr + bad.stdout)

        # The same devices now get tokens from a host on PostgreSQL, with the same master key.
        cfg = write_config(d, APPS, store=pg_store(pg), name="pg.toml")
        migrate = subprocess.run([VENDO, "store", "migrate", "--config", cfg],
                                 capture_output=True, text=True)
        self.assertEqual(migrate.returncode, 0, migrate.stderr)
        self.assertRegex(migrate.stdout, r"schema version \d+ \(current\)")
        host = Vendo(data_dir=d, config=cfg).start()
        self.addCleanup(host.cleanup)
        c = Client(host.port)
        self.assertEqual([c.gettoken(uid, key) for uid, key in devices], [200] * 50)


if __name__ == "__main__":
    unittest.main()
