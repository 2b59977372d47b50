"""End to end against a real S3 + STS server that enforces session policies: Ceph RGW,
started by ../shared/ceph-rgw-sts/start.sh on loopback. vendo's aws-assume-role issuer vends
credentials with the shipped per-user S3 template; alice's work under BUCKET/alice/ and are
refused under BUCKET/bob/. The sample app (samples/s3_upload, on libvendo-client and protocol
v2) shows the same from a device. A federated app does it for ID tokens of an OpenID provider
the test runs on loopback: the policy is scoped by the token's verified sub, and a sub made of
IAM wildcards or path separators gets nothing; a device bound to the identity (bind_device)
then gets credentials scoped the same from signed requests, with no token."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from oidc_provider import Provider
from peers import CephRgw
from vendo_harness import (Vendo, identity_token, v2_post, v2_signed_headers, write_config,
                           write_secret)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.join(HERE, "../..")
ENDPOINT = "https://files.example.com/apps/files"


class RgwEndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ceph = CephRgw()
        cls.rgw = cls.ceph.env
        cls.dir = tempfile.mkdtemp(prefix="vendo-rgw-tvm-")
        write_secret(cls.dir, "secret", cls.rgw["TVM_SECRET_ACCESS_KEY"])
        with open(os.path.join(REPO, "deploy/policies/per-user-s3.json")) as f:
            policy = f.read().replace("REPLACE-WITH-BUCKET", cls.rgw["RGW_BUCKET"])
        with open(os.path.join(cls.dir, "policy.json"), "w") as f:
            f.write(policy)  # pretty-printed on purpose: vendo must send it compact to RGW
        with open(os.path.join(cls.dir, "federated-policy.json"), "w") as f:
            f.write(policy.replace("${username}", "${claim:sub}"))
        cls.idp = Provider(cls.dir)
        cls.config = write_config(cls.dir, f"""
