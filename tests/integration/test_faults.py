"""The fault suite (issue 18): one real `vendo serve` per fault, driven by a fake STS that hangs,
throttles, fails, resets, is refused, is slow or talks garbage, and by a real PostgreSQL that
the test freezes (SIGSTOP) and thaws itself. Each test prints one FAULT line with what it
measured (answered, dropped, STS calls per request, latencies, recovery), then checks it.

VENDO_FAULTS_BEFORE=1 leaves out the configuration keys these fixes added, so that the same
measurements can be taken of a binary from before them (801894f); its checks then fail."""
import datetime
import hashlib
import hmac
import http.client
import json
import os
import signal
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

from fake_sts import FakeSts
from peers import PostgresServer, free_port
from vendo_harness import (IDENT_ENDPOINT, VENDO, Vendo, b64url, new_device, now_ts, s3_policy,
                           salted_hash, sign_b64, sign_hex, two_apps, unb64url, write_config,
                           write_secret)

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../..")
BEFORE = os.environ.get("VENDO_FAULTS_BEFORE") == "1"
POLICY = s3_policy()


def new_keys(text):
    """Configuration that only the fixed binary knows."""
    return "" if BEFORE else text


def report(fault, **measured):
    print("\nFAULT " + json.dumps({"fault": fault, **measured}), flush=True)


