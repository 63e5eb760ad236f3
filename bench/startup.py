#!/usr/bin/env python3
"""Start-up time and idle memory of `strom-server local` (issue 3 benchmark).

    bench/startup.py STROM_SERVER [--runs N] [--idle-seconds S]

Each run starts the server on a free loopback port with a fresh data directory and measures:
  ready_ms   from just before exec to the ready line on stdout;
  served_ms  from just before exec to the answer of the first request (ApiVersions, the first
             frame the Java client sends), sent as soon as the ready line appeared;
  rss_mb     the server's resident set (VmRSS) after S seconds idle, and its peak (VmHWM).
The server is stopped with SIGTERM. Prints one JSON object: medians and every run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

# ApiVersions v0, request id 0, client "fluss" "0.1.0": the Java client's first frame.
API_VERSIONS = bytes.fromhex("00000016" "03e8" "0000" "00000000" "0a05666c757373" "1205302e312e30")
READY = re.compile(rb"ready on ([0-9.]+):(\d+)")


def status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def read_frame(sock: socket.socket) -> bytes:
    def exactly(n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = sock.recv(n - len(out))
            if not chunk:
                raise RuntimeError("connection closed")
            out += chunk
        return out

    length = int.from_bytes(exactly(4), "big")
    return exactly(length)


def one_run(binary: str, idle_seconds: float) -> dict:
    data = tempfile.mkdtemp(prefix="strom-startup-")
    try:
        t0 = time.monotonic()
        proc = subprocess.Popen([binary, "local", "--host", "127.0.0.1", "--port", "0",
                                 "--data-dir", data, "--log-level", "warn"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = proc.stdout.readline()
        t_ready = time.monotonic()
        m = READY.search(line)
        if not m:
            proc.kill()
            raise RuntimeError(f"no ready line: {line!r}")
        with socket.create_connection((m.group(1).decode(), int(m.group(2))), timeout=10) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(API_VERSIONS)
            frame = read_frame(s)
            t_served = time.monotonic()
            if frame[0] != 0:
                raise RuntimeError("ApiVersions was not answered with success")
        time.sleep(idle_seconds)
        rss_kb = status_kb(proc.pid, "VmRSS")
        hwm_kb = status_kb(proc.pid, "VmHWM")
        proc.terminate()
        proc.wait(timeout=30)
        return {"ready_ms": (t_ready - t0) * 1e3, "served_ms": (t_served - t0) * 1e3,
                "rss_mb": rss_kb / 1024, "hwm_mb": hwm_kb / 1024}
    finally:
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("server")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--idle-seconds", type=float, default=2.0)
    args = parser.parse_args()
    runs = [one_run(os.path.abspath(args.server), args.idle_seconds) for _ in range(args.runs)]
    summary = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    summary["max_ready_ms"] = max(r["ready_ms"] for r in runs)
    summary["max_served_ms"] = max(r["served_ms"] for r in runs)
    print(json.dumps({"median": summary, "runs": runs}))


if __name__ == "__main__":
    main()
