"""Device and user lifecycle through the admin commands, against a running server: a revoked
device, or a disabled or deleted user's device, gets nothing more (not even credentials the
server had cached for it), the uid cannot come back, and the audit log records each change."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from vendo_harness import (IDENT_ENDPOINT, VENDO, Vendo, anonymous_token, fetch_token,
                           identity_token, new_device, sign_hex, two_apps, write_config)

ENDPOINT = IDENT_ENDPOINT
POLICY = "'{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/x/*\"}]}'"


class LifecycleTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vendo-life-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.audit = os.path.join(self.dir, "audit.log")
        self.cfg = write_config(self.dir, f"""
[audit]
file = "{self.audit}"
""" + two_apps("LifeApp", POLICY) + """
""")
        self.v = Vendo(data_dir=self.dir, config=self.cfg).start()
        self.addCleanup(self.v.cleanup)

    def admin(self, *args):
        r = subprocess.run([VENDO, *args, "--config", self.cfg], capture_output=True, text=True)
        return r.returncode, r.stdout, r.stderr

    def eventually(self, fn, expected, seconds=3):
        """The server sees admin changes within store.cache_ttl_ms (1 s)."""
        deadline = time.time() + seconds
        while True:
            got = fn()
            if got == expected or time.time() > deadline:
                return got
            time.sleep(0.1)

    def test_a_revoked_device_gets_nothing_and_cannot_come_back(self):
        uid, key = new_device()
        self.assertEqual(anonymous_token(self.v, "/apps/anon", uid, key)[0], 200)  # now cached
        self.assertEqual(self.admin("device", "revoke", "--app", "anon", "--uid", uid)[0], 0)
        self.assertEqual(self.eventually(
            lambda: anonymous_token(self.v, "/apps/anon", uid, key, register=False)[0], 401), 401)
        status, _, _ = self.v.request("GET", "/apps/anon/registerdevice", {"uid": uid, "key": key})
        self.assertEqual(status, 409)
        code, out, _ = self.admin("device", "list", "--app", "anon")
        self.assertEqual(code, 0)
        self.assertRegex(out, rf"{uid}\s+-\s+\S+\s+revoked")
        self.assertEqual(self.admin("device", "revoke", "--app", "anon", "--uid", "nope" * 8)[0],
                         1)
        self.assertEqual(self.admin("device", "revoke", "--app", "ghost", "--uid", uid)[0], 2)

    def test_disabled_and_deleted_users_devices_get_nothing(self):
        status, _ = identity_token(self.v, "/apps/ident", "carol", "secret123", "LifeApp", ENDPOINT)
        self.assertEqual(status, 200)
        uid = new_device()[0]
        # Log a second device in, keeping its key to ask for tokens directly.
        from vendo_harness import extract, now_ts, salted_hash, unwrap
        h = salted_hash("secret123", "carol", "LifeApp", ENDPOINT)
        ts = now_ts(False)
        _, body, _ = self.v.request("GET", "/apps/ident/login", {
            "uid": uid, "username": "carol", "timestamp": ts, "signature": sign_hex(h, ts)})
        key = extract(unwrap(body.decode(), h[:32]), "key")
        token = lambda: fetch_token(self.v, "/apps/ident", uid, key, sign_hex)[0]
        self.assertEqual(token(), 200)
        self.assertEqual(self.admin("user", "disable", "--app", "ident", "--user", "carol")[0], 0)
        self.assertEqual(self.eventually(token, 401), 401)
        self.assertEqual(self.admin("user", "enable", "--app", "ident", "--user", "carol")[0], 0)
        self.assertEqual(self.eventually(token, 200), 200)
        code, out, _ = self.admin("user", "list", "--app", "ident")
        self.assertRegex(out, r"carol\s+\S+\s+\S+\s+enabled")
        self.assertEqual(self.admin("user", "delete", "--app", "ident", "--user", "carol")[0], 0)
        self.assertEqual(self.eventually(token, 401), 401)
        with open(self.audit) as f:
            events = [json.loads(l) for l in f]
        admin = [(e["audit"], e["outcome"], e.get("user")) for e in events
                 if e.get("request_id") == "admin"]
        self.assertEqual(admin, [("disable_user", "ok", "carol"), ("enable_user", "ok", "carol"),
                                 ("delete_user", "ok", "carol")])


if __name__ == "__main__":
    unittest.main()
