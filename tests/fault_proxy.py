"""A fault-injecting HTTP/1.1 reverse proxy for the S3 integration tests (standard library only).

It listens on 127.0.0.1, forwards every request to an upstream S3 API server (moto, started by
tests/run.sh from tests/aws_server.py) and answers every N-th matching request with a fault
instead of, or in the middle of, the upstream's answer:

- slowdown    503 with the S3 error body <Code>SlowDown</Code>; upstream is not contacted.
- error500    500 with the S3 error body <Code>InternalError</Code>; upstream is not contacted.
- reset       the client's connection is reset (SO_LINGER 0, then close): no answer at all;
              upstream is not contacted.
- short_body  forwarded; the real status and headers (the real Content-Length included) and the
              first half of the body are sent, then the connection is closed. Only applies to an
              answer with a body of at least 2 bytes; any other answer passes through whole and
              the fault is counted as skipped, not injected.
- slow        forwarded (the upstream performs the request), then the proxy waits --slow-seconds
              (2 by default) before answering: a slow answer, not an error.

Usage:
  python tests/fault_proxy.py --upstream http://127.0.0.1:UP --port 0 --every N
         [--seed S] [--faults slowdown,error500,reset,short_body,slow]
         [--only GET,PUT,...] [--path-regex REGEX] [--port-file FILE]
         [--max-faults K] [--slow-seconds SECONDS] [--verbose]

--every N       every N-th matching request is faulted (the N-th, 2N-th, ...), counted over the
                whole proxy, all connections together. 0 disables faults (a plain proxy).
--faults        the kinds to inject (default: all five); without --seed they take turns in the
                order given, with --seed a random.Random(S) picks one for each faulted request.
--only          only requests with these methods can be faulted (default: every method).
--path-regex    only requests whose target (path and query, as sent) matches this regular
                expression (re.search) can be faulted (default: every request).
--max-faults K  fault at most K requests in all, then forward everything (a fault that
                recovers: e.g. --every 1 --max-faults 1 --path-regex KEY faults one request).
--slow-seconds  how long a `slow` answer waits (default 2).
--verbose       log every request (and its status) on stderr.
--port 0        pick a free port. Once listening, the port is written to --port-file (written
                whole, then renamed into place) and `listening on http://127.0.0.1:PORT` is
                printed on stdout.

Every request is counted and forwarded faithfully otherwise: method, target, every header but
the hop-by-hop ones (Host is passed through as the client sent it: SigV4 signs it, and moto
reads path-style addressing from a 127.0.0.1 host either way), the request body streamed
(Content-Length, or Transfer-Encoding: chunked re-sent as plain chunks, without chunk
extensions or trailers, which moto's server rejects; an aws-chunked Content-Encoding is a
body encoding inside the message and passes through untouched), and the
answer's status, headers and body, streamed, Content-Length kept (HEAD, 1xx, 204 and 304 have
no body). Client connections are persistent (HTTP/1.1 keep-alive); a reset or a short body
ends its connection. `Expect: 100-continue` is answered by the proxy itself before it reads
the body, and not forwarded. Each request opens its own upstream connection, so a stale
pooled upstream connection can never fail a request.

One line on stderr for each fault: `fault <kind> <METHOD> <target>` (and `skip short_body ...`
when a short body could not be applied). `GET /__fault_proxy/stats` (never forwarded, never
counted) answers the counters as JSON; the same JSON is printed on stderr at exit (SIGTERM,
SIGINT):
  {"requests": seen, "matching": eligible for a fault, "faults": {kind: injected, ...},
   "skipped": {kind: n, ...}, "upstream_errors": n, "connections": client connections accepted}
"""

import argparse
import http.client
import http.server
import itertools
import json
import os
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse

FAULT_KINDS = ("slowdown", "error500", "reset", "short_body", "slow")
STATS_PATH = "/__fault_proxy/stats"
CHUNK = 64 * 1024
# Headers that describe one hop, not the message: never forwarded as received.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
}

S3_ERRORS = {
    "slowdown": (503, "Service Unavailable", "SlowDown", "Please reduce your request rate."),
    "error500": (
        500,
        "Internal Server Error",
        "InternalError",
        "We encountered an internal error. Please try again.",
    ),
}


