#!/usr/bin/env python3
"""Signs generated requests with botocore's SigV4 signer (the reference implementation) and
prints one JSON object per line: the request, and the Authorization header botocore made.
vendo's signer must produce the same header (src/sts/sigv4_botocore_test.cc). Deterministic:
the cases come from a fixed seed and the clock is pinned."""
import datetime
import json
import random
import sys
import urllib.parse
from unittest import mock

import botocore.auth
import botocore.awsrequest
import botocore.credentials

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 200
rng = random.Random(20151124)
SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~"
ODD = " !$&'()*+,;:=@%/?\u00e9\u4e2d"


class FixedDateTime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return cls(2015, 8, 30, 12, 36, 0)

    @classmethod
    def now(cls, tz=None):
        return cls(2015, 8, 30, 12, 36, 0, tzinfo=tz)


def word(alphabet, lo=1, hi=12):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def case():
    method = rng.choice(["GET", "POST", "PUT", "DELETE"])
    # Dot segments are left to the AWS suite: "/a/." is "/a/" there (RFC 3986), "/a" in botocore.
    segments = []
    while len(segments) < rng.randint(0, 3):
        seg = word(SAFE + ODD)
        if seg not in (".", ".."):
            segments.append(urllib.parse.quote(seg, safe="-_.~"))
    path = "/" + "/".join(segments)
    params = [(word(SAFE + ODD, 1, 6), word(SAFE + ODD, 0, 10)) for _ in range(rng.randint(0, 4))]
    query = "&".join(urllib.parse.quote(k, safe="-_.~") + "=" + urllib.parse.quote(v, safe="-_.~")
                     for k, v in params)
    headers = [("Host", rng.choice(["sts.amazonaws.com", "sts.eu-west-1.amazonaws.com",
                                     "127.0.0.1:9000"]))]
    names = set()
    for _ in range(rng.randint(0, 3)):
        name = "X-Test-" + word(SAFE[:52], 1, 5)
        if name.lower() not in names:  # botocore takes a dict: one value per name
            names.add(name.lower())
            headers.append((name, "  " + word(SAFE + " ", 1, 20) + " "))
    body = word(SAFE + ODD, 0, 60) if method in ("POST", "PUT") else ""
    token = word(SAFE, 40, 80) if rng.random() < 0.5 else ""
    region = rng.choice(["us-east-1", "eu-west-1", "ap-southeast-2"])
    service = rng.choice(["sts", "service", "execute-api"])
    return method, path, query, headers, body, token, region, service


with mock.patch.object(botocore.auth.datetime, "datetime", FixedDateTime):
    for _ in range(COUNT):
        method, path, query, headers, body, token, region, service = case()
        url = "https://" + headers[0][1] + path + ("?" + query if query else "")
        request = botocore.awsrequest.AWSRequest(method=method, url=url, data=body.encode(),
                                                 headers=dict(headers))
        creds = botocore.credentials.Credentials("AKIDEXAMPLE",
                                                 "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                                 token or None)
        botocore.auth.SigV4Auth(creds, service, region).add_auth(request)
        print(json.dumps({"method": method, "path": path, "query": query, "headers": headers,
                          "body": body, "token": token, "region": region, "service": service,
                          "authorization": request.headers["Authorization"]}))
