"""The audit log: every registration, login and vend is there, with its outcome, and not one
secret the test used (device keys, passwords, their hashes, signatures, credentials). A sink
that cannot be written stops vending."""
import json
import os
import shutil
import tempfile
import unittest

from vendo_harness import (Vendo, anonymous_token, identity_token, new_device, now_ts,
                           salted_hash, sign_b64, write_config)

ENDPOINT = "https://tvm.example.com/apps/ident"
APPS = f"""
[apps.anon]
allow_insecure_legacy = true
mode = "anonymous"
policy = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${{uid}}/*"}}]}}'
[apps.ident]
allow_insecure_legacy = true
mode = "identity"
app_name = "AuditApp"
public_endpoint = "{ENDPOINT}"
policy = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${{username}}/*"}}]}}'
"""


class AuditTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vendo-audit-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def start(self, audit_file):
        cfg = write_config(self.dir, f'[audit]\nfile = "{audit_file}"\n' + APPS)
        v = Vendo(data_dir=self.dir, config=cfg).start()
        self.addCleanup(v.cleanup)
        return v

    def test_events_are_recorded_and_no_secret_is(self):
        audit = os.path.join(self.dir, "audit.log")
        v = self.start(audit)
        secrets = []
        uid, key = new_device()
        secrets.append(key)
        status, creds = anonymous_token(v, "/apps/anon", uid, key)
        self.assertEqual(status, 200)
        secrets += [creds["secretKey"], creds["securityToken"]]
        ts = now_ts()
        sig = sign_b64(key, ts)
        secrets.append(sig)
        # A flipped first character: "x" + sig[1:] was the same signature whenever the real one
        # began with "x" (1 in 64), and the test then failed on a correct server.
        forged = ("B" if sig[0] == "A" else "A") + sig[1:]
        self.assertEqual(v.request("GET", "/apps/anon/gettoken",
                                   {"uid": uid, "timestamp": ts, "signature": forged})[0], 401)
        status, creds = identity_token(v, "/apps/ident", "auditor", "pass-word-1", "AuditApp",
                                       ENDPOINT)
        self.assertEqual(status, 200)
        secrets += ["pass-word-1", salted_hash("pass-word-1", "auditor", "AuditApp", ENDPOINT),
                    creds["secretKey"], creds["securityToken"]]
        wrong = salted_hash("wrong-pass", "auditor", "AuditApp", ENDPOINT)
        ts = now_ts(False)
        self.assertEqual(v.request("GET", "/apps/ident/login",
                                   {"uid": new_device()[0], "username": "auditor",
                                    "timestamp": ts, "signature": wrong})[0], 401)
        with open(audit) as f:
            text = f.read()
        events = [json.loads(line) for line in text.splitlines()]
        seen = [(e["audit"], e.get("app"), e["outcome"]) for e in events]
        for expected in (("register_device", "anon", "ok"), ("vend", "anon", "ok"),
                         ("vend", "anon", "unauthenticated"), ("register_user", "ident", "ok"),
                         ("login", "ident", "ok"), ("vend", "ident", "ok"),
                         ("login", "ident", "unauthenticated")):
            self.assertIn(expected, seen)
        vend = [e for e in events if e["audit"] == "vend" and e["outcome"] == "ok"][-1]
        self.assertEqual(vend["user"], "auditor")
        self.assertEqual(vend["issuer"], "dev")
        self.assertEqual(len(vend["policy_sha256"]), 64)
        self.assertEqual(vend["duration_s"], 86400)
        self.assertEqual(vend["client"], "127.0.0.1")
        self.assertTrue(vend["request_id"])
        self.assertEqual(os.stat(audit).st_mode & 0o777, 0o600)
        everything = text + v.logs()
        for secret in secrets:
            self.assertNotIn(secret, everything)

    def test_no_vending_when_the_audit_log_cannot_be_written(self):
        v = self.start("/dev/full")  # every write fails: ENOSPC
        uid, key = new_device()
        status, body = anonymous_token(v, "/apps/anon", uid, key)
        self.assertEqual((status, body), (500, b"Server Error\r\n"))
        self.assertIn('"msg":"audit log write failed"', v.logs())


if __name__ == "__main__":
    unittest.main()