class Faults:
    """Which requests get which fault, and the counters. Thread-safe."""

    def __init__(self, every, kinds, seed, methods, path_regex, max_faults=None):
        self.every = every
        self.max_faults = max_faults
        self.decided = 0
        self.kinds = list(kinds)
        self.rng = random.Random(seed) if seed is not None else None
        self.turns = itertools.cycle(self.kinds)
        self.methods = methods
        self.path_regex = re.compile(path_regex) if path_regex is not None else None
        self.lock = threading.Lock()
        self.requests = 0
        self.matching = 0
        self.injected = {kind: 0 for kind in self.kinds}
        self.skipped = {kind: 0 for kind in self.kinds}
        self.upstream_errors = 0
        self.connections = 0

    def connected(self):
        with self.lock:
            self.connections += 1

    def decide(self, method, target):
        """Count one request; the fault it gets, or None."""
        with self.lock:
            self.requests += 1
            if self.methods is not None and method not in self.methods:
                return None
            if self.path_regex is not None and not self.path_regex.search(target):
                return None
            self.matching += 1
            if self.every <= 0 or not self.kinds or self.matching % self.every:
                return None
            if self.max_faults is not None and self.decided >= self.max_faults:
                return None
            self.decided += 1
            return self.rng.choice(self.kinds) if self.rng else next(self.turns)

    def count(self, kind, injected, method, target):
        with self.lock:
            (self.injected if injected else self.skipped)[kind] += 1
        word = "fault" if injected else "skip"
        print(f"{word} {kind} {method} {target}", file=sys.stderr, flush=True)

    def upstream_error(self):
        with self.lock:
            self.upstream_errors += 1

    def snapshot(self):
        with self.lock:
            return {
                "requests": self.requests,
                "matching": self.matching,
                "faults": dict(self.injected),
                "skipped": dict(self.skipped),
                "upstream_errors": self.upstream_errors,
                "connections": self.connections,
            }


