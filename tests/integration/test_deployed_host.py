"""The deployed host, end to end: `vendo deploy` against moto, then the user data moto stored for
the host run on a Debian 12 root (debootstrap minbase, made by scripts/debian-root.sh) with the
package `make package` built, inside a network namespace whose 169.254.169.254 answers as
EC2's instance metadata and whose AWS is moto. vendo is then running as its unit file says
(User, Group, Environment, ExecStart... read from the unit, by the root's systemctl stand-in),
the 2012 and v2 flows get credentials that moto's STS minted for the --data-bucket bucket, the
stack's wait condition hears SUCCESS only after /readyz answers (or FAILURE naming the step),
and `vendo undeploy` leaves nothing behind.

What moto cannot do, and what the test does in its place (each substitution must happen
exactly as often as expected, so a template change that moves them fails here):
- moto's CloudFormation has no AWS::SecretsManager::Secret: the user data still names the
  secrets by the references moto left unresolved ("${MasterKeySecret}", and "None" for the
  federation secret). The test creates those secrets as the template would (a fresh master
  key; a new access key of the stack's federation user) and writes their ARNs in;
- moto ignores wait conditions (their Ref is "None"): a local recorder's URL goes where the
  presigned handle URL would be;
- moto runs no instances: the instance metadata comes from tests/integration/host/imds.py,
  with the instance id and public address moto gave the host.
The root's `aws` adds --endpoint-url (Debian 12's AWS CLI 2.9 predates AWS_ENDPOINT_URL), and
a unit drop-in sets AWS_ENDPOINT_URL_STS for vendo, as an operator would for a VPC endpoint.
Needs root, iproute2, debootstrap's root (`make debian-root`, which `make test` runs) and the
.deb: it fails, never skips, without them."""
import base64
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from peers import MotoServer, NetNamespace, free_port
from vendo_harness import (VENDO, Vendo, anonymous_token, identity_token, new_device, v2_post,
                           v2_signed_headers)

BUILD = os.environ.get("VENDO_BUILD_DIR") or os.path.join(os.path.dirname(VENDO))
ROOT_CACHE = os.path.join(BUILD, "debian-root")
HOST_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "host")
NET = "10.250.79"          # the /30 of the host's network namespace
REPO_PORT = 8079           # scripts/debian-root.sh wrote this into the root's sources.list
DATA_BUCKET = "e2e-device-data"
ARTIFACT_BUCKET = "e2e-artifacts"


def find_deb():
    debs = sorted(f for f in os.listdir(BUILD) if re.match(r"vendo_.*_amd64\.deb$", f))
    if not debs:
        raise RuntimeError(f"no vendo_*.deb in {BUILD}: run `make package` (make test does)")
    return os.path.join(BUILD, debs[-1])


class Recorder(http.server.ThreadingHTTPServer):
    """The wait condition handle: records every signal a host PUTs."""

    def __init__(self, address):
        self.signals = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PUT(inner):
                body = inner.rfile.read(int(inner.headers.get("Content-Length", 0)))
                self.signals.append(json.loads(body))
                inner.send_response(200)
                inner.send_header("Content-Length", "0")
                inner.end_headers()

            def log_message(inner, *args):
                pass

        super().__init__(address, Handler)


class Repository(http.server.ThreadingHTTPServer):
    """The root's apt repository: the packages scripts/debian-root.sh downloaded."""

    def __init__(self, address, directory):
        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(inner, *args, **kw):
                super().__init__(*args, directory=directory, **kw)

            def log_message(inner, *args):
                pass

        super().__init__(address, Handler)


class RemoteHost(Vendo):
    """The harness's requests, sent to the host in the namespace instead of loopback."""

    def __init__(self, address, port):
        super().__init__(data_dir=tempfile.mkdtemp(prefix="vendo-remote-"))
        self.address, self.port = address, port

    def conn(self):
        import http.client
        return http.client.HTTPConnection(self.address, self.port, timeout=20)