def call(port, method, path, params=None, body=None, headers=None, timeout=30, conn=None):
    """One request: (status, or "dropped" when the connection ended without an answer;
    seconds; body; lower-case headers)."""
    target = path + ("?" + urllib.parse.urlencode(params) if params else "")
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    start = time.perf_counter()
    try:
        c.request(method, target, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return (r.status, time.perf_counter() - start, data,
                {k.lower(): v for k, v in r.getheaders()})
    except (ConnectionError, http.client.HTTPException, socket.timeout, OSError):
        return "dropped", time.perf_counter() - start, b"", {}
    finally:
        if conn is None:
            c.close()


def in_parallel(fn, args):
    """fn(arg) for every arg, each on its own thread; the results in order."""
    results = [None] * len(args)

    def run(i, a):
        results[i] = fn(a)

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(args)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else None


def ms(seconds):
    return None if seconds is None else round(seconds * 1000, 1)


def v2_headers(device, secret, method, path, body):
    """The v2 Authorization (docs/protocol-v2.md) for any method."""
    ts = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    nonce = b64url(os.urandom(16))
    canonical = "\n".join(["VENDO-HMAC-SHA256", method, path, hashlib.sha256(body).hexdigest(),
                           ts, nonce, device])
    sig = hmac.new(unb64url(secret), canonical.encode(), hashlib.sha256).hexdigest()
    return {"Authorization": f"VENDO-HMAC-SHA256 Device={device},Timestamp={ts},"
                             f"Nonce={nonce},Signature={sig}",
            "Content-Type": "application/json"}


def register_2012(v, uid, key):
    return call(v.port, "GET", "/apps/sensors/registerdevice", {"uid": uid, "key": key})[0]


def gettoken_2012(v, uid, key, prefix="/apps/sensors", timeout=30):
    ts = now_ts()
    return call(v.port, "GET", prefix + "/gettoken",
                {"uid": uid, "timestamp": ts, "signature": sign_b64(key, ts)}, timeout=timeout)


def metric_sum(v, name):
    """The sum of a counter over all its labels, from the admin listener's /metrics."""
    admin = urllib.parse.urlsplit(v.admin_url)
    conn = http.client.HTTPConnection(admin.hostname, admin.port, timeout=10)
    try:
        status, _, text, _ = call(0, "GET", "/metrics", conn=conn)
    finally:
        conn.close()
    assert status == 200, status
    total = 0.0
    for line in text.decode().splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def sts_app(endpoint, deadline_ms=2000, extra="", limits="tokens_per_device_per_minute = 0"):
    return f"""
[apps.sensors]
allow_insecure_legacy = true
mode = "anonymous"
issuer = "aws-federation"
duration_seconds = 900
policy = {POLICY}
[apps.sensors.aws]
endpoint = "{endpoint}"
access_key_id = "AKIDFAKE"
secret_access_key_file = "secret"
deadline_ms = {deadline_ms}
max_attempts = 4
{extra}
[apps.sensors.limits]
{limits}
"""


class FaultTest(unittest.TestCase):
    """A scratch directory and a fake STS for each test; vendo started by the test."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vendo-faults-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        write_secret(self.dir, "secret", "fake-secret")
        self.fake = FakeSts()
        self.addCleanup(self.fake.stop)

    def serve(self, apps, name="vendo.toml", **config):
        v = Vendo(data_dir=self.dir, config=write_config(self.dir, apps, name=name, **config))
        v.start()
        self.addCleanup(v.cleanup)
        return v


class HandlerDeadlineTest(FaultTest):
    """Item 1: a request whose handler waits on a hanging STS is answered, never dropped at the
    header timeout."""

    def test_every_request_to_a_hanging_sts_is_answered(self):
        self.fake.hang_seconds = 10
        v = self.serve(sts_app(self.fake.url, deadline_ms=8000),
                       server_extra="header_timeout_ms = 2000\n" +
                                    new_keys("handler_timeout_ms = 3000\n"))
        legacy = [new_device() for _ in range(25)]
        for uid, key in legacy:
            self.assertEqual(register_2012(v, uid, key), 200)
        modern = []
        for _ in range(5):
            status, _, body, _ = call(v.port, "POST", "/v2/apps/sensors/devices", body=b"{}",
                                      headers={"Content-Type": "application/json"})
            self.assertEqual(status, 201)
            reply = json.loads(body)
            modern.append((reply["device_id"], reply["device_secret"]))
        self.fake.set(default="hang")

        def one(job):
            if job[0] == "2012":
                return gettoken_2012(v, *job[1])
            device, secret = job[1]
            path = "/v2/apps/sensors/token"
            return call(v.port, "POST", path, body=b"{}",
                        headers=v2_headers(device, secret, "POST", path, b"{}"))

        jobs = [("2012", d) for d in legacy] + [("v2", d) for d in modern]
        results = in_parallel(one, jobs)
        statuses = [r[0] for r in results]
        report("STS hangs (header_timeout 2 s, handler_timeout 3 s, STS deadline 8 s)",
               load=f"{len(legacy)} 2012 + {len(modern)} v2 first token requests at once",
               answered=sum(s != "dropped" for s in statuses),
               dropped=statuses.count("dropped"), statuses=sorted(set(map(str, statuses))),
               slowest_ms=ms(max(r[1] for r in results)))
        self.assertEqual(statuses, [500] * len(legacy) + [503] * len(modern))
        for status, seconds, body, headers in results[len(legacy):]:
            self.assertEqual(json.loads(body)["error"]["code"], "server_busy")
            self.assertIn("retry-after", headers)
        self.assertLess(max(r[1] for r in results), 6)
        self.assertEqual(results[0][2], b"Server Error\r\n")  # what the 2012 clients handle


def postgres_processes(pg):
    with open(os.path.join(pg.dir, "data", "postmaster.pid")) as f:
        postmaster = int(f.readline())
    children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True,
                              text=True).stdout.split()
    return [postmaster] + [int(c) for c in children]


class FrozenPostgresTest(FaultTest):
    """Item 2: PostgreSQL frozen by SIGSTOP: cached devices and /healthz answer as before,
    what needs the store fails within its timeout, /readyz says so, and all recovers."""

    FROZEN_S = 10

    def setUp(self):
        super().setUp()
        self.pg = PostgresServer()
        self.addCleanup(self.pg.stop)

    def serve_on_postgres(self):
        """vendo on the PostgreSQL, and ten devices whose records and credentials it caches."""
        store = (f'url = "{self.pg.url}"\npassword_file = "{self.pg.password_file}"\n'
                 "cache_ttl_ms = 60000\n" +
                 new_keys("statement_timeout_ms = 1000\npool_wait_ms = 500\n"))
        v = self.serve(f"""
[apps.sensors]
mode = "anonymous"
allow_insecure_legacy = true
policy = {POLICY}
[apps.sensors.limits]
tokens_per_device_per_minute = 0
""", store=store)
        cached = [new_device() for _ in range(10)]
        for uid, key in cached:
            self.assertEqual(register_2012(v, uid, key), 200)
            self.assertEqual(gettoken_2012(v, uid, key)[0], 200)
        return v, cached

    def recovery_seconds(self, v, since):
        """How long after `since` a new registration and /readyz succeed again (None: not in
        30 s)."""
        while time.monotonic() - since < 30:
            if register_2012(v, *new_device()) == 200 and \
                    call(v.port, "GET", "/readyz", timeout=40)[0] == 200:
                return time.monotonic() - since
            time.sleep(0.1)
        return None

    def test_a_postgresql_that_crashes_and_restarts(self):
        v, cached = self.serve_on_postgres()
        self.pg.kill()  # immediate shutdown: every connection is cut
        down = time.monotonic()
        tokens = [gettoken_2012(v, *cached[i % len(cached)], timeout=40)[:2] for i in range(20)]
        health = [call(v.port, "GET", "/healthz", timeout=40)[:2] for _ in range(20)]
        start = time.monotonic()
        register = register_2012(v, *new_device())
        register_s = time.monotonic() - start
        readyz = call(v.port, "GET", "/readyz", timeout=40)[0]
        self.pg.restart()
        recovered_after = self.recovery_seconds(v, time.monotonic())
        report("PostgreSQL killed, then restarted", load="20 cached tokens, 20 /healthz, "
               "1 registration while it is down",
               cached=sorted({s for s, _ in tokens}), healthz=sorted({s for s, _ in health}),
               cached_max_ms=ms(max(t for _, t in tokens)), register=register,
               register_ms=ms(register_s), readyz=readyz,
               down_s=round(time.monotonic() - down, 1), recovered_after_ms=ms(recovered_after))
        self.assertEqual({s for s, _ in tokens + health}, {200})
        self.assertLess(max(t for _, t in tokens + health), 0.5)
        self.assertEqual((register, readyz), (500, 503))
        self.assertLess(register_s, 1.6)
        self.assertIsNotNone(recovered_after)
        self.assertLess(recovered_after, 5)

    def test_a_frozen_postgresql_stalls_nothing_that_does_not_need_it(self):
        v, cached = self.serve_on_postgres()

        def sample_healthz():
            return call(v.port, "GET", "/healthz", timeout=40)[:2]

        def sample_cached(i):
            return gettoken_2012(v, *cached[i % len(cached)], timeout=40)[:2]

        before = [sample_healthz()[1] for _ in range(20)]
        before_cached = [sample_cached(i)[1] for i in range(20)]

        processes = postgres_processes(self.pg)
        thawed = threading.Event()

        def thaw():
            if not thawed.is_set():
                thawed.set()
                for pid in processes:
                    os.kill(pid, signal.SIGCONT)

        self.addCleanup(thaw)
        for pid in processes:
            os.kill(pid, signal.SIGSTOP)
        frozen_at = time.monotonic()
        threading.Timer(self.FROZEN_S, thaw).start()

        # Cached devices and /healthz on new connections, sampled all through the freeze...
        health, tokens = [], []

        def sample():
            while time.monotonic() - frozen_at < self.FROZEN_S - 1:
                health.append(sample_healthz())
                tokens.append(sample_cached(len(tokens)))
                time.sleep(0.02)

        # ...while /readyz is asked how soon it says 503...
        readyz_503_after = []

        def readyz():
            while time.monotonic() - frozen_at < 5:
                if call(v.port, "GET", "/readyz", timeout=40)[0] == 503:
                    readyz_503_after.append(time.monotonic() - frozen_at)
                    return
                time.sleep(0.1)

        # ...and what needs the store is asked for by four clients at once: a new device's
        # registration (a write) and an unknown device's token (a read), one after the other.
        uncached = []

        def need_the_store():
            for what in ("register", "gettoken"):
                start = time.monotonic()
                status = (register_2012(v, *new_device()) if what == "register"
                          else gettoken_2012(v, *new_device(), timeout=40)[0])
                uncached.append((what, status, time.monotonic() - start))

        workers = [threading.Thread(target=fn) for fn in [sample, readyz] + [need_the_store] * 4]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=60)
        still_frozen = not thawed.is_set()
        thaw()
        recovered_after = self.recovery_seconds(v, time.monotonic())
        report(f"PostgreSQL frozen {self.FROZEN_S} s (statement 1 s, pool wait 0.5 s)",
               load="/healthz and cached 2012 /gettoken in a loop, new connections; 4 clients asking for what needs the store",
               answered=sum(s != "dropped" for s, _ in health + tokens),
               dropped=sum(s == "dropped" for s, _ in health + tokens),
               healthz_p50_ms_before=ms(percentile(before, 0.5)),
               healthz_p99_ms_frozen=ms(percentile([t for _, t in health], 0.99)),
               cached_p50_ms_before=ms(percentile(before_cached, 0.5)),
               cached_p99_ms_frozen=ms(percentile([t for _, t in tokens], 0.99)),
               healthz_max_ms_frozen=ms(max((t for _, t in health), default=None)),
               cached_max_ms_frozen=ms(max((t for _, t in tokens), default=None)),
               samples_frozen=len(tokens),
               uncached=[(what, status, ms(t)) for what, status, t in uncached],
               readyz_503_after_ms=ms(min(readyz_503_after, default=None)), recovered_after_ms=ms(recovered_after))
        self.assertTrue(still_frozen, "the samples took the whole freeze")
        self.assertEqual({s for s, _ in health}, {200})
        self.assertEqual({s for s, _ in tokens}, {200})
        self.assertGreaterEqual(len(tokens), 50)
        self.assertLess(percentile([t for _, t in health], 0.99), 0.1)
        self.assertLess(percentile([t for _, t in tokens], 0.99), 0.1)
        self.assertLess(max(t for _, t in health + tokens), 0.5)
        for what, status, seconds in uncached:
            self.assertEqual(status, 500, what)
            # One statement timeout (1 s) or one connect timeout, not both, and no retry.
            self.assertLess(seconds, 1.6, what)
        self.assertEqual(len(uncached), 8)
        self.assertEqual(len(readyz_503_after), 1, "/readyz never said 503")
        self.assertLess(readyz_503_after[0], 3)
        self.assertIsNotNone(recovered_after)
        self.assertLess(recovered_after, 5)


class StsAmplificationTest(FaultTest):
    """Item 3: while STS fails, calls stay at about one per distinct principal, a principal
    that keeps asking is answered from its remembered failure, Throttling holds new calls, an
    STS slower than 5 s can still answer, and garbage is counted as an error."""

    DEVICES = 100

    def distinct_devices(self, fault, endpoint=None):
        v = self.serve(sts_app(endpoint or self.fake.url), name=f"{fault}.toml")
        devices = [new_device() for _ in range(self.DEVICES)]
        for uid, key in devices:
            self.assertEqual(register_2012(v, uid, key), 200)
        self.fake.set(default=fault)
        calls_before = metric_sum(v, "vendo_sts_calls_total")
        start = time.monotonic()
        # Eight clients at a time, each device once.
        queue = list(devices)
        lock = threading.Lock()
        statuses = []

        def client(_):
            while True:
                with lock:
                    if not queue:
                        return
                    uid, key = queue.pop()
                status = gettoken_2012(v, uid, key)[0]
                with lock:
                    statuses.append(status)

        in_parallel(client, range(8))
        seconds = time.monotonic() - start
        calls = (metric_sum(v, "vendo_sts_calls_total") - calls_before if endpoint
                 else self.fake.calls)
        report(f"STS {fault}", load=f"{self.DEVICES} new devices, 8 at a time",
               answered=sum(s != "dropped" for s in statuses),
               dropped=statuses.count("dropped"), sts_calls=int(calls),
               sts_calls_per_request=round(calls / self.DEVICES, 2), seconds=round(seconds, 1))
        self.assertEqual(statuses, [500] * self.DEVICES)
        self.assertLessEqual(calls / self.DEVICES, 1.2)
        return v

    def test_throttling(self):
        v = self.distinct_devices("throttle")
        self.assertGreater(metric_sum(v, "vendo_sts_held_total"), 0)

    def test_internal_failure(self):
        self.distinct_devices("500")

    def test_connection_reset(self):
        self.distinct_devices("reset")

    def test_connection_refused(self):
        self.distinct_devices("refused", endpoint=f"http://127.0.0.1:{free_port()}")

    def one_device_asks_again_and_again(self, fault, times):
        v = self.serve(sts_app(self.fake.url), name=f"{fault}-one.toml")
        uid, key = new_device()
        self.assertEqual(register_2012(v, uid, key), 200)
        self.fake.set(default=fault)
        start = time.monotonic()
        statuses = [gettoken_2012(v, uid, key)[0] for _ in range(times)]
        seconds = time.monotonic() - start
        report(f"STS {fault}, one device", load=f"{times} token requests in a row",
               answered=sum(s != "dropped" for s in statuses), dropped=statuses.count("dropped"),
               sts_calls=self.fake.calls, sts_calls_per_request=round(self.fake.calls / times, 2),
               seconds=round(seconds, 1))
        self.assertEqual(statuses, [500] * times)
        return seconds

    def test_a_device_asking_again_during_failures_is_answered_from_its_failure(self):
        seconds = self.one_device_asks_again_and_again("500", 60)
        # One call per failure_ttl_ms (1 s, with jitter) at most, and the first one's retries.
        self.assertLessEqual(self.fake.calls, 4 + 2 * (int(seconds) + 1))

    def test_access_denied_is_remembered_longer(self):
        self.one_device_asks_again_and_again("denied", 30)
        self.assertEqual(self.fake.calls, 1)

    def test_an_sts_slower_than_five_seconds_still_answers(self):
        v = self.serve(sts_app(self.fake.url, deadline_ms=10000,
                               extra=new_keys("attempt_timeout_ms = 8000")))
        uid, key = new_device()
        self.assertEqual(register_2012(v, uid, key), 200)
        self.fake.set(delay=5.5)
        status, seconds, _, _ = gettoken_2012(v, uid, key)
        report("STS answers in 5.5 s (attempt_timeout 8 s, deadline 10 s)", load="1 request",
               answered=int(status != "dropped"), status=status, sts_calls=self.fake.calls,
               seconds=round(seconds, 1))
        self.assertEqual(status, 200)
        self.assertEqual(self.fake.calls, 1)

    def test_an_answer_that_is_no_sts_answer_is_counted_as_an_error(self):
        v = self.serve(sts_app(self.fake.url))
        uid, key = new_device()
        self.assertEqual(register_2012(v, uid, key), 200)
        self.fake.set(default="garbage")
        status = gettoken_2012(v, uid, key)[0]
        errors = metric_sum(v, "vendo_sts_errors_total")
        report("STS answers 200 with garbage", load="1 request", status=status,
               sts_calls=self.fake.calls, sts_errors_total=errors)
        self.assertEqual(status, 500)
        self.assertEqual(errors, 1)


class AuditFailsClosedTest(FaultTest):
    """Item 4: every audited change refuses, and is not kept, when its line cannot be written;
    after a partial write the file holds whole JSON lines only."""

    APPS = two_apps("FaultApp")

    def serve_with_audit(self, audit, name):
        return self.serve(f'[audit]\nfile = "{audit}"\n' + self.APPS, name=name)

    def counts(self, config="good.toml"):
        cfg = os.path.join(self.dir, config)
        r = subprocess.run([VENDO, "app", "list", "--json", "--config", cfg],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return {a["app"]: (a["devices"], a["users"]) for a in json.loads(r.stdout)}

    def test_no_change_is_kept_without_its_audit_line(self):
        good = os.path.join(self.dir, "audit.log")
        v = self.serve_with_audit(good, "good.toml")
        # What the changes below act on: a v2 device, a v2 user and a 2012 user.
        status, _, body, _ = call(v.port, "POST", "/v2/apps/anon/devices", body=b"{}",
                                  headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201)
        device = json.loads(body)
        signup = json.dumps({"username": "keeper", "password": "long enough pw"}).encode()
        self.assertEqual(call(v.port, "POST", "/v2/apps/ident/users", body=signup,
                              headers={"Content-Type": "application/json"})[0], 201)
        self.assertEqual(call(v.port, "POST", "/apps/ident/registeruser",
                              body=urllib.parse.urlencode({"username": "keeper12",
                                                           "password": "pass-word-1"}),
                              headers={"Content-Type":
                                       "application/x-www-form-urlencoded"})[0], 200)
        v.stop()
        before = self.counts()

        full = self.serve_with_audit("/dev/full", "full.toml")  # every write: ENOSPC
        json_type = {"Content-Type": "application/json"}
        rotate, revoke = "/v2/apps/anon/devices/self/rotate", "/v2/apps/anon/devices/self"
        h = salted_hash("pass-word-1", "keeper12", "FaultApp", IDENT_ENDPOINT)
        ts = now_ts(False)
        attempts = {
            "2012 register device": call(full.port, "GET", "/apps/anon/registerdevice",
                                         {"uid": new_device()[0], "key": new_device()[1]}),
            "2012 register user": call(full.port, "POST", "/apps/ident/registeruser", body=(
                urllib.parse.urlencode({"username": "ghost12", "password": "pass-word-1"})),
                headers={"Content-Type": "application/x-www-form-urlencoded"}),
            "2012 login": call(full.port, "GET", "/apps/ident/login",
                               {"uid": new_device()[0], "username": "keeper12", "timestamp": ts,
                                "signature": sign_hex(h, ts)}),
            "v2 register device": call(full.port, "POST", "/v2/apps/anon/devices", body=b"{}",
                                       headers=json_type),
            "v2 sign-up": call(full.port, "POST", "/v2/apps/ident/users", headers=json_type,
                               body=json.dumps({"username": "ghost2",
                                                "password": "long enough pw"}).encode()),
            "v2 login": call(full.port, "POST", "/v2/apps/ident/login", body=signup,
                             headers=json_type),
            "v2 rotate": call(full.port, "POST", rotate, body=b"{}", headers=v2_headers(
                device["device_id"], device["device_secret"], "POST", rotate, b"{}")),
            "v2 revoke": call(full.port, "DELETE", revoke, body=b"", headers=v2_headers(
                device["device_id"], device["device_secret"], "DELETE", revoke, b"")),
        }
        full.stop()
        statuses = {what: r[0] for what, r in attempts.items()}
        leaked = [what for what, r in attempts.items()
                  if b"device_secret" in r[2] or b"user_id" in r[2]]

        after = self.counts()
        v = self.serve_with_audit(good, "good.toml")
        path = "/v2/apps/anon/token"
        old_secret_works = call(v.port, "POST", path, body=b"{}", headers=v2_headers(
            device["device_id"], device["device_secret"], "POST", path, b"{}"))[0]
        ghost2_free = call(v.port, "POST", "/v2/apps/ident/users", headers=json_type,
                           body=json.dumps({"username": "ghost2",
                                            "password": "long enough pw"}).encode())[0]
        ghost12_free = call(v.port, "POST", "/apps/ident/registeruser", body=(
            urllib.parse.urlencode({"username": "ghost12", "password": "pass-word-1"})),
            headers={"Content-Type": "application/x-www-form-urlencoded"})[0]
        report("audit file on a full disk (/dev/full)", load="one of each audited change",
               statuses=statuses, changes_kept=before != after, secrets_handed_out=leaked,
               old_secret_after=old_secret_works)
        self.assertEqual(statuses, {what: 500 for what in attempts})
        self.assertEqual(leaked, [])
        self.assertEqual(after, before)  # no device, user or login was kept
        self.assertEqual(old_secret_works, 200)  # neither rotated nor revoked
        self.assertEqual((ghost2_free, ghost12_free), (201, 200))  # the names were not taken

    def test_a_short_write_leaves_whole_lines(self):
        if os.geteuid() != 0:
            self.fail("mounting a small tmpfs needs root (make test runs as root)")
        mnt = os.path.join(self.dir, "small")
        os.mkdir(mnt)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", mnt],
                       check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", mnt])
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:  # all but a few kilobytes
            f.write(b"x" * (64 * 1024 - 6 * 1024))
        audit = os.path.join(mnt, "audit.log")
        v = self.serve_with_audit(audit, "small.toml")
        answered = {}
        for _ in range(60):
            uid, key = new_device()
            answered[uid] = call(v.port, "GET", "/apps/anon/registerdevice",
                                 {"uid": uid, "key": key})[0]
        refused = sum(s == 500 for s in answered.values())
        os.unlink(filler)
        for _ in range(10):
            uid, key = new_device()
            answered[uid] = call(v.port, "GET", "/apps/anon/registerdevice",
                                 {"uid": uid, "key": key})[0]
        v.stop()
        with open(audit, "rb") as f:
            lines = f.read().splitlines()
        parsed, broken = [], []
        for line in lines:
            try:
                parsed.append(json.loads(line))
            except ValueError:
                broken.append(line[:80])
        logged = {e["device"] for e in parsed
                  if e.get("audit") == "register_device" and e.get("outcome") == "ok"}
        acknowledged = {uid for uid, s in answered.items() if s == 200}
        report("audit file on a full 64 KiB tmpfs, then space freed",
               load="70 registrations", acknowledged=len(acknowledged), refused=refused,
               lines=len(lines), broken_lines=len(broken))
        self.assertGreater(refused, 0, "the disk never filled: the test proves nothing")
        self.assertEqual(broken, [])
        self.assertEqual(logged, acknowledged)
        self.assertEqual(set(answered.values()), {200, 500})
        self.assertTrue(all(s == 200 for s in list(answered.values())[-10:]))
        self.assertEqual(self.counts("small.toml")["anon"][0], len(acknowledged))


class MonotonicCacheTest(unittest.TestCase):
    """Item 5: cache lifetimes follow a monotonic clock. The wall clock of a running process
    cannot be stepped from here without stepping the machine's, so the unit tests that inject
    a wall clock that steps back an hour are run as part of this suite."""

    def test_a_wall_clock_stepped_back_keeps_nothing_cached_longer(self):
        build = os.environ.get("VENDO_BUILD_DIR", os.path.join(REPO, "build"))
        binary = os.path.join(build, "vendo_unit_tests")
        self.assertTrue(os.path.exists(binary), binary)
        r = subprocess.run([binary, "--gtest_filter=*WallClock*"], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout[-3000:])
        self.assertIn("[  PASSED  ] 2 tests", r.stdout)


class DrainTest(FaultTest):
    """Item 6: on SIGTERM, a request on an idle keep-alive connection is still answered, with
    Connection: close."""

    def test_requests_on_idle_connections_during_the_drain_are_answered(self):
        v = self.serve(two_apps("FaultApp"))
        conns = [http.client.HTTPConnection("127.0.0.1", v.port, timeout=10) for _ in range(16)]
        for c in conns:
            self.assertEqual(call(v.port, "GET", "/healthz", conn=c)[0], 200)
        v.proc.send_signal(signal.SIGTERM)
        time.sleep(0.1)

        def register(c):
            return call(v.port, "POST", "/v2/apps/anon/devices", body=b"{}", conn=c,
                        headers={"Content-Type": "application/json"})

        results = in_parallel(register, conns)
        statuses = [r[0] for r in results]
        report("SIGTERM with 16 idle keep-alive connections",
               load="a registration on each, 100 ms after the signal",
               answered=sum(s != "dropped" for s in statuses), dropped=statuses.count("dropped"))
        self.assertEqual(statuses, [201] * 16)
        self.assertTrue(all(r[3].get("connection") == "close" for r in results))
        for c in conns:
            c.close()
        self.assertEqual(v.proc.wait(timeout=20), 0)


if __name__ == "__main__":
    unittest.main()
