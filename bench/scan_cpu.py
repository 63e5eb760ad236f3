#!/usr/bin/env python3
"""CPU per GB of a `strom perf scan`, server and client, scan phase only.

bench/issue3_loopback.sh reports the server's CPU over the whole CLI run, which for
`perf scan` includes filling the table. This script starts a fresh `strom-server local`,
runs `strom perf scan ...` against it, samples the server's CPU time (the sum of
/proc/PID/task/*/schedstat, nanoseconds) every few milliseconds, and charges the server the
CPU it used during the last `seconds` of the run: the scan, which ends when the CLI prints
its result. The client's CPU is the CLI's own `client_cpu_seconds` (getrusage over the scan).

  bench/scan_cpu.py SERVER CLI [--runs N] -- perf scan --rows 1000000 [--columns id,c5]

Prints one JSON line per run: the CLI's JSON plus server_scan_cpu_seconds and the CPU
seconds per GB of table scanned (server, client, both), and the load average at the start.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
import time


def server_cpu_ns(pid):
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that just ended
    return total


def run_once(server, cli, args):
    work = tempfile.mkdtemp(prefix="strom-scan-cpu.")
    out_path = os.path.join(work, "out")
    with open(out_path, "w") as out, open(os.path.join(work, "err"), "w") as err:
        srv = subprocess.Popen([server, "local", "--host", "127.0.0.1", "--port", "0",
                                "--data-dir", os.path.join(work, "data"), "--log-level", "warn"],
                               stdout=out, stderr=err)
    try:
        bootstrap = None
        for _ in range(200):
            with open(out_path) as f:
                for line in f:
                    if " ready on " in line:
                        bootstrap = line.split(" ready on ")[1].split()[0]
            if bootstrap:
                break
            time.sleep(0.05)
        if not bootstrap:
            raise SystemExit("server did not start")
        load = os.getloadavg()
        client = subprocess.Popen([cli, "-b", bootstrap, "--format", "json"] + args,
                                  stdout=subprocess.PIPE)
        samples = []
        while client.poll() is None:
            samples.append((time.monotonic(), server_cpu_ns(srv.pid)))
            time.sleep(0.002)
        end = time.monotonic()
        samples.append((end, server_cpu_ns(srv.pid)))
        doc = json.loads(client.stdout.read().decode().strip().splitlines()[-1])
        start = end - doc["seconds"]
        before = next((cpu for t, cpu in reversed(samples) if t <= start), samples[0][1])
        server_cpu = (samples[-1][1] - before) / 1e9
        gb = doc["bytes"] / 1e9
        doc["server_scan_cpu_seconds"] = round(server_cpu, 4)
        doc["server_cpu_s_per_gb"] = round(server_cpu / gb, 4)
        doc["client_cpu_s_per_gb"] = round(doc["client_cpu_seconds"] / gb, 4)
        doc["total_cpu_s_per_gb"] = round((server_cpu + doc["client_cpu_seconds"]) / gb, 4)
        doc["loadavg_1m"] = load[0]
        return doc
    finally:
        srv.terminate()
        srv.wait()
        subprocess.run(["rm", "-rf", work])


def main():
    argv = sys.argv[1:]
    if "--" not in argv or argv.index("--") < 2:
        raise SystemExit(__doc__)
    split = argv.index("--")
    server, cli = argv[0], argv[1]
    opts, args = argv[2:split], argv[split + 1:]
    runs = int(opts[opts.index("--runs") + 1]) if "--runs" in opts else 1
    for _ in range(runs):
        print(json.dumps(run_once(server, cli, args)), flush=True)


if __name__ == "__main__":
    main()
