"""`[server] pin_threads`: each network thread runs on a CPU of its own (within the process's
affinity), connections are handed to threads by the CPU their packets arrive on, and the
2012 protocol works over many connections at once, new and kept alive. Without the key, no
thread is pinned."""
import json
import os
import shutil
import tempfile
import threading
import time
import unittest
import urllib.parse

from vendo_harness import Vendo, new_device, now_ts, parse_token, sign_b64, unwrap, write_config

APPS = """
[apps.anon]
mode = "anonymous"
allow_insecure_legacy = true
policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${uid}/*"}]}'
[apps.anon.limits]
tokens_per_device_per_minute = 0
"""


def pinned_cpus(pid):
    """The CPU of each of the process's threads that may run on exactly one CPU."""
    cpus = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            allowed = [line.split()[1] for line in f if line.startswith("Cpus_allowed_list:")][0]
        if "," not in allowed and "-" not in allowed:
            cpus.append(int(allowed))
    return cpus


def register(c, uid, key):
    """Registers a device on the kept-alive connection `c`; returns the status."""
    c.request("GET", "/apps/anon/registerdevice?" + urllib.parse.urlencode({"uid": uid, "key": key}))
    r = c.getresponse()
    r.read()
    return r.status


def get_token(c, uid, key):
    """A signed /gettoken on `c`; returns (status, body bytes, X-Request-Id)."""
    ts = now_ts()
    q = urllib.parse.urlencode({"uid": uid, "timestamp": ts, "signature": sign_b64(key, ts)})
    c.request("GET", "/apps/anon/gettoken?" + q)
    r = c.getresponse()
    return r.status, r.read(), r.getheader("X-Request-Id")


def setUpModule():
    # Pinning is only visible with two CPUs or more; CI has two. Fail loudly elsewhere.
    assert len(os.sched_getaffinity(0)) >= 2, "these tests need at least two CPUs"


class PinnedThreadsTest(unittest.TestCase):
    def start(self, pin, log_level="info"):
        d = tempfile.mkdtemp(prefix="vendo-pin-")
        self.addCleanup(shutil.rmtree, d, True)
        cfg = write_config(d, APPS, log_level=log_level,
                           server_extra=f"threads = 2\npin_threads = {str(pin).lower()}")
        v = Vendo(data_dir=d, config=cfg).start()
        self.addCleanup(v.cleanup)
        return v

    def test_threads_are_pinned_and_every_connection_is_served(self):
        allowed = sorted(os.sched_getaffinity(0))
        v = self.start(True)
        listening = [json.loads(l) for l in v.logs().splitlines() if '"msg":"listening"' in l][-1]
        self.assertTrue(listening["pin_threads"])
        # The threads pin themselves as they start, just after "listening" is logged.
        deadline = time.time() + 5
        cpus = pinned_cpus(v.proc.pid)
        while len(cpus) < 2 and time.time() < deadline:
            time.sleep(0.05)
            cpus = pinned_cpus(v.proc.pid)
        self.assertEqual(len(cpus), 2, cpus)
        self.assertTrue(set(cpus) <= set(allowed))
        self.assertEqual(len(set(cpus)), 2, "two threads on two CPUs")

        errors = []
        ids = []

        def client():
            # A kept-alive connection: register, then several tokens, each decrypted.
            uid, key = new_device()
            c = v.conn()
            try:
                c.request("GET", "/apps/anon/registerdevice?" + urllib.parse.urlencode({"uid": uid, "key": key}))
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    errors.append(f"register {r.status}")
                    return
                for _ in range(20):
                    ts = now_ts()
                    q = urllib.parse.urlencode({"uid": uid, "timestamp": ts,
                                                "signature": sign_b64(key, ts)})
                    c.request("GET", "/apps/anon/gettoken?" + q)
                    r = c.getresponse()
                    body = r.read()
                    ids.append(r.getheader("X-Request-Id"))
                    if r.status != 200:
                        errors.append(f"gettoken {r.status}")
                        return
                    if not parse_token(unwrap(body.decode(), key))["accessKey"].startswith("VDEV"):
                        errors.append("not a dev credential")
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
            finally:
                c.close()

        threads = [threading.Thread(target=client) for _ in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        # Request ids are unique across threads (each thread takes numbers in blocks).
        self.assertEqual(len(ids), 40 * 20)
        self.assertEqual(len(set(ids)), len(ids))
        self.assertEqual(v.stop(), 0)

    def test_a_connection_follows_its_client_to_another_cpu(self):
        # The client thread moves between two CPUs every 40 requests on one kept-alive
        # connection; vendo hands the connection to the thread on the new CPU between two
        # requests, and no answer is lost or wrong on the way.
        v = self.start(True, log_level="debug")
        cpus = sorted(os.sched_getaffinity(0))[:2]
        uid, key = new_device()
        errors = []

        def client():
            c = v.conn()
            try:
                if register(c, uid, key) != 200:
                    errors.append("register")
                    return
                for i in range(400):
                    if i % 40 == 0:
                        os.sched_setaffinity(0, {cpus[(i // 40) % 2]})  # this thread only
                    status, body, _ = get_token(c, uid, key)
                    if status != 200 or not parse_token(unwrap(body.decode(), key)):
                        errors.append(f"request {i}: {status}")
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
            finally:
                c.close()

        t = threading.Thread(target=client)
        t.start()
        t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(v.stop(), 0)  # writes out the buffered log lines
        moves = [json.loads(l) for l in v.logs().splitlines() if '"msg":"connection moved"' in l]
        self.assertGreaterEqual(len(moves), 5, "the connection followed its client")
        for m in moves:
            self.assertNotEqual(m["from_thread"], m["to_thread"])

    def test_without_the_key_no_thread_is_pinned(self):
        v = self.start(False)
        self.assertEqual(pinned_cpus(v.proc.pid), [])
        status, body, _ = v.request("GET", "/healthz")
        self.assertEqual(status, 200)


if __name__ == "__main__":
    unittest.main()
