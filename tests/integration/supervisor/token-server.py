#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A token service for a docker-registry set up with `auth: token` (tests/integration/supervisor/
21-registry.bats), after the Docker Registry token authentication specification.

GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=...] answers
{"token", "access_token", "expires_in", "issued_at"} with a JWT (RS256) signed by --key, whose
header carries --cert in "x5c" (the registry checks it against its rootcertbundle). Who gets
what:
  - Basic credentials from --user NAME:PASSWORD: every action asked for;
  - wrong credentials: 401 with a registry-style error document;
  - no credentials: "pull" on repositories under "public/", nothing else.
Each request is logged to --log as one line: "user=NAME|- scope=S scope=S ...".
The port it listens on (127.0.0.1, chosen by the kernel) is written to --port-file.
Signing uses the openssl command line: Debian's python3 has no RSA of its own.
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_der_b64(path):
    der = subprocess.run(["openssl", "x509", "-in", path, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return base64.b64encode(der).decode()


def sign(key, data):
    return subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                          input=data, check=True, capture_output=True).stdout


class Handler(BaseHTTPRequestHandler):
    opts = None
    x5c = None

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, doc, headers=()):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def user(self):
        """The authenticated user, None for anonymous, False for wrong credentials."""
        auth = self.headers.get("Authorization")
        if not auth:
            return None
        if not auth.startswith("Basic "):
            return False
        try:
            name, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return False
        want = dict(u.split(":", 1) for u in self.opts.user)
        return name if want.get(name) == password else False

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path != "/token":
            self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "no such path"}]})
            return
        query = urllib.parse.parse_qs(url.query)
        scopes = query.get("scope", [])
        user = self.user()
        with open(self.opts.log, "a") as log:
            log.write("user=%s %s\n" % (user or "-", " ".join("scope=" + s for s in scopes)))
        if user is False:
            self.reply(401, {"errors": [{"code": "UNAUTHORIZED",
                                         "message": "invalid username or password"}]},
                       [("WWW-Authenticate", 'Basic realm="berth-token"')])
            return
        if query.get("service", [""])[0] != self.opts.service:
            self.reply(400, {"errors": [{"code": "DENIED", "message": "unknown service"}]})
            return

        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = [a for a in actions.split(",") if a]
            if user is None:
                wanted = ["pull"] if name.startswith("public/") and "pull" in wanted else []
            access.append({"type": kind, "name": name, "actions": wanted})

        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": self.opts.issuer, "sub": user or "", "aud": self.opts.service,
                  "exp": now + 300, "nbf": now - 10, "iat": now,
                  "jti": b64url(os.urandom(12)), "access": access}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode()))
        token = signing_input + "." + b64url(sign(self.opts.key, signing_input.encode()))
        self.reply(200, {"token": token, "access_token": token, "expires_in": 300,
                         "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--key", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--issuer", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--user", action="append", default=[])
    p.add_argument("--log", required=True)
    p.add_argument("--port-file", required=True)
    opts = p.parse_args()

    Handler.opts = opts
    Handler.x5c = cert_der_b64(opts.cert)
    server = HTTPServer(("127.0.0.1", 0), Handler)
    tmp = opts.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, opts.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
