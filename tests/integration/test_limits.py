"""Abuse limits: an anonymous registration flood from one address is throttled, a login brute
force locks the user (even the right password is refused) and the address, and a device that
asks for tokens too often is slowed down. Clients come in through a trusted balancer
(X-Forwarded-For), as in production; the audit log shows each refusal."""
import json
import os
import shutil
import tempfile
import unittest

from vendo_harness import (Vendo, extract, new_device, now_ts, salted_hash, sign_b64, sign_hex,
                           unwrap, write_config)

ENDPOINT = "https://tvm.example.com/apps/ident"
POLICY = "'{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/x/*\"}]}'"
LIMITS = """
registrations_per_address_per_hour = 3
failed_logins_per_user = 3
failed_logins_per_address_per_hour = 5
tokens_per_device_per_minute = 5
"""


class LimitsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vendo-limits-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.audit = os.path.join(self.dir, "audit.log")
        cfg = write_config(self.dir, f"""
[audit]
file = "{self.audit}"
[apps.anon]
mode = "anonymous"
allow_insecure_legacy = true
policy = {POLICY}
[apps.anon.limits]
{LIMITS}
[apps.ident]
mode = "identity"
allow_insecure_legacy = true
app_name = "LimitApp"
public_endpoint = "{ENDPOINT}"
policy = {POLICY}
[apps.ident.limits]
{LIMITS}
""", server_extra='trusted_proxies = ["127.0.0.1"]')
        self.v = Vendo(data_dir=self.dir, config=cfg).start()
        self.addCleanup(self.v.cleanup)

    def get(self, path, params, address):
        return self.v.request("GET", path, params, headers={"X-Forwarded-For": address})

    def login(self, username, password, address, uid=None):
        h = salted_hash(password, username, "LimitApp", ENDPOINT)
        ts = now_ts(False)
        uid = uid or new_device()[0]
        status, body, _ = self.get("/apps/ident/login", {"uid": uid, "username": username,
                                                         "timestamp": ts,
                                                         "signature": sign_hex(h, ts)}, address)
        return status, body, h

    def audit_events(self):
        with open(self.audit) as f:
            return [json.loads(line) for line in f]

    def test_a_registration_flood_from_one_address_is_throttled(self):
        flood = "203.0.113.5"
        statuses = [self.get("/apps/anon/registerdevice",
                             dict(zip(("uid", "key"), new_device())), flood)[0]
                    for _ in range(5)]
        self.assertEqual(statuses, [200, 200, 200, 500, 500])
        # Another address is not affected; the web form answers 429 with Retry-After.
        self.assertEqual(self.get("/apps/anon/registerdevice",
                                  dict(zip(("uid", "key"), new_device())), "203.0.113.6")[0], 200)
        for _ in range(3):
            self.v.request("POST", "/apps/ident/registeruser",
                           {"username": f"u{os.urandom(4).hex()}", "password": "secret123"},
                           headers={"X-Forwarded-For": "203.0.113.7"})
        status, _, headers = self.v.request("POST", "/apps/ident/registeruser",
                                            {"username": "one_too_many", "password": "secret123"},
                                            headers={"X-Forwarded-For": "203.0.113.7"})
        self.assertEqual(status, 429)
        self.assertGreater(int(headers["retry-after"]), 0)
        outcomes = [(e["audit"], e["client"], e["outcome"]) for e in self.audit_events()]
        self.assertEqual(outcomes.count(("register_device", flood, "resource_exhausted")), 2)

    def test_a_login_brute_force_locks_the_user(self):
        self.assertEqual(self.v.request("POST", "/apps/ident/registeruser",
                                        {"username": "dave", "password": "right-pass"})[0], 200)
        attacker = "198.51.100.9"
        for guess in ("a", "b", "c"):
            self.assertEqual(self.login("dave", "wrong-" + guess, attacker)[0], 401)
        # Locked: the right password is refused too, from anywhere, until the window ends.
        self.assertEqual(self.login("dave", "right-pass", attacker)[0], 401)
        self.assertEqual(self.login("dave", "right-pass", "192.0.2.1")[0], 401)
        events = self.audit_events()
        self.assertIn(("login", "locked", "dave"),
                      [(e["audit"], e["outcome"], e.get("user")) for e in events])
        self.assertIn("user locked after failed logins", self.v.logs())

    def test_failed_logins_from_one_address_lock_the_address(self):
        self.assertEqual(self.v.request("POST", "/apps/ident/registeruser",
                                        {"username": "erin", "password": "right-pass"})[0], 200)
        scanner = "198.51.100.10"
        for i in range(5):
            self.assertEqual(self.login(f"nobody{i}", "x", scanner)[0], 401)
        self.assertEqual(self.login("erin", "right-pass", scanner)[0], 401)  # address locked
        status, body, h = self.login("erin", "right-pass", "192.0.2.2")      # elsewhere: fine
        self.assertEqual(status, 200)

    def test_a_device_asking_too_often_is_slowed_down(self):
        uid, key = new_device()
        self.assertEqual(self.get("/apps/anon/registerdevice", {"uid": uid, "key": key},
                                  "192.0.2.3")[0], 200)

        def token():
            ts = now_ts()
            return self.get("/apps/anon/gettoken",
                            {"uid": uid, "timestamp": ts, "signature": sign_b64(key, ts)},
                            "192.0.2.3")[0]

        self.assertEqual([token() for _ in range(7)], [200] * 5 + [500] * 2)
        # Requests with a wrong signature do not spend another device's budget.
        other, other_key = new_device()
        self.assertEqual(self.get("/apps/anon/registerdevice", {"uid": other, "key": other_key},
                                  "192.0.2.4")[0], 200)
        ts = now_ts()
        for _ in range(10):
            self.get("/apps/anon/gettoken", {"uid": other, "timestamp": ts,
                                             "signature": sign_b64("not-the-key", ts)}, "192.0.2.5")
        ts = now_ts()
        self.assertEqual(self.get("/apps/anon/gettoken", {"uid": other, "timestamp": ts,
                                                          "signature": sign_b64(other_key, ts)},
                                  "192.0.2.4")[0], 200)


if __name__ == "__main__":
    unittest.main()
