#!/usr/bin/python3
"""The HLS origin of interop/live.sh: serves DIR on 127.0.0.1:PORT with CORS and no caching, and appends
`PATH BYTES` to $ORIGIN_LOG for every response, so that the test knows what came from the origin."""

import http.server
import os
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    def end_headers(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def copyfile(self, source, outputfile):
        data = source.read()
        outputfile.write(data)
        with open(os.environ["ORIGIN_LOG"], "a") as log:
            log.write(f"{self.path} {len(data)}\n")

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port, root = int(sys.argv[1]), sys.argv[2]
    handler = lambda *a, **k: Handler(*a, directory=root, **k)  # noqa: E731
    http.server.ThreadingHTTPServer(("127.0.0.1", port), handler).serve_forever()