class ClientGone(Exception):
    """The client closed or broke its connection: nothing more can be said to it."""


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault-proxy"
    # Set on the class by main().
    upstream = None  # (host, port)
    faults = None
    slow_seconds = 2.0
    verbose = False
    timeout = 300  # an idle keep-alive connection is closed after this long

    def setup(self):
        super().setup()
        self.faults.connected()

    def log_message(self, format, *args):
        if self.verbose:
            super().log_message(format, *args)

    # Every method goes through the same path.
    def do_GET(self):
        self.proxy()

    do_HEAD = do_PUT = do_POST = do_DELETE = do_OPTIONS = do_PATCH = do_GET

    # --- request body ----------------------------------------------------------------------

    def _request_framing(self):
        """('chunked', None), ('length', n) or ('none', 0) for the request body."""
        te = self.headers.get("Transfer-Encoding", "")
        if te and te.strip().lower().split(",")[-1].strip() == "chunked":
            return "chunked", None
        length = self.headers.get("Content-Length")
        if length is not None:
            try:
                return "length", int(length)
            except ValueError:
                pass
        return "none", 0

    def _read_line(self):
        line = self.rfile.readline(65537)
        if not line:
            raise ClientGone("client closed mid-body")
        return line

    def _body_pieces(self):
        """The request body, in pieces ready to send upstream. A chunked body is re-framed as
        plain chunks: chunk extensions and trailers are dropped, since moto's server (werkzeug's
        dev server) fails a request whose chunk size line has an extension or which ends with
        trailers ("Invalid chunk header", a 500)."""
        framing, length = self._request_framing()
        if framing == "length":
            left = length
            while left > 0:
                piece = self.rfile.read(min(CHUNK, left))
                if not piece:
                    raise ClientGone("client closed mid-body")
                left -= len(piece)
                yield piece
        elif framing == "chunked":
            while True:
                line = self._read_line()
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise ClientGone(f"bad chunk size line {line[:40]!r}") from None
                if size == 0:
                    while self._read_line() not in (b"\r\n", b"\n"):
                        pass  # trailers, dropped
                    yield b"0\r\n\r\n"
                    return
                yield b"%x\r\n" % size
                left = size
                while left > 0:
                    piece = self.rfile.read(min(CHUNK, left))
                    if not piece:
                        raise ClientGone("client closed mid-body")
                    left -= len(piece)
                    yield piece
                if self._read_line().strip():
                    raise ClientGone("chunk data not followed by CRLF")
                yield b"\r\n"

    def _drain_body(self):
        for _ in self._body_pieces():
            pass

    # --- answers -----------------------------------------------------------------------------

    def _send_head(self, status, reason, headers):
        self.log_request(status)
        self.send_response_only(status, reason)
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def _write(self, data):
        try:
            self.wfile.write(data)
        except OSError as err:
            raise ClientGone(str(err)) from err

    def _send_simple(self, status, reason, body, content_type):
        self._send_head(
            status,
            reason,
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("Date", self.date_time_string()),
                ("x-amz-request-id", "FAULTPROXY"),
            ],
        )
        if self.command != "HEAD":
            self._write(body)

    def _send_s3_error(self, kind):
        status, reason, code, message = S3_ERRORS[kind]
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            "<RequestId>FAULTPROXY</RequestId></Error>"
        ).encode()
        self._send_simple(status, reason, body, "application/xml")

    def _reset(self):
        """Abort the client's connection: RST, not FIN, and no answer."""
        self.close_connection = True
        conn = self.connection
        try:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        # rfile holds a reference to the socket (makefile): close it first so that the close
        # below is the real one, sending the RST now.
        try:
            self.rfile.close()
        except OSError:
            pass
        conn.close()

    # --- the proxy -------------------------------------------------------------------------

    def proxy(self):
        target = self.path
        if self.command == "GET" and urllib.parse.urlsplit(target).path == STATS_PATH:
            self._drain_body()
            body = (json.dumps(self.faults.snapshot()) + "\n").encode()
            self._send_simple(200, "OK", body, "application/json")
            return
        fault = self.faults.decide(self.command, target)
        try:
            if fault in ("slowdown", "error500"):
                self._drain_body()
                self.faults.count(fault, True, self.command, target)
                self._send_s3_error(fault)
            elif fault == "reset":
                self.faults.count(fault, True, self.command, target)
                self._reset()
            else:
                self._forward(target, fault)
        except ClientGone:
            self.close_connection = True

    def _forward(self, target, fault):
        host, port = self.upstream
        upstream = http.client.HTTPConnection(host, port, timeout=300)
        try:
            try:
                response = self._upstream_request(upstream, target)
            except ClientGone:
                raise
            except (OSError, http.client.HTTPException) as err:
                self.faults.upstream_error()
                print(
                    f"upstream error {self.command} {target}: {err!r}",
                    file=sys.stderr,
                    flush=True,
                )
                self.close_connection = True
                self._send_simple(
                    502,
                    "Bad Gateway",
                    f"fault_proxy: upstream error: {err!r}\n".encode(),
                    "text/plain",
                )
                return
            if fault == "slow":
                self.faults.count(fault, True, self.command, target)
                time.sleep(self.slow_seconds)
            try:
                self._relay(response, target, fault == "short_body")
            except ClientGone:
                raise
            except (OSError, http.client.HTTPException) as err:
                # The upstream broke off mid-answer, after the status line went out: the client
                # sees its answer cut short, as it would from the upstream itself.
                self.faults.upstream_error()
                print(
                    f"upstream error mid-answer {self.command} {target}: {err!r}",
                    file=sys.stderr,
                    flush=True,
                )
                self.close_connection = True
        finally:
            upstream.close()

    def _upstream_request(self, upstream, target):
        framing, length = self._request_framing()
        upstream.putrequest(self.command, target, skip_host=True, skip_accept_encoding=True)
        for name, value in self.headers.items():
            if name.lower() in HOP_BY_HOP:
                continue
            if framing == "chunked" and name.lower() == "content-length":
                continue
            upstream.putheader(name, value)
        if "host" not in self.headers:
            upstream.putheader("Host", f"{self.upstream[0]}:{self.upstream[1]}")
        if framing == "chunked":
            upstream.putheader("Transfer-Encoding", "chunked")
        upstream.endheaders()
        for piece in self._body_pieces():
            upstream.send(piece)
        return upstream.getresponse()

    def _relay(self, response, target, short_body):
        status = response.status
        bodyless = self.command == "HEAD" or status < 200 or status in (204, 304)
        headers = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
        length = response.getheader("Content-Length")
        try:
            length = int(length) if length is not None else None
        except ValueError:
            length = None
        if response.getheader("Transfer-Encoding"):
            length = None  # chunked from upstream: http.client decodes it; length unknown
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]

        if short_body:
            if bodyless:
                body = None
            elif length is None:
                body = response.read()  # unknown length: read it all to know it
            else:
                body = None
            size = len(body) if body is not None else (0 if bodyless else length)
            if not bodyless and size >= 2:
                self.faults.count("short_body", True, self.command, target)
                self.close_connection = True
                if body is not None:
                    headers.append(("Content-Length", str(size)))
                # The real status and headers, the real length, but no Connection: close (the
                # connection just ends after half the body).
                self.log_request(status, size)
                self.send_response_only(status, response.reason)
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                half = size // 2
                if body is not None:
                    self._write(body[:half])
                else:
                    left = half
                    while left > 0:
                        piece = response.read(min(CHUNK, left))
                        if not piece:
                            break
                        left -= len(piece)
                        self._write(piece)
                return
            self.faults.count("short_body", False, self.command, target)
            if body is not None:
                # Already read whole: pass it through with its length.
                headers.append(("Content-Length", str(len(body))))
                self._send_head(status, response.reason, headers)
                self._write(body)
                return

        if bodyless:
            self._send_head(status, response.reason, headers)
            return
        if length is not None:
            self._send_head(status, response.reason, headers)
            left = length
            while left > 0:
                piece = response.read(min(CHUNK, left))
                if not piece:
                    # Upstream cut its own body short: cut ours too.
                    self.close_connection = True
                    return
                left -= len(piece)
                self._write(piece)
            return
        # Unknown length: chunked to an HTTP/1.1 client, close-delimited otherwise.
        if self.request_version == "HTTP/1.1":
            headers.append(("Transfer-Encoding", "chunked"))
            self._send_head(status, response.reason, headers)
            while True:
                piece = response.read1(CHUNK)
                if not piece:
                    break
                self._write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self._write(b"0\r\n\r\n")
        else:
            self.close_connection = True
            self._send_head(status, response.reason, headers)
            while True:
                piece = response.read1(CHUNK)
                if not piece:
                    break
                self._write(piece)


class ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that went away mid-answer is not news; anything else is.
        err = sys.exc_info()[1]
        if isinstance(err, (ConnectionError, ClientGone, TimeoutError)):
            return
        super().handle_error(request, client_address)


def parse_list(text, allowed=None, upper=False):
    items = [part.strip() for part in text.split(",") if part.strip()]
    if upper:
        items = [item.upper() for item in items]
    if allowed is not None:
        unknown = [item for item in items if item not in allowed]
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown fault kind(s) {', '.join(unknown)}; known: {', '.join(allowed)}"
            )
    return items


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Fault-injecting HTTP/1.1 reverse proxy for S3 tests (see the module doc)."
    )
    parser.add_argument("--upstream", required=True, help="http://HOST:PORT of the S3 server")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    parser.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    parser.add_argument("--every", type=int, required=True, help="fault every N-th match")
    parser.add_argument("--seed", type=int, default=None, help="random choice of fault kind")
    parser.add_argument(
        "--faults",
        type=lambda text: parse_list(text, FAULT_KINDS),
        default=list(FAULT_KINDS),
        help="comma-separated: " + ",".join(FAULT_KINDS),
    )
    parser.add_argument(
        "--only",
        type=lambda text: parse_list(text, upper=True),
        default=None,
        help="comma-separated methods that can be faulted (default: all)",
    )
    parser.add_argument("--path-regex", default=None, help="targets that can be faulted")
    parser.add_argument(
        "--max-faults",
        type=int,
        default=None,
        help="stop faulting after this many faulted requests (skipped short bodies count)",
    )
    parser.add_argument("--port-file", default=None, help="write the port here when ready")
    parser.add_argument("--slow-seconds", type=float, default=2.0)
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = parser.parse_args(argv)

    upstream = urllib.parse.urlsplit(args.upstream)
    if upstream.scheme != "http" or not upstream.hostname:
        parser.error("--upstream must be http://HOST:PORT")
    if args.path_regex is not None:
        try:
            re.compile(args.path_regex)
        except re.error as err:
            parser.error(f"--path-regex: {err}")

    ProxyHandler.upstream = (upstream.hostname, upstream.port or 80)
    ProxyHandler.faults = Faults(
        args.every,
        args.faults,
        args.seed,
        set(args.only) if args.only is not None else None,
        args.path_regex,
        args.max_faults,
    )
    ProxyHandler.slow_seconds = args.slow_seconds
    ProxyHandler.verbose = args.verbose

    server = ProxyServer((args.host, args.port), ProxyHandler)
    port = server.server_address[1]

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    serving.daemon = True
    serving.start()

    if args.port_file:
        partial = f"{args.port_file}.{os.getpid()}.tmp"
        with open(partial, "w") as out:
            out.write(f"{port}\n")
        os.replace(partial, args.port_file)
    print(f"listening on http://{args.host}:{port}", flush=True)

    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    print(json.dumps(ProxyHandler.faults.snapshot()), file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
