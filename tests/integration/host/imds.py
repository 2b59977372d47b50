"""An EC2 instance metadata service (IMDSv2) for a test host, on 169.254.169.254:80 inside the
test's network namespace: a session token first (PUT /latest/api/token), then meta-data paths
with that token. Serves what a vendo host reads: its id, MAC, VPC range, addresses, and its
role's credentials. Paths it does not know are 404, as on EC2.

    python3 imds.py CONFIG.json     # {"instance-id": ..., "public-ipv4": ... or null, ...}
"""
import http.server
import json
import secrets
import sys

with open(sys.argv[1]) as f:
    CONFIG = json.load(f)
TOKEN = secrets.token_urlsafe(32)
MAC = "0e:11:22:33:44:55"


def metadata():
    role = CONFIG["role"]
    paths = {
        "instance-id": CONFIG["instance-id"],
        "mac": MAC,
        f"network/interfaces/macs/{MAC}/vpc-ipv4-cidr-block": CONFIG["vpc-cidr"],
        "local-ipv4": CONFIG["local-ipv4"],
        "placement/region": CONFIG["region"],
        "iam/security-credentials/": role,
        f"iam/security-credentials/{role}": json.dumps({
            "Code": "Success", "Type": "AWS-HMAC", "LastUpdated": "2026-01-01T00:00:00Z",
            "AccessKeyId": CONFIG["access-key-id"], "SecretAccessKey": CONFIG["secret-key"],
            "Token": CONFIG["session-token"], "Expiration": "2099-01-01T00:00:00Z"}),
    }
    if CONFIG.get("public-ipv4"):
        paths["public-ipv4"] = CONFIG["public-ipv4"]
    return paths


class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        if self.path != "/latest/api/token" or \
                not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(400)
        self.reply(200, TOKEN.encode())

    def do_GET(self):
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            return self.reply(401)  # IMDSv2 only (the template sets HttpTokens: required)
        prefix = "/latest/meta-data/"
        value = metadata().get(self.path[len(prefix):]) if self.path.startswith(prefix) else None
        if value is None:
            return self.reply(404)
        self.reply(200, value.encode())

    def log_message(self, fmt, *args):
        sys.stderr.write("imds: " + fmt % args + "\n")


http.server.ThreadingHTTPServer(("169.254.169.254", 80), Handler).serve_forever()