[apps.photos]
allow_insecure_legacy = true
mode = "identity"
app_name = "Photos"
public_endpoint = "https://files.example.com/apps/photos"
issuer = "aws-assume-role"
duration_seconds = 900
policy_file = "policy.json"
[apps.photos.aws]
endpoint = "{cls.rgw['RGW_ENDPOINT']}"
region = "{cls.rgw['RGW_REGION']}"
role_arn = "{cls.rgw['RGW_ROLE_ARN']}"
access_key_id = "{cls.rgw['TVM_ACCESS_KEY_ID']}"
secret_access_key_file = "secret"
[apps.files]
allow_insecure_legacy = true
mode = "identity"
app_name = "FileStore"
public_endpoint = "{ENDPOINT}"
issuer = "aws-assume-role"
duration_seconds = 900
policy_file = "policy.json"
[apps.files.aws]
endpoint = "{cls.rgw['RGW_ENDPOINT']}"
region = "{cls.rgw['RGW_REGION']}"
role_arn = "{cls.rgw['RGW_ROLE_ARN']}"
access_key_id = "{cls.rgw['TVM_ACCESS_KEY_ID']}"
secret_access_key_file = "secret"
[apps.social]
allow_insecure_legacy = true
mode = "federated"
issuer = "aws-assume-role"
duration_seconds = 900
policy_file = "federated-policy.json"
[apps.social.aws]
endpoint = "{cls.rgw['RGW_ENDPOINT']}"
region = "{cls.rgw['RGW_REGION']}"
role_arn = "{cls.rgw['RGW_ROLE_ARN']}"
access_key_id = "{cls.rgw['TVM_ACCESS_KEY_ID']}"
secret_access_key_file = "secret"
[[apps.social.identity_providers]]
name = "testidp"
issuer_url = "{cls.idp.issuer}"
audiences = ["photos-client"]
ca_file = "{cls.idp.cert}"
""")
        cls.v = Vendo(data_dir=cls.dir, config=cls.config).start()

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "v", None):
            cls.v.stop()
        if getattr(cls, "idp", None):
            cls.idp.stop()
        cls.ceph.stop()
        shutil.rmtree(getattr(cls, "dir", ""), ignore_errors=True)

    def s3_for(self, username):
        status, creds = identity_token(self.v, "/apps/files", username, "secret123",
                                       "FileStore", ENDPOINT)
        self.assertEqual(status, 200, creds)
        return self.s3_with(creds["accessKey"], creds["secretKey"], creds["securityToken"])

    def s3_with(self, key, secret, token):
        import boto3
        from botocore.config import Config
        return boto3.client("s3", endpoint_url=self.rgw["RGW_ENDPOINT"],
                            region_name=self.rgw["RGW_REGION"],
                            aws_access_key_id=key,
                            aws_secret_access_key=secret,
                            aws_session_token=token,
                            config=Config(s3={"addressing_style": "path"},
                                          retries={"max_attempts": 1}))

    def assertDenied(self, call, *args, **kwargs):
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as caught:
            call(*args, **kwargs)
        self.assertIn(caught.exception.response["Error"]["Code"], ("AccessDenied", "403"))

    def test_each_user_reaches_only_their_own_prefix(self):
        bucket = self.rgw["RGW_BUCKET"]
        for me, other in (("alice", "bob"), ("bob", "alice")):
            s3 = self.s3_for(me)
            s3.put_object(Bucket=bucket, Key=f"{me}/from-vendo.txt", Body=b"hello")
            got = s3.get_object(Bucket=bucket, Key=f"{me}/seed.txt")["Body"].read()
            self.assertTrue(got)
            self.assertDenied(s3.put_object, Bucket=bucket, Key=f"{other}/x.txt", Body=b"no")
            self.assertDenied(s3.get_object, Bucket=bucket, Key=f"{other}/seed.txt")
            self.assertDenied(s3.put_object, Bucket=bucket, Key="root.txt", Body=b"no")
            listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{me}/")
            self.assertEqual(sorted(o["Key"] for o in listed["Contents"]),
                             [f"{me}/from-vendo.txt", f"{me}/seed.txt"])
            self.assertDenied(s3.list_objects_v2, Bucket=bucket, Prefix=f"{other}/")

    def test_an_id_token_reaches_only_its_subjects_prefix(self):
        bucket = self.rgw["RGW_BUCKET"]
        status, creds, _ = v2_post(self.v, "/v2/apps/social/federate", json.dumps(
            {"id_token": self.idp.token(sub="alice")}).encode())
        self.assertEqual(status, 200, creds)
        s3 = self.s3_with(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        s3.put_object(Bucket=bucket, Key="alice/federated.txt", Body=b"from an ID token")
        self.assertEqual(s3.get_object(Bucket=bucket, Key="alice/federated.txt")["Body"].read(),
                         b"from an ID token")
        s3.delete_object(Bucket=bucket, Key="alice/federated.txt")  # alice's listing stays as seeded
        self.assertDenied(s3.put_object, Bucket=bucket, Key="bob/x.txt", Body=b"no")
        self.assertDenied(s3.get_object, Bucket=bucket, Key="bob/seed.txt")
        self.assertDenied(s3.list_objects_v2, Bucket=bucket, Prefix="bob/")
        # A subject made of wildcards or separators would widen the prefix: it gets nothing.
        for sub in ("*", "alice/../bob", "bob*", "?"):
            with self.subTest(sub=sub):
                status, body, _ = v2_post(self.v, "/v2/apps/social/federate", json.dumps(
                    {"id_token": self.idp.token(sub=sub)}).encode())
                self.assertEqual(status, 401, body)
                self.assertEqual(body["error"]["reason"], "claim_not_usable", body)

    def test_a_bound_device_is_scoped_as_its_token_was_without_the_token(self):
        bucket = self.rgw["RGW_BUCKET"]
        status, bound, _ = v2_post(self.v, "/v2/apps/social/federate", json.dumps(
            {"id_token": self.idp.token(sub="alice"), "bind_device": True}).encode())
        self.assertEqual(status, 200, bound)
        device, secret = bound["device_id"], bound["device_secret"]
        path = "/v2/apps/social/token"
        status, creds, _ = v2_post(self.v, path, b"{}", v2_signed_headers(device, secret, path,
                                                                          b"{}"))
        self.assertEqual(status, 200, creds)
        self.assertNotEqual(creds["AccessKeyId"], bound["AccessKeyId"])  # STS was asked again
        s3 = self.s3_with(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        s3.put_object(Bucket=bucket, Key="alice/bound.txt", Body=b"from a bound device")
        self.assertEqual(s3.get_object(Bucket=bucket, Key="alice/bound.txt")["Body"].read(),
                         b"from a bound device")
        s3.delete_object(Bucket=bucket, Key="alice/bound.txt")
        self.assertDenied(s3.put_object, Bucket=bucket, Key="bob/x.txt", Body=b"no")
        self.assertDenied(s3.get_object, Bucket=bucket, Key="bob/seed.txt")
        self.assertDenied(s3.list_objects_v2, Bucket=bucket, Prefix="bob/")

    def test_the_sample_app_uploads_under_its_own_prefix_only(self):
        sample = os.environ.get("VENDO_SAMPLE",
                                os.path.join(REPO, "build/samples/s3_upload/vendo-s3-upload"))
        bucket = self.rgw["RGW_BUCKET"]
        status, body, _ = self.v.request(
            "POST", "/v2/apps/photos/users",
            body=b'{"username": "alice", "password": "alice-pw-123"}',
            headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201, body)
        pw = write_secret(self.dir, "alice-pw", "alice-pw-123")
        photo = os.path.join(self.dir, "holiday.txt")
        with open(photo, "w") as f:
            f.write("a photo, honestly\n")
        state = os.path.join(self.dir, "device", "vendo.json")
        common = [sample, "--endpoint", f"http://127.0.0.1:{self.v.port}", "--app", "photos",
                  "--state", state, "--username", "alice", "--password-file", pw,
                  "--s3", self.rgw["RGW_ENDPOINT"], "--region", self.rgw["RGW_REGION"],
                  "--bucket", bucket, "--file", photo]
        run = subprocess.run(common, capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn(f"uploaded s3://{bucket}/alice/holiday.txt", run.stdout)
        self.assertIn("  alice/holiday.txt", run.stdout.splitlines())
        self.assertEqual(os.stat(state).st_mode & 0o777, 0o600)
        # It really is in the bucket: read it back with boto3 (an independent signer) using
        # the credentials the device cached in its state file.
        import boto3
        from botocore.config import Config
        with open(state) as f:
            cached = json.load(f)["credentials"]
        s3 = boto3.client("s3", endpoint_url=self.rgw["RGW_ENDPOINT"],
                          region_name=self.rgw["RGW_REGION"],
                          aws_access_key_id=cached["AccessKeyId"],
                          aws_secret_access_key=cached["SecretAccessKey"],
                          aws_session_token=cached["SessionToken"],
                          config=Config(s3={"addressing_style": "path"}))
        self.assertEqual(s3.get_object(Bucket=bucket, Key="alice/holiday.txt")["Body"].read(),
                         b"a photo, honestly\n")
        # The same device's credentials are refused under another user's prefix.
        refused = subprocess.run(common + ["--prefix", "bob/"], capture_output=True, text=True,
                                 timeout=60)
        self.assertEqual(refused.returncode, 3, refused.stderr)
        self.assertIn("AccessDenied", refused.stderr)


if __name__ == "__main__":
    unittest.main()
