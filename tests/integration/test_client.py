"""The device side end to end: `vendo client ...` and `vendo credential-process` against a real
vendo whose issuer is moto's STS (signature checks on), the real `aws` CLI using vendo through
credential_process for STS and S3 calls on the same moto, and libvendo-client installed and
used from another CMake project with find_package(vendo)."""
import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
import unittest

from peers import MotoServer
from vendo_harness import VENDO, Vendo, write_config, write_secret

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.join(HERE, "../..")
BUILD = os.environ.get("VENDO_BUILD_DIR", os.path.join(REPO, "build"))
BUCKET = "example-sensor-uploads"


def vendo(*args, stdin=None, check=False):
    return subprocess.run([VENDO, *args], input=stdin, capture_output=True, text=True,
                          timeout=60, check=check)


class ClientCommandsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.moto = MotoServer()
        key_id, secret, role_arn = cls.moto.make_tvm_user_and_role()
        cls.moto.client("s3").create_bucket(Bucket=BUCKET)
        cls.moto.enforce_auth()
        cls.dir = tempfile.mkdtemp(prefix="vendo-client-")
        write_secret(cls.dir, "secret", secret)
        aws = (f'endpoint = "{cls.moto.url}"\naccess_key_id = "{key_id}"\n'
               f'secret_access_key_file = "secret"\nrole_arn = "{role_arn}"\n')
        cls.config = write_config(cls.dir, f"""
[apps.sensors]
allow_insecure_legacy = true
mode = "anonymous"
issuer = "aws-assume-role"
duration_seconds = 900
policy_file = "{REPO}/examples/policies/per-device-s3.json"
[apps.sensors.aws]
{aws}
[apps.photos]
allow_insecure_legacy = true
mode = "identity"
app_name = "PhotoApp"
public_endpoint = "http://127.0.0.1/apps/photos"
issuer = "aws-assume-role"
duration_seconds = 900
policy_file = "{REPO}/deploy/policies/per-user-s3.json"
[apps.photos.aws]
{aws}
""")
        cls.v = Vendo(data_dir=cls.dir, config=cls.config).start()
        cls.endpoint = f"http://127.0.0.1:{cls.v.port}"

    @classmethod
    def tearDownClass(cls):
        cls.v.stop()
        cls.moto.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def state(self, name):
        return os.path.join(self.dir, "devices", name, "vendo.json")

    def aws(self, state, *args):
        """The real aws CLI, with only a credential_process profile to get credentials from."""
        config = os.path.join(self.dir, f"aws-config-{os.path.basename(os.path.dirname(state))}")
        with open(config, "w") as f:
            f.write(f"[profile device]\nregion = us-east-1\n"
                    f"credential_process = {VENDO} credential-process --state {state}\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_CONFIG_FILE=config, AWS_PROFILE="device",
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.dir, "no-credentials"),
                   AWS_EC2_METADATA_DISABLED="true")
        run = subprocess.run(["aws", "--endpoint-url", self.moto.url, "--output", "json", *args],
                             capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr)
        return json.loads(run.stdout) if run.stdout.strip() else None

    def test_the_aws_cli_gets_credentials_through_credential_process(self):
        state = self.state("cli")
        run = vendo("client", "register", "--endpoint", self.endpoint, "--app", "sensors",
                    "--state", state)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(state).st_mode), 0o600)
        with open(state) as f:
            device = json.load(f)["device_id"]
        self.moto.start_recording()
        who = self.aws(state, "sts", "get-caller-identity")
        self.assertIn(":assumed-role/devices/", who["Arn"])
        body = os.path.join(self.dir, "reading.json")
        with open(body, "w") as f:
            f.write('{"celsius": 21.5}\n')
        self.aws(state, "s3api", "put-object", "--bucket", BUCKET, "--key",
                 f"{device}/reading.json", "--body", body)
        # (No '/' in the prefix: moto 5.2 miscomputes the signature of a query holding one,
        # for any caller; checked with boto3 and long-term keys.)
        listed = self.aws(state, "s3api", "list-objects-v2", "--bucket", BUCKET, "--prefix",
                          device)
        self.assertEqual([o["Key"] for o in listed["Contents"]], [f"{device}/reading.json"])
        # Three aws commands, one credential fetch: the rest came from the state file's cache.
        self.assertEqual(len(self.moto.recorded("AssumeRole")), 1)

    def test_identity_login_and_token_formats(self):
        status, body, _ = self.v.request(
            "POST", "/v2/apps/photos/users", body=b'{"username": "dora", "password": "dora-pw-1"}',
            headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201, body)
        state = self.state("dora")
        login = ["client", "login", "--endpoint", self.endpoint, "--app", "photos",
                 "--username", "dora", "--state", state]
        wrong = vendo(*login, stdin="not-her-password\n")
        self.assertEqual(wrong.returncode, 1)
        self.assertIn("invalid_credentials", wrong.stderr)
        self.assertNotIn("not-her-password", wrong.stderr + wrong.stdout)
        self.assertFalse(os.path.exists(state))
        run = vendo(*login, stdin="dora-pw-1\n")
        self.assertEqual(run.returncode, 0, run.stderr)
        with open(state) as f:
            self.assertNotIn("dora-pw-1", f.read())  # the password is never stored
        token = json.loads(vendo("client", "token", "--state", state, check=True).stdout)
        self.assertTrue(token["AccessKeyId"].startswith("ASIA"))
        self.assertEqual(token["Region"], "us-east-1")
        lines = vendo("client", "token", "--state", state, "--format", "env",
                      check=True).stdout.splitlines()
        self.assertIn(f"export AWS_ACCESS_KEY_ID='{token['AccessKeyId']}'", lines)
        self.assertIn(f"export AWS_SESSION_TOKEN='{token['SessionToken']}'", lines)
        process = json.loads(vendo("credential-process", "--state", state, check=True).stdout)
        self.assertEqual(process["Version"], 1)
        self.assertEqual(process["AccessKeyId"], token["AccessKeyId"])  # cached, not re-fetched
        # --refresh asks the server again (which may answer from its own cache).
        refreshed = vendo("credential-process", "--state", state, "--refresh", check=True)
        self.assertEqual(json.loads(refreshed.stdout)["Version"], 1)

    def test_the_2012_protocol(self):
        state = self.state("legacy")
        vendo("client", "register", "--protocol", "2012", "--endpoint", self.endpoint, "--app",
              "sensors", "--state", state, check=True)
        creds = json.loads(vendo("credential-process", "--state", state, check=True).stdout)
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"))
        status, _, _ = self.v.request("POST", "/apps/photos/registeruser",
                                      {"username": "erin", "password": "erin-pw"})
        self.assertEqual(status, 200)
        state = self.state("erin")
        run = vendo("client", "login", "--protocol", "2012", "--endpoint", self.endpoint,
                    "--app", "photos", "--legacy-app-name", "PhotoApp", "--salt-endpoint",
                    "http://127.0.0.1/apps/photos", "--username", "erin", "--state", state,
                    stdin="erin-pw\n")
        self.assertEqual(run.returncode, 0, run.stderr)
        creds = json.loads(vendo("credential-process", "--state", state, check=True).stdout)
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"))

    def test_a_forgotten_device_registers_again_but_a_revoked_one_does_not(self):
        state = self.state("forgotten")
        vendo("client", "register", "--endpoint", self.endpoint, "--app", "sensors", "--state",
              state, check=True)
        with open(state) as f:
            saved = json.load(f)
        first = saved["device_id"]
        saved["device_id"] = "d_" + "0" * 32  # a device the server has never heard of
        saved.pop("credentials", None)
        with open(state, "w") as f:
            json.dump(saved, f)
        vendo("credential-process", "--state", state, check=True)
        with open(state) as f:
            second = json.load(f)["device_id"]
        self.assertNotIn(second, (first, saved["device_id"]))
        vendo("device", "revoke", "--config", self.config, "--app", "sensors", "--uid", second,
              check=True)
        time.sleep(1.2)  # the server's record cache (store.cache_ttl_ms) lets it through
        refused = vendo("credential-process", "--state", state, "--refresh")
        self.assertEqual(refused.returncode, 1)
        self.assertIn("device_revoked", refused.stderr)
        with open(state) as f:
            after = json.load(f)
        self.assertEqual(after["device_id"], second)  # no new registration
        self.assertNotIn("credentials", after)  # and it stopped using what it had

    def test_clear_errors(self):
        missing = vendo("credential-process", "--state", os.path.join(self.dir, "none.json"))
        self.assertEqual(missing.returncode, 1)
        self.assertIn("vendo client register", missing.stderr)
        state = self.state("exposed")
        vendo("client", "register", "--endpoint", self.endpoint, "--app", "sensors", "--state",
              state, check=True)
        os.chmod(state, 0o644)
        exposed = vendo("client", "token", "--state", state)
        self.assertEqual(exposed.returncode, 1)
        self.assertIn("chmod 600", exposed.stderr)
        other = vendo("client", "register", "--endpoint", self.endpoint, "--app", "photos",
                      "--state", state)
        self.assertNotEqual(other.returncode, 0)
        down = vendo("client", "register", "--endpoint", "http://127.0.0.1:9", "--app", "x",
                     "--state", self.state("down"))
        self.assertEqual(down.returncode, 1)
        self.assertIn("127.0.0.1:9", down.stderr)
        self.assertEqual(vendo("client", "token", "--format", "yaml").returncode, 2)


