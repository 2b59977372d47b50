"""`vendo deploy` and `vendo undeploy` against moto's server on 127.0.0.1 (signature checking
on): the stack reaches CREATE_COMPLETE, its outputs hold the URL, nothing it created is left
after undeploy, and the federation user's secret key appears in no output, user data or log.
Also: the template passes cfn-lint with no error or warning.

moto's server runs inside this process (moto.server.ThreadedMotoServer), so the test can read
the secret key moto generated, which no API returns."""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.request

from peers import free_port
from vendo_harness import VENDO

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../..")
TEMPLATE = os.path.join(REPO, "deploy/cloudformation/vendo.yaml")
ACCOUNT = "123456789012"


class DeployTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from moto.server import ThreadedMotoServer
        cls.port = free_port()
        cls.url = f"http://127.0.0.1:{cls.port}"
        cls.server = ThreadedMotoServer(ip_address="127.0.0.1", port=cls.port, verbose=False)
        cls.server.start()
        iam = cls.client("iam")
        iam.create_user(UserName="deployer")
        iam.put_user_policy(UserName="deployer", PolicyName="admin", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="deployer")["AccessKey"]
        cls.key_id, cls.secret = key["AccessKeyId"], key["SecretAccessKey"]
        cls.image = cls.client("ec2").describe_images()["Images"][0]["ImageId"]
        s3 = cls.client("s3")  # the package the hosts download, uploaded as docs/deploy.md says
        s3.create_bucket(Bucket="my-artifacts")
        s3.put_object(Bucket="my-artifacts", Key="vendo_0.1.0_amd64.deb", Body=b"!<arch>\n")
        # From here on, every request must be signed by a known key.
        urllib.request.urlopen(urllib.request.Request(
            cls.url + "/moto-api/reset-auth", data=b"0", method="POST",
            headers={"Content-Type": "text/plain"}), timeout=10).read()
        cls.home = tempfile.mkdtemp(prefix="vendo-deploy-home-")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.home, ignore_errors=True)

    @classmethod
    def client(cls, service, key_id="AKIAIOSFODNN7EXAMPLE", secret="setup"):
        import boto3
        return boto3.client(service, endpoint_url=cls.url, region_name="us-east-1",
                            aws_access_key_id=getattr(cls, "key_id", key_id),
                            aws_secret_access_key=getattr(cls, "secret", secret))

    def vendo(self, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=self.key_id,
                   AWS_SECRET_ACCESS_KEY=self.secret, AWS_EC2_METADATA_DISABLED="true",
                   HOME=self.home)
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
            env.pop(name, None)
        return subprocess.run([VENDO, *args, "--endpoint-url", self.url, "--poll-seconds", "0.1"],
                              capture_output=True, text=True, env=env, timeout=120)

    def snapshot(self):
        """What exists in IAM, EC2 and Secrets Manager, apart from terminated instances."""
        iam, ec2 = self.client("iam"), self.client("ec2")
        return {
            "users": sorted(u["UserName"] for u in iam.list_users()["Users"]),
            "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
            "profiles": sorted(p["InstanceProfileName"]
                               for p in iam.list_instance_profiles()["InstanceProfiles"]),
            "groups": sorted(g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]),
            "instances": sorted(i["InstanceId"] for r in ec2.describe_instances()["Reservations"]
                                for i in r["Instances"] if i["State"]["Name"] != "terminated"),
            "templates": sorted(t["LaunchTemplateId"]
                                for t in ec2.describe_launch_templates()["LaunchTemplates"]),
            "vpcs": sorted(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]),
            "subnets": sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]),
            "secrets": sorted(s["ARN"] for s in
                              self.client("secretsmanager").list_secrets()["SecretList"]),
        }

    def user_data(self, stack):
        """Every user data script the stack's launch templates hold, decoded."""
        ec2 = self.client("ec2")
        scripts = []
        for t in ec2.describe_launch_templates()["LaunchTemplates"]:
            for v in ec2.describe_launch_template_versions(
                    LaunchTemplateId=t["LaunchTemplateId"])["LaunchTemplateVersions"]:
                data = v["LaunchTemplateData"].get("UserData")
                if data:
                    scripts.append(base64.b64decode(data).decode())
        return scripts

    def test_template_passes_cfn_lint(self):
        lint = subprocess.run(["cfn-lint", TEMPLATE], capture_output=True, text=True)
        self.assertEqual((lint.returncode, lint.stdout + lint.stderr), (0, ""))

    def test_every_template_parameter_has_a_flag(self):
        import re
        with open(TEMPLATE) as f:
            text = f.read()
        section = text[text.index("\nParameters:"):text.index("\nConditions:")]
        keys = re.findall(r"(?m)^  (\w+):$", section)
        self.assertIn("InstanceCount", keys)
        usage = subprocess.run([VENDO, "deploy", "--help"], capture_output=True, text=True).stdout
        for key in keys:
            if key == "PolicyDocument":
                self.assertIn("--policy-file", usage)
            self.assertIn(f"({key})", usage, key)

    def test_one_host_with_federation_deploys_and_undeploys(self):
        before = self.snapshot()
        done = self.vendo("deploy", "--stack-name", "tvm-one", "--issuer", "federation",
                          "--data-bucket", "my-app-data", "--artifact-bucket", "my-artifacts",
                          "--image-id", self.image)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("stack tvm-one: CREATE_COMPLETE", done.stdout)
        self.assertIn("TVM URL: http://", done.stdout)
        stack = self.client("cloudformation").describe_stacks(StackName="tvm-one")["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        self.assertTrue(outputs["Url"].startswith("http://"))
        self.assertIn("FederationUserName", outputs)

        # The federation user's secret key: only moto's own state knows it.
        from moto.iam.models import iam_backends
        user = iam_backends[ACCOUNT]["global"].users[outputs["FederationUserName"]]
        secret = user.access_keys[0].secret_access_key
        self.assertTrue(secret)
        status = self.vendo("deploy", "status", "--stack-name", "tvm-one")
        self.assertEqual(status.returncode, 0, status.stderr)
        scripts = self.user_data("tvm-one")
        self.assertTrue(scripts, "the launch template carries the host setup")
        for place, text in (("deploy output", done.stdout + done.stderr),
                            ("status output", status.stdout + status.stderr),
                            ("stack outputs", json.dumps(stack["Outputs"])),
                            ("user data", "\n".join(scripts))):
            self.assertNotIn(secret, text, place)
        self.assertIn("secretsmanager get-secret-value", scripts[0])  # read on the host

        gone = self.vendo("undeploy", "--stack-name", "tvm-one")
        self.assertEqual(gone.returncode, 0, gone.stdout + gone.stderr)
        self.assertNotIn(secret, gone.stdout + gone.stderr)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.vendo("deploy", "status", "--stack-name", "tvm-one").returncode, 1)

    def test_many_hosts_with_assume_role_deploy_update_and_undeploy(self):
        before = self.snapshot()
        policy = os.path.join(self.home, "policy.json")
        with open(policy, "w") as f:
            f.write('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
                    '"Action": "s3:GetObject", "Resource": "arn:aws:s3:::my-app-data/${uid}/*"}]}')
        done = self.vendo("deploy", "--stack-name", "tvm-many", "--issuer", "assume-role",
                          "--instance-count", "3", "--mode", "identity",
                          "--data-bucket", "my-app-data", "--artifact-bucket", "my-artifacts",
                          "--image-id", self.image, "--policy-file", policy)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("stack tvm-many: CREATE_COMPLETE", done.stdout)
        for key in ("Url", "DeviceRoleArn", "DatabaseEndpoint", "AutoScalingGroupName"):
            self.assertIn(f"  {key} ", done.stdout)
        self.assertRegex(done.stdout, r"TVM URL: http://\S+\.elb\.amazonaws\.com")
        # The device role trusts only the hosts' role, and may only use the data bucket.
        iam = self.client("iam")
        role = [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("tvm-many-DeviceRole")][0]
        trust = json.dumps(role["AssumeRolePolicyDocument"])
        self.assertIn("HostRole", trust)
        # Deploying again with nothing changed is a no-op, not an error.
        again = self.vendo("deploy", "--stack-name", "tvm-many")
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)

        gone = self.vendo("undeploy", "--stack-name", "tvm-many")
        self.assertEqual(gone.returncode, 0, gone.stdout + gone.stderr)
        self.assertEqual(self.snapshot(), before)

    def test_the_operators_domain_is_the_url_and_the_identity_endpoint(self):
        before = self.snapshot()
        done = self.vendo("deploy", "--stack-name", "tvm-domain", "--mode", "identity",
                          "--data-bucket", "my-app-data", "--artifact-bucket", "my-artifacts",
                          "--image-id", self.image, "--domain", "tvm.example.com")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("TVM URL: http://tvm.example.com\n", done.stdout)
        scripts = self.user_data("tvm-domain")
        # Identity clients salt with the URL they are given: the app's endpoint is the domain.
        self.assertIn('PUBLIC_URL="http://tvm.example.com"', "\n".join(scripts))
        gone = self.vendo("undeploy", "--stack-name", "tvm-domain")
        self.assertEqual(gone.returncode, 0, gone.stdout + gone.stderr)
        self.assertEqual(self.snapshot(), before)
        bad = self.vendo("deploy", "--stack-name", "tvm-domain", "--data-bucket", "my-app-data",
                         "--artifact-bucket", "my-artifacts", "--domain", "not a domain")
        self.assertEqual(bad.returncode, 2, bad.stdout + bad.stderr)  # before anything exists
        self.assertIn("--domain", bad.stderr)
        self.assertEqual(self.snapshot(), before)

    def test_a_missing_artifact_is_found_before_anything_is_created(self):
        before = self.snapshot()
        for flags, says in ((["--artifact-bucket", "no-such-bucket"], "bucket"),
                            (["--artifact-bucket", "my-artifacts", "--artifact-key", "nope.deb"],
                             "does not exist")):
            done = self.vendo("deploy", "--stack-name", "tvm-noart", "--data-bucket",
                              "my-app-data", "--image-id", self.image, *flags)
            self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
            self.assertIn(says, done.stderr)
            self.assertIn("nothing was created", done.stderr)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.vendo("deploy", "status", "--stack-name", "tvm-noart").returncode, 1)

    def test_a_failing_deploy_says_why(self):
        bad = self.vendo("deploy", "--stack-name", "tvm-bad", "--data-bucket", "my-app-data",
                         "--artifact-bucket", "my-artifacts", "--image-id", self.image,
                         "--certificate-arn",
                         f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/does-not-exist")
        self.assertEqual(bad.returncode, 1)
        self.assertIn("certificate", bad.stderr.lower())
        bad_policy = os.path.join(self.home, "bad.json")
        with open(bad_policy, "w") as f:
            f.write('{"Statement": [')
        usage = self.vendo("deploy", "--stack-name", "tvm-bad", "--policy-file", bad_policy,
                           "--data-bucket", "my-app-data", "--artifact-bucket", "my-artifacts")
        self.assertEqual(usage.returncode, 2, usage.stderr)
        self.assertIn("--policy-file", usage.stderr)
        usage = self.vendo("deploy", "--stack-name", "tvm-bad", "--data-bucket", "b",
                           "--artifact-bucket", "my-artifacts")
        self.assertEqual((usage.returncode, "--data-bucket" in usage.stderr), (2, True))
        self.client("cloudformation")  # the server is still answering


if __name__ == "__main__":
    unittest.main()
