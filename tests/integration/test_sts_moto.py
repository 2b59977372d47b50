"""vendo's aws-federation and aws-assume-role issuers against moto_server with SigV4 and IAM
checks on: devices get credentials moto minted, and moto's recorder shows exactly what vendo
sent."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from oidc_provider import Provider
from peers import MotoServer
from vendo_harness import (VENDO, Vendo, anonymous_token, identity_token, new_device,
                           write_config, write_secret)

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../..")
ENDPOINT = "https://tvm.example.com/apps/photos"


class StsMotoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.moto = MotoServer()
        key_id, secret, cls.role_arn = cls.moto.make_tvm_user_and_role()
        cls.admins_arn = cls.moto.make_role("photo-admins")
        cls.key_id, cls.secret = key_id, secret
        cls.moto.enforce_auth()
        cls.dir = tempfile.mkdtemp(prefix="vendo-sts-moto-")
        write_secret(cls.dir, "secret", secret)
        write_secret(cls.dir, "wrong", "not-the-secret")
        aws = f'endpoint = "{cls.moto.url}"\naccess_key_id = "{key_id}"\n'
        cls.idp = Provider(cls.dir)
        cls.config = write_config(cls.dir, f"""
[apps.sensors]
allow_insecure_legacy = true
mode = "anonymous"
issuer = "aws-federation"
duration_seconds = 900
policy_file = "{REPO}/examples/policies/per-device-s3.json"
[apps.sensors.aws]
{aws}secret_access_key_file = "secret"

[apps.photos]
allow_insecure_legacy = true
mode = "identity"
app_name = "PhotoApp"
public_endpoint = "{ENDPOINT}"
issuer = "aws-assume-role"
duration_seconds = 900
policy_file = "{REPO}/deploy/policies/per-user-s3.json"
[apps.photos.aws]
{aws}secret_access_key_file = "secret"
role_arn = "{cls.role_arn}"
external_id = "vendo-test"
source_identity = "${{username}}"

