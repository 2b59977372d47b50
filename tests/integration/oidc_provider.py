"""An OpenID Connect provider of the test's own, on 127.0.0.1 over HTTPS (a certificate the
test makes; vendo is given it as the provider's CA file): a discovery document, a JWKS with
Cache-Control, and ID tokens signed by its current keys (RSA and P-256) with joserfc. A test
can rotate the keys, take the provider down (every request then fails), and count requests."""

import http.server
import json
import ssl
import threading
import time

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

import vendo_harness as h


class Provider:
    def __init__(self, directory, max_age=600):
        self.cert, self.key = h.make_cert(directory, "idp")
        self.max_age = max_age
        self.down = False
        self.requests = {"discovery": 0, "jwks": 0}
        self.lock = threading.Lock()
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}),
                     ECKey.generate_key("P-256", parameters={"kid": "ec-1"})]
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if provider.down:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path == "/.well-known/openid-configuration":
                    with provider.lock:
                        provider.requests["discovery"] += 1
                    body = {"issuer": provider.issuer, "jwks_uri": provider.issuer + "/jwks",
                            "id_token_signing_alg_values_supported": ["RS256", "ES256"]}
                    headers = {}
                elif self.path == "/jwks":
                    with provider.lock:
                        provider.requests["jwks"] += 1
                        keys = [k.as_dict(private=False) for k in provider.keys]
                    body = {"keys": keys}
                    headers = {"Cache-Control": f"public, max-age={provider.max_age}"}
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.issuer = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def signing_key(self, kid):
        for k in self.keys:
            if k.kid == kid:
                return k
        raise KeyError(kid)

    def rotate(self):
        """A new RSA key (rsa-2) joins the set, as providers publish the next key beside the
        current one."""
        new = RSAKey.generate_key(2048, parameters={"kid": "rsa-2"})
        with self.lock:
            self.keys = self.keys + [new]
        return new

    def claims(self, sub="alice", aud="photos-client", lifetime=600, iat_offset=0, **extra):
        now = int(time.time())
        c = {"iss": self.issuer, "sub": sub, "aud": aud, "iat": now + iat_offset,
             "exp": now + iat_offset + lifetime}
        c.update(extra)
        return c

    def token(self, claims=None, kid="rsa-1", alg=None, key=None, **kw):
        key = key or self.signing_key(kid)
        alg = alg or ("RS256" if key.key_type == "RSA" else "ES256")
        return jwt.encode({"alg": alg, "kid": kid, "typ": "JWT"}, claims or self.claims(**kw), key)
