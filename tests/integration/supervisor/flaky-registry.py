#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A registry stub that serves one blob and fails on purpose, for the registry client's retry
and resume tests (tests/integration/supervisor/21-registry.bats).

  flaky-registry.py --blob FILE --plan 503,cut,ok --log LOG --port-file PORTFILE

GET /v2/ answers 200; HEAD /v2/<name>/blobs/<digest> answers the blob's size and digest. Each
GET of the blob takes the next step of --plan (then "ok" once the plan is used up):
  ok       the blob, or the range asked for (206 with Content-Range)
  norange  the whole blob with 200, whatever Range says
  cut      200 with the whole length announced, half of it sent, then the connection closed
  503/429/500  that status, with Retry-After: 0 and a registry error document
Every blob GET is logged as "GET range=<Range header or ->  step=<step>".
"""
import argparse
import hashlib
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    blob = b""
    digest = ""
    plan = []
    log_path = ""

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, doc, extra=()):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def is_blob(self):
        return self.path.startswith("/v2/") and self.path.endswith("/blobs/" + self.digest)

    def do_HEAD(self):
        if self.path == "/v2/":
            self.send_json(200, {})
        elif self.is_blob():
            self.send_response(200)
            self.send_header("Content-Length", str(len(self.blob)))
            self.send_header("Docker-Content-Digest", self.digest)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
        else:
            self.send_json(404, {"errors": [{"code": "BLOB_UNKNOWN", "message": "unknown"}]})

    def do_GET(self):
        if self.path == "/v2/":
            self.send_json(200, {})
            return
        if not self.is_blob():
            self.send_json(404, {"errors": [{"code": "BLOB_UNKNOWN", "message": "unknown"}]})
            return
        step = self.plan.pop(0) if self.plan else "ok"
        rng = self.headers.get("Range")
        with open(self.log_path, "a") as log:
            log.write("GET range=%s step=%s\n" % (rng or "-", step))
        if step.isdigit():
            self.send_json(int(step), {"errors": [{"code": "UNAVAILABLE",
                                                   "message": "try again"}]},
                           [("Retry-After", "0")])
            return
        start = 0
        if rng and rng.startswith("bytes=") and step == "ok":
            start = int(rng[6:].split("-")[0])
        body = self.blob[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        if start:
            self.send_header("Content-Range",
                             "bytes %d-%d/%d" % (start, len(self.blob) - 1, len(self.blob)))
        self.end_headers()
        if step == "cut":
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--blob", required=True)
    p.add_argument("--plan", default="")
    p.add_argument("--log", required=True)
    p.add_argument("--port-file", required=True)
    opts = p.parse_args()

    with open(opts.blob, "rb") as f:
        Handler.blob = f.read()
    Handler.digest = "sha256:" + hashlib.sha256(Handler.blob).hexdigest()
    Handler.plan = [s for s in opts.plan.split(",") if s]
    Handler.log_path = opts.log
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(opts.port_file + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(opts.port_file + ".tmp", opts.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
