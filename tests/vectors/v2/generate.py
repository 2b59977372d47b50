#!/usr/bin/env python3
"""Writes the protocol v2 test vectors (docs/protocol-v2.md) from an implementation that is
independent of vendo's C++: Python's hmac and hashlib, and the `cryptography` package for
HKDF and AES-GCM. Deterministic: fixed secrets, nonces and IVs. Run it to regenerate;
the checked-in JSON is what implementations are tested against."""
import base64
import hashlib
import hmac
import json
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HERE = os.path.dirname(os.path.abspath(__file__))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def canonical(method, path, body, timestamp, nonce, device_id):
    return "\n".join(["VENDO-HMAC-SHA256", method, path, hashlib.sha256(body).hexdigest(),
                      timestamp, nonce, device_id])


SECRET = bytes(range(32))
SECRET2 = hashlib.sha256(b"vendo v2 second device").digest()

SIGNING = [
    ("token, empty body", SECRET, "POST", "/v2/apps/photos/token", b"",
     "2026-11-24T08:47:27Z", bytes(range(16)), "d_0123456789ABCDEFGHJKMNPQRS"),
    ("token, sealed", SECRET, "POST", "/v2/apps/photos/token", b'{"seal":true}',
     "2026-11-24T08:47:28Z", bytes(range(16, 32)), "d_0123456789ABCDEFGHJKMNPQRS"),
    ("rotate, other device", SECRET2, "POST", "/v2/apps/field-sensors/devices/self/rotate",
     b"{}", "2027-01-01T00:00:00Z", b"\xff" * 16, "d_ZZZZZZZZZZZZZZZZZZZZZZZZZZ"),
    ("revoke, non-ASCII app path as sent", SECRET2, "DELETE",
     "/v2/apps/caf%C3%A9/devices/self", b"", "2026-11-24T23:59:59Z", b"\x00" * 16,
     "d_ZZZZZZZZZZZZZZZZZZZZZZZZZZ"),
]

CREDENTIALS = {"AccessKeyId": "ASIAIOSFODNN7EXAMPLE",
               "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
               "SessionToken": "FwoGZXIvYXdzEXAMPLETOKEN", "Expiration": "2026-11-24T09:47:27Z",
               "Region": "eu-west-1"}


def main():
    signing = []
    for name, secret, method, path, body, ts, nonce_bytes, device in SIGNING:
        nonce = b64url(nonce_bytes)
        creq = canonical(method, path, body, ts, nonce, device)
        sig = hmac.new(secret, creq.encode(), hashlib.sha256).hexdigest()
        signing.append({
            "name": name, "device_secret": b64url(secret), "device_id": device,
            "method": method, "path": path, "body": body.decode(), "timestamp": ts,
            "nonce": nonce, "canonical_request": creq, "signature": sig,
            "authorization": f"VENDO-HMAC-SHA256 Device={device},Timestamp={ts},"
                             f"Nonce={nonce},Signature={sig}"})
    sealing = []
    for name, secret, device, nonce_bytes, iv in (
            ("first device", SECRET, "d_0123456789ABCDEFGHJKMNPQRS", bytes(range(16, 32)),
             bytes(range(100, 112))),
            ("second device", SECRET2, "d_ZZZZZZZZZZZZZZZZZZZZZZZZZZ", b"\xff" * 16,
             b"\x00" * 12)):
        nonce = b64url(nonce_bytes)
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=nonce_bytes,
                   info=b"vendo-v2-seal\n" + device.encode()).derive(secret)
        plaintext = json.dumps(CREDENTIALS, separators=(",", ":")).encode()
        aad = (device + "\n" + nonce).encode()
        sealed = iv + AESGCM(key).encrypt(iv, plaintext, aad)
        sealing.append({
            "name": name, "device_secret": b64url(secret), "device_id": device, "nonce": nonce,
            "key_hex": key.hex(), "iv_hex": iv.hex(), "aad": aad.decode(),
            "plaintext": plaintext.decode(), "sealed": b64url(sealed)})
    for fname, data in (("signing.json", signing), ("sealing.json", sealing)):
        with open(os.path.join(HERE, fname), "w") as f:
            json.dump(data, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
