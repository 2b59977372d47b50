"""vendo against a local STS stand-in that throttles, fails, resets and hangs: it retries
within its deadline, serves cached credentials, answers every device and stays up. Also: 200
simultaneous /gettoken calls from one device make exactly one STS call."""
import json
import os
import shutil
import tempfile
import threading
import time
import unittest

from fake_sts import FakeSts
from vendo_harness import (Vendo, anonymous_token, new_device, now_ts, run_concurrently,
                           sign_b64, write_config, write_secret)

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../..")
DEADLINE_S = 2.0


class StsFaultsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = FakeSts()
        cls.dir = tempfile.mkdtemp(prefix="vendo-sts-faults-")
        write_secret(cls.dir, "secret", "fake-secret")
        cls.config = write_config(cls.dir, f"""
[apps.sensors]
allow_insecure_legacy = true
mode = "anonymous"
issuer = "aws-federation"
duration_seconds = 900
policy_file = "{REPO}/examples/policies/per-device-s3.json"
[apps.sensors.aws]
endpoint = "{cls.fake.url}"
access_key_id = "AKIDFAKE"
secret_access_key_file = "secret"
deadline_ms = {int(DEADLINE_S * 1000)}
max_attempts = 4
[apps.sensors.limits]
tokens_per_device_per_minute = 0  # 200 requests at once from one device, on purpose
""")
        cls.v = Vendo(data_dir=cls.dir, config=cls.config).start()

    @classmethod
    def tearDownClass(cls):
        cls.v.stop()
        cls.fake.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.fake.set()
        # A fresh process per test: the retry budget, the throttle hold and the remembered
        # failures are shared by every call of a process, and one test's faults would spend
        # the next one's retries.
        self.v.stop()
        self.v.start()

    def token(self, uid=None, key=None, register=True):
        if uid is None:
            uid, key = new_device()
        return anonymous_token(self.v, "/apps/sensors", uid, key, register=register)

    def wait_log(self, text, seconds=5):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if text in self.v.logs():
                return True
            time.sleep(0.1)
        return False

    def test_ready_once_the_issuer_has_credentials(self):
        self.assertEqual(self.v.request("GET", "/readyz")[:2], (200, b"ready\n"))
        self.assertTrue(self.wait_log('"msg":"issuer credentials","app":"sensors","source":"config"'))

    def test_not_ready_without_issuer_credentials(self):
        d = tempfile.mkdtemp(prefix="vendo-nocreds-")
        self.addCleanup(shutil.rmtree, d, True)
        cfg = write_config(d, f"""
[apps.roles]
allow_insecure_legacy = true
mode = "anonymous"
issuer = "aws-assume-role"
policy_file = "{REPO}/examples/policies/per-device-s3.json"
[apps.roles.aws]
endpoint = "{self.fake.url}"
role_arn = "arn:aws:iam::123456789012:role/devices"
""")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(HOME=d, AWS_EC2_METADATA_DISABLED="true")
        v = Vendo(data_dir=d, config=cfg, env=env).start()
        self.addCleanup(v.cleanup)
        status, body, _ = v.request("GET", "/readyz")
        self.assertEqual(status, 503)
        self.assertIn(b"app roles: aws-assume-role: no valid AWS credentials", body)
        self.assertEqual(v.request("GET", "/healthz")[0], 200)  # up, just not ready
        self.assertIn("no AWS credentials found", v.logs())
        uid, key = new_device()
        self.assertEqual(anonymous_token(v, "/apps/roles", uid, key), (500, b"Server Error\r\n"))

    def test_throttling_is_retried_and_logged(self):
        self.fake.set(["throttle", "throttle"])
        status, creds = self.token()
        self.assertEqual(status, 200, creds)
        self.assertEqual(self.fake.calls, 3)
        self.assertTrue(self.wait_log('"msg":"sts retry"'))
        self.assertTrue(self.wait_log('"throttled":true'))
        # The counters: logged per app when vendo stops (a fresh process counts from zero).
        self.v.stop()
        stats = [json.loads(l) for l in self.v.logs().splitlines() if '"issuer stats"' in l][-1]
        self.v.start()
        self.assertEqual(stats["app"], "sensors")
        self.assertGreaterEqual(stats["sts_throttled"], 2)
        self.assertGreaterEqual(stats["sts_retries"], 2)
        self.assertGreaterEqual(stats["cache_misses"], 1)

    def test_5xx_and_resets_are_retried(self):
        self.fake.set(["500", "reset", "500"])
        status, creds = self.token()
        self.assertEqual(status, 200, creds)
        self.assertEqual(self.fake.calls, 4)

    def test_persistent_failure_gives_500_within_the_deadline(self):
        self.fake.set(default="500")
        started = time.time()
        status, body = self.token()
        self.assertEqual((status, body), (500, b"Server Error\r\n"))
        self.assertLess(time.time() - started, DEADLINE_S + 1)
        self.assertEqual(self.fake.calls, 4)  # max_attempts, no more

    def test_a_hanging_sts_is_cut_off_and_cached_credentials_still_served(self):
        cached_uid, cached_key = new_device()
        status, cached = self.token(cached_uid, cached_key)
        self.assertEqual(status, 200)
        self.fake.set(default="hang")
        # A device with cached credentials is served at once, without STS.
        started = time.time()
        status, again = self.token(cached_uid, cached_key, register=False)
        self.assertEqual(status, 200)
        self.assertEqual(again["accessKey"], cached["accessKey"])
        self.assertLess(time.time() - started, 1)
        # Twenty new devices at once: every one is answered by the deadline, none hangs 30 s.
        started = time.time()
        results = run_concurrently(lambda: self.token()[0], 20, timeout=30)
        self.assertEqual(results, [500] * 20)
        self.assertLess(time.time() - started, DEADLINE_S + 2)
        # STS recovers, and so does vendo.
        self.fake.set()
        self.assertEqual(self.token()[0], 200)
        self.assertEqual(self.v.request("GET", "/healthz")[0], 200)

    def test_200_simultaneous_gettokens_from_one_device_make_one_sts_call(self):
        uid, key = new_device()
        self.assertEqual(self.v.request("GET", "/apps/sensors/registerdevice",
                                        {"uid": uid, "key": key})[0], 200)
        self.fake.set(delay=0.5)  # slow enough that every request arrives during the call
        barrier = threading.Barrier(200)

        def one():
            ts = now_ts()
            params = {"uid": uid, "timestamp": ts, "signature": sign_b64(key, ts)}
            barrier.wait()
            return self.v.request("GET", "/apps/sensors/gettoken", params)[0]

        self.assertEqual(run_concurrently(one, 200), [200] * 200)
        self.assertEqual(self.fake.calls, 1)


if __name__ == "__main__":
    unittest.main()