[apps.social]
allow_insecure_legacy = true
mode = "federated"
issuer = "aws-assume-role"
duration_seconds = 900
policy = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${{claim:sub}}/*"}}]}}'
[apps.social.aws]
{aws}secret_access_key_file = "secret"
role_arn = "{cls.role_arn}"
[[apps.social.identity_providers]]
name = "testidp"
issuer_url = "{cls.idp.issuer}"
audiences = ["photos-client"]
ca_file = "{cls.idp.cert}"
session_tags = {{ email = "email", team = "team" }}
[[apps.social.identity_providers.rules]]
claim = "groups"
equals = "admins"
role_arn = "{cls.admins_arn}"
policy = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}}]}}'

[apps.broken]
allow_insecure_legacy = true
mode = "anonymous"
issuer = "aws-federation"
duration_seconds = 900
policy_file = "{REPO}/examples/policies/per-device-s3.json"
[apps.broken.aws]
{aws}secret_access_key_file = "wrong"
max_attempts = 2
""")
        cls.v = Vendo(data_dir=cls.dir, config=cls.config).start()

    @classmethod
    def tearDownClass(cls):
        cls.v.stop()
        cls.idp.stop()
        cls.moto.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.moto.start_recording()

    def render(self, *args):
        out = subprocess.run([VENDO, "policy", "render", "--config", self.config, *args],
                             check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def log_lines(self, msg, device):
        """Log lines with this message about this device; waits for the log's 1 s flush."""
        deadline = time.time() + 5
        while True:
            lines = [json.loads(line) for line in self.v.logs().splitlines()
                     if f'"msg":"{msg}"' in line]
            lines = [l for l in lines if l.get("device") == device]
            if lines or time.time() > deadline:
                return lines
            time.sleep(0.1)

    def test_federation_for_an_anonymous_device(self):
        uid, key = new_device()
        status, creds = anonymous_token(self.v, "/apps/sensors", uid, key)
        self.assertEqual(status, 200, creds)
        self.assertTrue(creds["accessKey"] and creds["secretKey"] and creds["securityToken"])
        self.assertAlmostEqual(int(creds["expirationDate"]) / 1000, time.time() + 900, delta=60)
        calls = self.moto.recorded("GetFederationToken")
        self.assertEqual(len(calls), 1)
        headers, params = calls[0]
        self.assertEqual(params["Name"], uid)
        self.assertEqual(params["DurationSeconds"], "900")
        self.assertEqual(params["Policy"], self.render("--app", "sensors", "--uid", uid))
        self.assertIn(f"Credential={self.key_id}/", headers["Authorization"])
        self.assertIn("/us-east-1/sts/aws4_request", headers["Authorization"])
        # The same device again: served from the credential cache, no second STS call.
        status, again = anonymous_token(self.v, "/apps/sensors", uid, key, register=False)
        self.assertEqual(status, 200)
        self.assertEqual(again["accessKey"], creds["accessKey"])
        self.assertEqual(len(self.moto.recorded("GetFederationToken")), 1)

    def test_assume_role_for_an_identity_user(self):
        uid = new_device()[0]
        status, creds = identity_token(self.v, "/apps/photos", "alice", "secret123", "PhotoApp",
                                       ENDPOINT, uid=uid)
        self.assertEqual(status, 200, creds)
        # moto minted them: they work against moto, as the role's session named for alice.
        sts = self.moto.client("sts", creds["accessKey"], creds["secretKey"],
                               creds["securityToken"])
        arn = sts.get_caller_identity()["Arn"]
        self.assertEqual(arn, "arn:aws:sts::123456789012:assumed-role/devices/alice")
        calls = self.moto.recorded("AssumeRole")
        self.assertEqual(len(calls), 1)
        params = calls[0][1]
        self.assertEqual(params["RoleArn"], self.role_arn)
        self.assertEqual(params["RoleSessionName"], "alice")
        self.assertEqual(params["DurationSeconds"], "900")
        self.assertEqual(params["ExternalId"], "vendo-test")
        self.assertEqual(params["SourceIdentity"], "alice")
        self.assertEqual(params["Policy"], self.render("--app", "photos", "--user", "alice"))
        tags = {params[f"Tags.member.{i}.Key"]: params[f"Tags.member.{i}.Value"]
                for i in (1, 2, 3)}
        self.assertEqual(tags, {"vendo:app": "photos", "vendo:device": uid, "vendo:user": "alice"})

    def federated_caller(self, **claims):
        """Federates a token with `claims`; the ARN moto says its credentials act as."""
        status, body, _ = self.v.request(
            "POST", "/v2/apps/social/federate",
            body=json.dumps({"id_token": self.idp.token(**claims)}).encode(),
            headers={"Content-Type": "application/json"})
        self.assertEqual(status, 200, body)
        creds = json.loads(body)
        sts = self.moto.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"],
                               creds["SessionToken"])
        return sts.get_caller_identity()["Arn"]

    def test_assume_role_for_an_id_token_with_session_tags_from_its_claims(self):
        arn = self.federated_caller(sub="alice", email="alice@example.com", email_verified=True,
                                    team="red")
        self.assertEqual(arn.split("/")[0], "arn:aws:sts::123456789012:assumed-role")
        calls = self.moto.recorded("AssumeRole")
        self.assertEqual(len(calls), 1)
        params = calls[0][1]
        tags = {params[f"Tags.member.{i}.Key"]: params[f"Tags.member.{i}.Value"]
                for i in range(1, 6) if f"Tags.member.{i}.Key" in params}
        self.assertEqual(tags["email"], "alice@example.com")
        self.assertEqual(tags["team"], "red")
        self.assertEqual(tags["vendo:user"], "testidp:alice")
        self.assertIn("b/alice/*", params["Policy"])
        # A token without a claim a tag needs gets nothing (and STS is not called); a tag
        # carries the email, so the email must be verified.
        for claims, reason in (({"email": "bob@example.com", "email_verified": True},
                                "claim_not_usable"),
                               ({"team": "blue"}, "email_not_verified"),
                               ({"team": "blue", "email": "bob@example.com"},
                                "email_not_verified")):
            status, body, _ = self.v.request(
                "POST", "/v2/apps/social/federate",
                body=json.dumps({"id_token": self.idp.token(sub="bob", **claims)}).encode(),
                headers={"Content-Type": "application/json"})
            self.assertEqual(status, 401, body)
            self.assertEqual(json.loads(body)["error"]["reason"], reason)
        self.assertEqual(len(self.moto.recorded("AssumeRole")), 1)

    def test_a_claim_rule_chooses_the_role_and_the_policy(self):
        def federate(**claims):
            arn = self.federated_caller(email="ann@example.com", email_verified=True,
                                        team="ops", **claims)
            return arn, self.moto.recorded("AssumeRole")[-1][1]
        arn, params = federate(sub="ann", groups=["staff", "admins"])
        self.assertTrue(arn.startswith("arn:aws:sts::123456789012:assumed-role/photo-admins/"),
                        arn)
        self.assertEqual(params["RoleArn"], self.admins_arn)
        self.assertIn('"Resource":"arn:aws:s3:::b/*"', params["Policy"])
        arn, params = federate(sub="sam", groups=["staff"])  # no rule: the app's role and policy
        self.assertTrue(arn.startswith("arn:aws:sts::123456789012:assumed-role/devices/"), arn)
        self.assertEqual(params["RoleArn"], self.role_arn)
        self.assertIn("b/sam/*", params["Policy"])

    def test_a_name_sts_would_refuse_is_mapped_and_logged(self):
        uid, key = "device-" + "x" * 60, new_device()[1]  # longer than STS's 32
        status, creds = anonymous_token(self.v, "/apps/sensors", uid, key)
        self.assertEqual(status, 200, creds)
        name = self.moto.recorded("GetFederationToken")[0][1]["Name"]
        self.assertEqual(len(name), 32)
        self.assertRegex(name, r"^device-x+-[0-9a-f]{16}$")
        mapped = self.log_lines("sts call", uid)
        self.assertEqual(mapped[0]["session_name"], name)

    def test_the_sdk_endpoint_variable_points_sts_elsewhere(self):
        """With no endpoint in the config, AWS_ENDPOINT_URL_STS (as the AWS SDKs read it) names
        STS: what a host behind a VPC endpoint, or a test STS, sets in a unit drop-in."""
        d = tempfile.mkdtemp(prefix="vendo-sts-env-")
        self.addCleanup(shutil.rmtree, d, True)
        write_secret(d, "secret", self.secret)
        cfg = write_config(d, f"""
[apps.sensors]
allow_insecure_legacy = true
mode = "anonymous"
issuer = "aws-federation"
duration_seconds = 900
policy_file = "{REPO}/examples/policies/per-device-s3.json"
[apps.sensors.aws]
region = "us-east-1"
access_key_id = "{self.key_id}"
secret_access_key_file = "secret"
""")
        v = Vendo(data_dir=d, config=cfg,
                  env=dict(os.environ, AWS_ENDPOINT_URL_STS=self.moto.url)).start()
        self.addCleanup(v.stop)
        uid, key = new_device()
        status, creds = anonymous_token(v, "/apps/sensors", uid, key)
        self.assertEqual(status, 200, creds)
        self.assertEqual(len(self.moto.recorded("GetFederationToken")), 1)
        self.assertIn('"variable":"AWS_ENDPOINT_URL_STS"', v.logs())

    def test_a_wrong_issuer_secret_is_a_clear_error_not_a_crash(self):
        uid, key = new_device()
        status, body = anonymous_token(self.v, "/apps/broken", uid, key)
        self.assertEqual((status, body), (500, b"Server Error\r\n"))  # nothing from STS leaks
        failed = self.log_lines("sts call failed", uid)
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed[0]["code"], "permission_denied")
        self.assertIn("SignatureDoesNotMatch", failed[0]["error"])
        self.assertEqual(len(self.moto.recorded("GetFederationToken")), 1, "4xx is not retried")
        self.assertEqual(self.v.request("GET", "/healthz")[0], 200)

    def test_zz_no_log_line_holds_a_secret(self):
        """Last (unittest runs tests by name): after the flows above logged their STS calls,
        successes and failures, no line holds the issuer's secret or a device key."""
        uid, key = new_device()
        self.assertEqual(anonymous_token(self.v, "/apps/sensors", uid, key)[0], 200)
        time.sleep(1.2)  # the log's periodic flush
        logs = self.v.logs()
        self.assertIn('"msg":"sts call"', logs)
        self.assertNotIn(self.secret, logs)
        self.assertNotIn(key, logs, "device keys stay out too")


if __name__ == "__main__":
    unittest.main()