class InstalledLibraryTest(unittest.TestCase):
    def test_find_package_vendo_builds_the_sample_against_the_static_library(self):
        scratch = tempfile.mkdtemp(prefix="vendo-install-")
        self.addCleanup(shutil.rmtree, scratch, True)
        prefix = os.path.join(scratch, "prefix")
        subprocess.run(["cmake", "--install", BUILD, "--component", "client", "--prefix",
                        prefix], check=True, capture_output=True)
        for path in ("include/vendo/client.h", "lib/libvendo-client.a", "lib/libvendo-client.so",
                     "lib/cmake/vendo/vendoConfig.cmake"):
            self.assertTrue(os.path.exists(os.path.join(prefix, path)), path)
        build = os.path.join(scratch, "build")
        env = dict(os.environ, CCACHE_DISABLE="1")
        configure = subprocess.run(
            ["cmake", "-S", os.path.join(REPO, "samples/s3_upload"), "-B", build, "-G", "Ninja",
             f"-DCMAKE_PREFIX_PATH={prefix}", "-DVENDO_SAMPLE_LINK=client_static",
             "-DCMAKE_BUILD_TYPE=Release"], capture_output=True, text=True, env=env)
        self.assertEqual(configure.returncode, 0, configure.stdout + configure.stderr)
        built = subprocess.run(["cmake", "--build", build], capture_output=True, text=True,
                               env=env, timeout=300)
        self.assertEqual(built.returncode, 0, built.stdout + built.stderr)
        sample = os.path.join(build, "vendo-s3-upload")
        linked = subprocess.run(["ldd", sample], capture_output=True, text=True).stdout
        self.assertNotIn("libvendo-client", linked)  # static: nothing to install on the device
        run = subprocess.run([sample, "--help"], capture_output=True, text=True)
        self.assertEqual(run.returncode, 0)
        self.assertIn("usage: vendo-s3-upload", run.stdout)


if __name__ == "__main__":
    unittest.main()
