"""Load an HTTP endpoint with concurrent keep-alive clients; print the rate, latencies and this process's CPU as JSON.

python -m bench.http_load --url http://127.0.0.1:8000/api/v1/public/notices --clients 16 --seconds 5

Each client holds one HTTP/1.1 connection and sends its next request when
the last answer is read: a closed loop, as ``bench.rpc_load`` does for RPC.
The client is a few lines over a green socket, the same for the gateway and
for the bare nameko baseline, so that neither side pays for a heavier client.
``{client}`` in the body is replaced by the client's number (each client
its own stream: no two conflict). A response that is not the expected status
is counted as an error, never as a served request. ``cpu_share`` is this
process's CPU over the window: near 1.0 the generator, not the server, is
the limit.
"""

from __future__ import annotations

from shared.runtime.process.bootstrap import green

green()

import argparse  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

from bench.load_window import Window  # noqa: E402


def request_bytes(method: str, url: str, headers: list[str], body: str) -> bytes:
    """One keep-alive HTTP/1.1 request, as sent on the wire."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target or '/'} HTTP/1.1", f"Host: {parts.netloc}", "Connection: keep-alive", *headers]
    payload = body.encode()
    if payload:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


class Connection:
    """One client's connection: send a request, read one response (``Content-Length`` framed), return its status."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def exchange(self, request: bytes) -> int:
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._read()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
            elif name.strip().lower() == "transfer-encoding":
                raise RuntimeError(f"a {value.strip()} response: this client reads Content-Length only")
        if length is None:
            raise RuntimeError("a response without Content-Length")
        while len(self.buffer) < length:
            self._read()
        self.buffer = self.buffer[length:]
        return status

    def _read(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    parser.add_argument("--body", default="", help="JSON; {client} becomes the client's number")
    parser.add_argument("--status", type=int, default=200, help="the status every answer must have")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args()
    parts = urlsplit(args.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    completed = errors = 0
    window = Window(args.clients, args.warmup, args.seconds)

    def client(n: int) -> None:
        nonlocal completed, errors
        request = request_bytes(args.method, args.url, args.header, args.body.replace("{client}", str(n)))
        connection = Connection(host, port)
        window.ready()
        try:
            while True:
                started = time.perf_counter()
                if started >= window.end:
                    return
                status = connection.exchange(request)
                finished = time.perf_counter()
                if window.start <= finished <= window.end:
                    if status != args.status:
                        errors += 1
                        continue
                    completed += 1
                    if started >= window.start:
                        latencies.append(finished - started)
        finally:
            connection.close()

    cpu_share = window.run(client)
    report = {
        "latencies": latencies,
        "seconds": args.seconds,
        "rate": completed / args.seconds,
        "errors": errors,
        "cpu_share": round(cpu_share, 3),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