def link_metadata_namespace(host_ns):
    """A second namespace holding 169.254.169.254, linked to the host's: on EC2 the metadata
    service is off the host too, so vendo can listen on 0.0.0.0:80 beside it. Returns its name."""
    name = host_ns.name + "-md"
    here, there = host_ns.host_if[:-1] + "m", host_ns.host_if[:-1] + "d"
    steps = [["ip", "netns", "add", name],
             ["ip", "link", "add", here, "type", "veth", "peer", "name", there],
             ["ip", "link", "set", here, "netns", host_ns.name],
             ["ip", "link", "set", there, "netns", name],
             ["ip", "-n", host_ns.name, "addr", "add", "169.254.0.2/16", "dev", here],
             ["ip", "-n", host_ns.name, "link", "set", here, "up"],
             ["ip", "-n", name, "addr", "add", "169.254.169.254/16", "dev", there],
             ["ip", "-n", name, "link", "set", there, "up"],
             ["ip", "-n", name, "link", "set", "lo", "up"]]
    for step in steps:
        r = subprocess.run(step, capture_output=True, text=True)
        if r.returncode != 0:
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
            raise RuntimeError(f"cannot make the metadata namespace ({' '.join(step)}): "
                               f"{r.stderr.strip()}")
    return name


def serve_in_thread(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


class DeployedHostTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise RuntimeError("the deployed-host test needs root (chroot, network namespaces)")
        cls.deb = find_deb()
        if not os.path.exists(os.path.join(ROOT_CACHE, "ready")):
            raise RuntimeError(f"no Debian root in {ROOT_CACHE}: run `make debian-root` "
                               "(make test does)")
        cls.ns = NetNamespace(net=NET, kind="h")
        try:
            cls.metadata_ns = link_metadata_namespace(cls.ns)
            cls.moto = MotoServer(host=cls.ns.host_addr)
            cls.repo = serve_in_thread(Repository((cls.ns.host_addr, REPO_PORT),
                                                  os.path.join(ROOT_CACHE, "repo")))
            cls.recorder = serve_in_thread(Recorder((cls.ns.host_addr, free_port())))
        except Exception:
            cls.ns.stop()
            raise
        s3 = cls.moto.client("s3")
        s3.create_bucket(Bucket=DATA_BUCKET)
        s3.create_bucket(Bucket=ARTIFACT_BUCKET)
        with open(cls.deb, "rb") as f:
            s3.put_object(Bucket=ARTIFACT_BUCKET, Key=os.path.basename(cls.deb), Body=f.read())
        cls.image = cls.moto.client("ec2").describe_images()["Images"][0]["ImageId"]
        cls.home = tempfile.mkdtemp(prefix="vendo-e2e-home-")

    @classmethod
    def tearDownClass(cls):
        for server in (cls.recorder, cls.repo):
            server.shutdown()
            server.server_close()
        cls.moto.stop()
        subprocess.run(["ip", "netns", "del", cls.metadata_ns], capture_output=True)
        cls.ns.stop()
        shutil.rmtree(cls.home, ignore_errors=True)

    # --- the operator's side ---------------------------------------------------------------

    def vendo(self, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
                   AWS_SECRET_ACCESS_KEY="operator", AWS_EC2_METADATA_DISABLED="true",
                   HOME=self.home)
        env.pop("AWS_SESSION_TOKEN", None)
        env.pop("AWS_PROFILE", None)
        return subprocess.run([VENDO, *args, "--endpoint-url", self.moto.url,
                               "--poll-seconds", "0.1"],
                              capture_output=True, text=True, env=env, timeout=120)

    def snapshot(self):
        """What exists in IAM, EC2, ELBv2, Auto Scaling and Secrets Manager."""
        iam, ec2 = self.moto.client("iam"), self.moto.client("ec2")
        elb, asg = self.moto.client("elbv2"), self.moto.client("autoscaling")
        return {
            "users": sorted(u["UserName"] for u in iam.list_users()["Users"]),
            "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
            "profiles": sorted(p["InstanceProfileName"]
                               for p in iam.list_instance_profiles()["InstanceProfiles"]),
            "policies": sorted(p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]),
            "groups": sorted(g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]),
            "instances": sorted(i["InstanceId"] for r in ec2.describe_instances()["Reservations"]
                                for i in r["Instances"] if i["State"]["Name"] != "terminated"),
            "templates": sorted(t["LaunchTemplateId"]
                                for t in ec2.describe_launch_templates()["LaunchTemplates"]),
            "load_balancers": sorted(b["LoadBalancerArn"]
                                     for b in elb.describe_load_balancers()["LoadBalancers"]),
            "target_groups": sorted(t["TargetGroupArn"]
                                    for t in elb.describe_target_groups()["TargetGroups"]),
            "auto_scaling": sorted(g["AutoScalingGroupName"] for g in
                                   asg.describe_auto_scaling_groups()["AutoScalingGroups"]),
            "secrets": sorted(s["ARN"] for s in
                              self.moto.client("secretsmanager").list_secrets()["SecretList"]),
        }

    def deploy(self, stack, mode, issuer):
        templates = {t["LaunchTemplateId"] for t in
                     self.moto.client("ec2").describe_launch_templates()["LaunchTemplates"]}
        done = self.vendo("deploy", "--stack-name", stack, "--mode", mode, "--issuer", issuer,
                          "--app-name", "E2eApp", "--data-bucket", DATA_BUCKET,
                          "--artifact-bucket", ARTIFACT_BUCKET,
                          "--artifact-key", os.path.basename(self.deb), "--image-id", self.image)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        outputs = dict(re.findall(r"(?m)^  (\w+) +(\S+)$", done.stdout))
        url = re.search(r"TVM URL: (\S+)", done.stdout).group(1)
        ec2 = self.moto.client("ec2")
        (new,) = [t["LaunchTemplateId"] for t in ec2.describe_launch_templates()["LaunchTemplates"]
                  if t["LaunchTemplateId"] not in templates]
        (version,) = ec2.describe_launch_template_versions(
            LaunchTemplateId=new)["LaunchTemplateVersions"]
        script = base64.b64decode(version["LaunchTemplateData"]["UserData"]).decode()
        return outputs, url, script

    def fill_in_what_moto_cannot(self, script, stack, outputs, issuer, master_key):
        """The secrets and the wait handle (see the module's docstring)."""
        sm = self.moto.client("secretsmanager")
        master = sm.create_secret(Name=f"{stack}-master-key", SecretString=master_key)["ARN"]
        self.made_secrets.append(master)
        self.assertEqual(script.count('secret "${MasterKeySecret}"'), 1)
        script = script.replace('secret "${MasterKeySecret}"', f'secret "{master}"')
        if issuer == "federation":
            iam = self.moto.client("iam")
            key = iam.create_access_key(UserName=outputs["FederationUserName"])["AccessKey"]
            self.extra_keys.append((outputs["FederationUserName"], key["AccessKeyId"]))
            fed = sm.create_secret(Name=f"{stack}-federation", SecretString=json.dumps(
                {"AccessKeyId": key["AccessKeyId"],
                 "SecretAccessKey": key["SecretAccessKey"]}))["ARN"]
            self.made_secrets.append(fed)
            self.assertEqual(script.count('secret "None"'), 2)
            script = script.replace('secret "None"', f'secret "{fed}"')
        handle = f"http://{self.recorder.server_address[0]}:{self.recorder.server_address[1]}/h"
        self.assertEqual(script.count("'None' ||"), 1)
        return script.replace("'None' ||", f"'{handle}' ||")

    # --- the host's side -------------------------------------------------------------------

    def make_root(self, stack):
        root = tempfile.mkdtemp(prefix=f"vendo-host-{stack}-", dir=BUILD)
        self.addCleanup(self.remove_root, root)
        subprocess.run(["cp", "-a", os.path.join(ROOT_CACHE, "base", "."), root], check=True)
        os.makedirs(os.path.join(root, "usr/local/sbin"), exist_ok=True)
        shutil.copy(os.path.join(HOST_DIR, "systemctl"), os.path.join(root, "usr/local/sbin"))
        with open(os.path.join(root, "usr/local/bin/aws"), "w") as f:
            f.write("#!/bin/sh\n# This test host's AWS is moto.\n"
                    f'exec /usr/bin/aws --endpoint-url "{self.moto.url}" "$@"\n')
        os.chmod(os.path.join(root, "usr/local/bin/aws"), 0o755)
        dropin = os.path.join(root, "etc/systemd/system/vendo.service.d")
        os.makedirs(dropin)
        with open(os.path.join(dropin, "endpoints.conf"), "w") as f:
            f.write(f"[Service]\nEnvironment=AWS_ENDPOINT_URL_STS={self.moto.url}\n")
        return root

    def start_imds(self, root, instance_id, public_ip):
        config = os.path.join(root, "imds.json")
        with open(config, "w") as f:
            json.dump({"instance-id": instance_id, "public-ipv4": public_ip,
                       "local-ipv4": self.ns.client_addr, "vpc-cidr": "172.31.0.0/16",
                       "region": "us-east-1", "role": "vendo-host",
                       "access-key-id": "ASIAHOSTROLEEXAMPLE", "secret-key": "host-role",
                       "session-token": "host-role-token"}, f)
        log = open(os.path.join(root, "imds.log"), "wb")
        self.addCleanup(log.close)
        imds = subprocess.Popen(["ip", "netns", "exec", self.metadata_ns, "python3",
                                 os.path.join(HOST_DIR, "imds.py"), config],
                                stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(imds.wait, 10)
        self.addCleanup(imds.terminate)
        for _ in range(100):
            probe = self.ns.run(["curl", "-sf", "-X", "PUT", "-H",
                                 "X-aws-ec2-metadata-token-ttl-seconds: 60",
                                 "http://169.254.169.254/latest/api/token"], capture_output=True)
            if probe.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("the instance metadata stand-in did not start")

    def run_user_data(self, root, script):
        """The script, as cloud-init runs it: root, in the host's network, in the root."""
        os.makedirs(os.path.join(root, "var/lib/cloud"), exist_ok=True)
        with open(os.path.join(root, "var/lib/cloud/user-data.sh"), "w") as f:
            f.write(script)
        mounts = ('mount -t proc proc "$1/proc" && mount --rbind /dev "$1/dev" && '
                  'mount -t sysfs sysfs "$1/sys" && exec chroot "$1" /usr/bin/env -i '
                  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin '
                  'HOME=/root LANG=C.UTF-8 /bin/bash /var/lib/cloud/user-data.sh')
        started = time.monotonic()
        with open(os.path.join(root, "user-data.log"), "wb") as log:
            done = subprocess.run(["ip", "netns", "exec", self.ns.name, "unshare", "--mount",
                                   "--propagation", "private", "--", "/bin/sh", "-c", mounts,
                                   "sh", root], stdout=log, stderr=subprocess.STDOUT,
                                  timeout=900)
        with open(os.path.join(root, "user-data.log"), errors="replace") as f:
            output = f.read()
        return done.returncode, output, time.monotonic() - started

    def remove_root(self, root):
        # Stop whatever still runs in the root (vendo), so that its private mounts go too.
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    if os.readlink(f"/proc/{pid}/root").startswith(root):
                        os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
        time.sleep(0.5)
        with open("/proc/mounts") as f:
            if root in f.read():
                raise RuntimeError(f"{root} still has mounts; not removing it")
        shutil.rmtree(root, ignore_errors=True)

    def unit_log(self, root):
        path = os.path.join(root, "var/log/vendo.unit.log")
        if not os.path.exists(path):
            return "(no log)"
        with open(path, errors="replace") as f:
            return f.read()

    # --- the checks ------------------------------------------------------------------------

    def deploy_and_boot(self, stack, mode, issuer, master_key=None):
        self.made_secrets, self.extra_keys = [], []
        outputs, url, script = self.deploy(stack, mode, issuer)
        script = self.fill_in_what_moto_cannot(script, stack, outputs, issuer,
                                               master_key or secrets.token_hex(32))
        instance = self.moto.client("ec2").describe_instances(
            InstanceIds=[outputs["InstanceId"]])["Reservations"][0]["Instances"][0]
        self.assertEqual(url, "http://" + instance["PublicIpAddress"])
        root = self.make_root(stack)
        self.start_imds(root, instance["InstanceId"], instance["PublicIpAddress"])
        self.recorder.signals.clear()
        rc, output, seconds = self.run_user_data(root, script)
        print(f"\n{stack}: user data ran in {seconds:.0f} s (exit {rc})")
        return outputs, url, root, rc, output

    def undeploy(self, stack, before):
        iam = self.moto.client("iam")
        for user, key_id in self.extra_keys:  # before the stack deletes the user
            iam.delete_access_key(UserName=user, AccessKeyId=key_id)
        gone = self.vendo("undeploy", "--stack-name", stack)
        self.assertEqual(gone.returncode, 0, gone.stdout + gone.stderr)
        sm = self.moto.client("secretsmanager")
        for arn in self.made_secrets:  # the stand-ins for the stack's own secrets
            sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
        self.doCleanups()  # the root and the metadata stand-in
        self.assertEqual(self.snapshot(), before)

    def assert_served(self, root, rc, output, url):
        self.assertEqual(rc, 0, output[-3000:] + "\n--- vendo:\n" + self.unit_log(root)[-2000:])
        self.assertEqual([s["Status"] for s in self.recorder.signals], ["SUCCESS"],
                         self.recorder.signals)
        self.assertIn(url, self.recorder.signals[0]["Reason"])
        with open(os.path.join(root, "var/log/systemctl.calls")) as f:
            self.assertIn("restart vendo", f.read())
        # vendo runs as the unit says: as the vendo user, from the unit's ExecStart.
        with open(os.path.join(root, "var/lib/unit-pids/vendo.pid")) as f:
            pid = int(f.read())
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            self.assertEqual(f.read().split(b"\0")[:4],
                             [b"/usr/bin/vendo", b"serve", b"--config", b"/etc/vendo/vendo.toml"])
        with open(f"/proc/{pid}/status") as f:
            uid_line = [l for l in f if l.startswith("Uid:")][0].split()
        with open(os.path.join(root, "etc/passwd")) as f:
            vendo_uid = [l.split(":")[2] for l in f if l.startswith("vendo:")][0]
        self.assertEqual(uid_line[1], vendo_uid)
        return RemoteHost(self.ns.client_addr, 80)

    def v2_token(self, host, device):
        """A v2 token request signed by `device` (a registration's or login's answer)."""
        body = b"{}"
        headers = v2_signed_headers(device["device_id"], device["device_secret"],
                                    "/v2/apps/app/token", body)
        status, token, _ = v2_post(host, "/v2/apps/app/token", body, headers)
        self.assertEqual(status, 200, token)
        return token

    def serves(self, stack, mode, issuer):
        """Deploys, boots the host, runs the 2012 and the v2 flow of `mode` through it, checks
        that moto's STS minted both credentials for the data bucket, and undeploys."""
        before = self.snapshot()
        outputs, url, root, rc, output = self.deploy_and_boot(stack, mode, issuer)
        host = self.assert_served(root, rc, output, url)
        self.moto.start_recording()
        if mode == "anonymous":
            uid, key = new_device()
            status, creds = anonymous_token(host, "", uid, key)
            self.assertEqual(status, 200, creds)
            status, reg, _ = v2_post(host, "/v2/apps/app/devices", b"{}")
            self.assertEqual(status, 201, reg)
            self.v2_token(host, reg)
            prefixes = [uid, reg["device_id"]]
        else:
            # A 2012 identity client is given the stack's URL, and salts with it.
            status, creds = identity_token(host, "", "alice", "secret123", "E2eApp", url)
            self.assertEqual(status, 200, creds)
            signup = json.dumps({"username": "grace", "password": "long enough pw"}).encode()
            self.assertEqual(v2_post(host, "/v2/apps/app/users", signup)[0], 201)
            status, login, _ = v2_post(host, "/v2/apps/app/login", signup)
            self.assertEqual(status, 200, login)
            self.v2_token(host, login)
            prefixes = ["alice", "grace"]
        self.assertTrue(creds["accessKey"] and creds["securityToken"])
        calls = self.moto.recorded("GetFederationToken" if issuer == "federation"
                                   else "AssumeRole")
        self.assertEqual(len(calls), 2)
        for (_, params), prefix in zip(calls, prefixes):
            self.assertIn(f"arn:aws:s3:::{DATA_BUCKET}/{prefix}/*", params["Policy"])
            if issuer == "assume-role":
                self.assertEqual(params["RoleArn"], outputs["DeviceRoleArn"])
        self.undeploy(stack, before)

    def test_anonymous_federation_host_serves_2012_and_v2_devices(self):
        self.serves("e2e-anon-fed", "anonymous", "federation")

    def test_anonymous_assume_role_host_serves_2012_and_v2_devices(self):
        self.serves("e2e-anon-role", "anonymous", "assume-role")

    def test_identity_assume_role_host_serves_2012_and_v2_users(self):
        self.serves("e2e-ident-role", "identity", "assume-role")

    def test_identity_federation_host_serves_2012_and_v2_users(self):
        self.serves("e2e-ident-fed", "identity", "federation")

    def test_a_host_that_cannot_start_vendo_fails_with_the_step(self):
        before = self.snapshot()
        # A master key secret that is not a key: the host must say so, not report success.
        outputs, url, root, rc, output = self.deploy_and_boot(
            "e2e-broken", "anonymous", "assume-role", master_key="not-a-key")
        self.assertNotEqual(rc, 0)
        self.assertEqual([s["Status"] for s in self.recorder.signals], ["FAILURE"],
                         self.recorder.signals)
        reason = self.recorder.signals[0]["Reason"]
        self.assertIn("vendo config check failed", reason)
        self.assertIn("64 hex characters", reason)
        self.assertEqual(self.recorder.signals[0]["UniqueId"], outputs["InstanceId"])
        self.undeploy("e2e-broken", before)


if __name__ == "__main__":
    unittest.main()
