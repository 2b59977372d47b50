"""Web identity federation end to end: a federated app takes ID tokens of an OpenID provider
the test runs itself on loopback (discovery and JWKS over HTTPS, its certificate given as the
provider's CA file; RSA and EC keys; a key rotation; the provider taken down), and answers
every bad token with invalid_token and its reason."""

import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from joserfc import jwt
from joserfc.jwk import RSAKey

import vendo_harness as h
from oidc_provider import Provider

POLICY = ("'{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
          "\"s3:*\",\"Resource\":\"arn:aws:s3:::photos/${idp}/${claim:sub}/*\"}]}'")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def federated_app(provider, name="photos", extra=""):
    return f"""
[apps.{name}]
mode = "federated"
issuer = "dev"
allow_insecure_legacy = true
policy = {POLICY}
[[apps.{name}.identity_providers]]
name = "testidp"
issuer_url = "{provider.issuer}"
audiences = ["photos-client"]
ca_file = "{provider.cert}"
min_refetch_seconds = 1
{extra}
"""


class FederationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="vendo-federation-")
        cls.idp = Provider(cls.dir)
        cls.config = h.write_config(cls.dir, federated_app(cls.idp))
        cls.v = h.Vendo(config=cls.config).start()

    @classmethod
    def tearDownClass(cls):
        cls.v.cleanup()
        cls.idp.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def federate(self, token, **extra):
        body = json.dumps({"id_token": token, **extra}).encode()
        return h.v2_post(self.v, "/v2/apps/photos/federate", body)

    def assertRefused(self, token, reason, status=401, **extra):
        got, body, _ = self.federate(token, **extra)
        self.assertEqual(got, status, body)
        self.assertEqual(body["error"]["code"], "invalid_token", body)
        self.assertEqual(body["error"]["reason"], reason, body)

    def audit_lines(self):
        """The audit lines (on stderr, with an "audit" key)."""
        lines = []
        for line in self.v.logs().splitlines():
            if '"audit"' in line:
                lines.append(json.loads(line))
        return lines

    def test_rsa_and_ec_tokens_buy_credentials_and_the_token_is_never_logged(self):
        for kid in ("rsa-1", "ec-1"):
            token = self.idp.token(kid=kid, sub="alice-" + kid)
            status, body, _ = self.federate(token)
            self.assertEqual(status, 200, body)
            self.assertIn("AccessKeyId", json.dumps(body))
            signature = token.rsplit(".", 1)[1]
            self.assertNotIn(signature, self.v.logs())  # neither logged nor audited
        vends = [a for a in self.audit_lines() if a.get("audit") == "vend"
                 and a.get("user") == "testidp:alice-rsa-1"]
        self.assertEqual(len(vends), 1, self.audit_lines())
        self.assertEqual(vends[0]["outcome"], "ok")

    def test_every_bad_token_is_refused_with_its_reason(self):
        idp = self.idp
        other = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
        good = idp.token()
        head, payload, sig = good.split(".")
        evil_payload = b64url(json.dumps(idp.claims(sub="admin")).encode())
        # HS256 keyed with the provider's public key (algorithm confusion).
        public = json.dumps(idp.signing_key("rsa-1").as_dict(private=False)).encode()
        hs_input = b64url(json.dumps({"alg": "HS256", "kid": "rsa-1"}).encode()) + "." + payload
        hs256 = hs_input + "." + b64url(hmac.new(public, hs_input.encode(), hashlib.sha256).digest())
        none = b64url(json.dumps({"alg": "none", "kid": "rsa-1"}).encode()) + "." + payload + "."
        cases = [
            ("wrong issuer", idp.token(idp.claims(iss="https://127.0.0.1:1")), "wrong_issuer"),
            ("wrong audience", idp.token(aud="someone-else"), "wrong_audience"),
            ("expired", idp.token(iat_offset=-4000, lifetime=3000), "expired"),
            ("not yet valid", idp.token(iat_offset=3600), "not_yet_valid"),
            ("alg none", none, "algorithm_not_allowed"),
            ("HS256 with the public key", hs256, "algorithm_not_allowed"),
            ("unknown kid", idp.token(kid="rsa-9", key=other), "unknown_key"),
            ("tampered payload", head + "." + evil_payload + "." + sig, "bad_signature"),
            ("signed by another key", idp.token(key=other), "bad_signature"),
            ("oversize", idp.token(pad="x" * 20000), "too_large"),
            ("not a JWS", "not-a-token", "malformed"),
        ]
        for what, token, reason in cases:
            with self.subTest(what):
                self.assertRefused(token, reason)

    def test_a_rotated_key_is_fetched_once_and_then_accepted(self):
        before = dict(self.idp.requests)
        new = self.idp.rotate()
        time.sleep(1.1)  # min_refetch_seconds = 1
        status, body, _ = self.federate(self.idp.token(kid="rsa-2", key=new, sub="bob"))
        self.assertEqual(status, 200, body)
        self.assertEqual(self.idp.requests["jwks"], before["jwks"] + 1)
        # A flood of unknown key ids within the interval costs the provider nothing more.
        stranger = RSAKey.generate_key(2048, parameters={"kid": "nope"})
        for _ in range(20):
            self.assertRefused(self.idp.token(kid="nope", key=stranger), "unknown_key")
        self.assertLessEqual(self.idp.requests["jwks"], before["jwks"] + 2)

    def test_known_keys_keep_working_while_the_provider_is_down(self):
        self.assertEqual(self.federate(self.idp.token(kid="ec-1", sub="carol"))[0], 200)
        self.idp.down = True
        try:
            status, body, _ = self.federate(self.idp.token(kid="ec-1", sub="carol"))
            self.assertEqual(status, 200, body)
        finally:
            self.idp.down = False

    def test_a_disabled_identity_is_refused_and_the_2012_and_registration_paths_are_closed(self):
        self.assertEqual(self.federate(self.idp.token(kid="ec-1", sub="dave"))[0], 200)
        out = subprocess.run([h.VENDO, "user", "disable", "--config", self.config, "--app",
                              "photos", "--provider", "testidp", "--subject", "dave"],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        time.sleep(1.2)  # store.cache_ttl_ms
        status, body, _ = self.federate(self.idp.token(kid="ec-1", sub="dave"))
        self.assertEqual(status, 403, body)
        self.assertEqual(body["error"]["code"], "user_disabled")
        self.assertEqual(self.v.request("GET", "/apps/photos/registerdevice?uid=x&key=y")[0], 404)
        self.assertEqual(h.v2_post(self.v, "/v2/apps/photos/devices", b"{}")[0], 405)
        self.assertEqual(self.federate(self.idp.token(), extra=1)[0], 400)

    def test_the_cli_federates_and_serves_credential_process_from_a_token_file(self):
        state = os.path.join(self.dir, "device", "client.json")
        token_file = os.path.join(self.dir, "id-token")
        with open(token_file, "w") as f:
            f.write(self.idp.token(sub="erin") + "\n")
        login = subprocess.run([h.VENDO, "client", "login", "--endpoint", self.v.base(), "--app",
                                "photos", "--state", state, "--id-token-file", token_file],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(login.returncode, 0, login.stderr)
        with open(state) as f:
            saved = f.read()
        self.assertNotIn(self.idp.token(sub="erin").split(".")[2], saved)  # never kept
        self.assertEqual(os.stat(state).st_mode & 0o777, 0o600)
        process = [h.VENDO, "credential-process", "--state", state, "--id-token-file", token_file]
        first = subprocess.run(process, capture_output=True, text=True, timeout=60)
        self.assertEqual(first.returncode, 0, first.stderr)
        creds = json.loads(first.stdout)
        self.assertEqual(creds["Version"], 1)
        self.assertTrue(creds["AccessKeyId"])
        # The cached credentials serve the next call; --refresh reads the token file again.
        with open(token_file, "w") as f:
            f.write(self.idp.token(sub="frank"))
        again = subprocess.run(process, capture_output=True, text=True, timeout=60)
        self.assertEqual(json.loads(again.stdout)["AccessKeyId"], creds["AccessKeyId"])
        refreshed = subprocess.run(process + ["--refresh"], capture_output=True, text=True,
                                   timeout=60)
        self.assertEqual(refreshed.returncode, 0, refreshed.stderr)
        users = [a.get("user") for a in self.audit_lines() if a.get("audit") == "vend"]
        self.assertIn("testidp:erin", users)
        self.assertIn("testidp:frank", users)
        # A token the server refuses is reported with its reason.
        with open(token_file, "w") as f:
            f.write(self.idp.token(aud="someone-else"))
        refused = subprocess.run(process + ["--refresh"], capture_output=True, text=True,
                                 timeout=60)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("wrong_audience", refused.stderr)

    def test_a_bound_device_needs_no_token_and_stops_with_its_identity(self):
        state = os.path.join(self.dir, "bound", "client.json")
        token_file = os.path.join(self.dir, "bound-token")
        with open(token_file, "w") as f:
            f.write(self.idp.token(sub="grace"))
        login = subprocess.run([h.VENDO, "client", "login", "--endpoint", self.v.base(), "--app",
                                "photos", "--state", state, "--id-token-file", token_file,
                                "--bind-device"], capture_output=True, text=True, timeout=60)
        self.assertEqual(login.returncode, 0, login.stderr)
        with open(state) as f:
            saved = json.load(f)
        self.assertTrue(saved["device_id"].startswith("d_"), saved)
        os.remove(token_file)  # from now on the device signs its own requests
        process = [h.VENDO, "credential-process", "--state", state, "--refresh"]
        signed = subprocess.run(process, capture_output=True, text=True, timeout=60)
        self.assertEqual(signed.returncode, 0, signed.stderr)
        self.assertTrue(json.loads(signed.stdout)["AccessKeyId"])
        binds = [a for a in self.audit_lines() if a.get("audit") == "bind_federated_device"]
        self.assertEqual([(a["device"], a["user"]) for a in binds],
                         [(saved["device_id"], "testidp:grace")], binds)
        vends = [a for a in self.audit_lines() if a.get("audit") == "vend"
                 and a.get("device") == saved["device_id"]]
        self.assertEqual(len(vends), 1, self.audit_lines())
        self.assertEqual(vends[0]["user"], "testidp:grace")
        # Disabling the identity stops the device it bound.
        out = subprocess.run([h.VENDO, "user", "disable", "--config", self.config, "--app",
                              "photos", "--provider", "testidp", "--subject", "grace"],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        time.sleep(1.2)  # store.cache_ttl_ms
        stopped = subprocess.run(process, capture_output=True, text=True, timeout=60)
        self.assertEqual(stopped.returncode, 1, stopped.stdout)
        self.assertIn("disabled", stopped.stderr)

    def test_bind_device_answers_the_device_beside_the_credentials(self):
        status, body, _ = self.federate(self.idp.token(sub="heidi"), bind_device=True)
        self.assertEqual(status, 200, body)
        self.assertTrue(body["device_id"].startswith("d_"), body)
        self.assertEqual(len(body["device_secret"]), 43, body)
        self.assertTrue(body["AccessKeyId"])

    def test_a_subject_that_could_widen_the_policy_gets_nothing(self):
        for sub in ("*", "alice/../bob", "a?b", "${aws:username}"):
            with self.subTest(sub):
                status, body, _ = self.federate(self.idp.token(sub=sub))
                self.assertEqual(status, 401, body)
                self.assertEqual(body["error"]["reason"], "claim_not_usable", body)


class FailedTokenLimitTest(unittest.TestCase):
    """failed_tokens_per_address_per_minute, through a trusted balancer (X-Forwarded-For, as in
    production; loopback is never limited): an address whose tokens keep failing is refused
    429 before its next token is even checked, even a good one; other addresses go on."""

    def test_an_address_of_failed_tokens_is_refused_and_others_are_not(self):
        directory = tempfile.mkdtemp(prefix="vendo-federation-limit-")
        idp = Provider(directory)
        extra = "[apps.photos.limits]\nfailed_tokens_per_address_per_minute = 3\n"
        config = h.write_config(directory, federated_app(idp).replace(
            "[[apps.photos.identity_providers]]", extra + "[[apps.photos.identity_providers]]"),
            server_extra='trusted_proxies = ["127.0.0.1"]')
        v = h.Vendo(config=config).start()
        try:
            def federate(token, address):
                return h.v2_post(v, "/v2/apps/photos/federate",
                                 json.dumps({"id_token": token}).encode(),
                                 {"X-Forwarded-For": address})
            bad = idp.token(aud="someone-else")
            for _ in range(3):
                status, body, _ = federate(bad, "203.0.113.9")
                self.assertEqual((status, body["error"]["reason"]), (401, "wrong_audience"))
            status, body, headers = federate(idp.token(sub="mallory"), "203.0.113.9")
            self.assertEqual(status, 429, body)
            self.assertEqual(body["error"]["code"], "rate_limited")
            self.assertGreater(int(headers["retry-after"]), 0)
            status, body, _ = federate(idp.token(sub="carol"), "198.51.100.4")
            self.assertEqual(status, 200, body)
            status, body, _ = federate(bad, "127.0.0.1")  # a tool on the host: not limited
            self.assertEqual(status, 401, body)
            refusals = [json.loads(line) for line in v.logs().splitlines()
                        if '"audit"' in line and "resource_exhausted" in line]
            self.assertEqual([(e["client"], e["outcome"]) for e in refusals],
                             [("203.0.113.9", "resource_exhausted")])
        finally:
            v.cleanup()
            idp.stop()
            shutil.rmtree(directory, ignore_errors=True)


class ProviderDownTest(unittest.TestCase):
    """A provider that has never answered: no keys to check with, so 503 with Retry-After."""

    def test_no_keys_is_provider_unavailable(self):
        directory = tempfile.mkdtemp(prefix="vendo-federation-down-")
        idp = Provider(directory)
        idp.down = True
        v = h.Vendo(config=h.write_config(directory, federated_app(idp))).start()
        try:
            status, body, headers = h.v2_post(v, "/v2/apps/photos/federate",
                                              json.dumps({"id_token": idp.token()}).encode())
            self.assertEqual(status, 503, body)
            self.assertEqual(body["error"]["code"], "provider_unavailable")
            self.assertIn("retry-after", headers)
        finally:
            v.cleanup()
            idp.stop()
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
