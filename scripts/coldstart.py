"""Cold start and warm time of Lambda bootstraps under a Runtime API stand-in.

Issue 17 item 3. Each bootstrap is started as Lambda starts it (a fresh
process, `AWS_LAMBDA_RUNTIME_API` pointing at this script's loopback server)
and fed one sample event, `1 + warm` times:

- init: from the process's start to its first `GET .../invocation/next`
  (exec, dynamic linking, the runtime, configuration, SDK clients and, for
  tobira's functions, priming);
- first: the first invocation, from handing the event out to receiving the
  answer (what the first user after a cold start waits for, minus the network);
- warm: every later invocation, the same span (p50 and p90 over `warm`);
- rss: the process's peak resident memory (KiB: VmHWM of /proc/<pid>/status
  just before it is stopped; wait4's figure would include the Python image
  the child had before exec).

Runs are interleaved (every bootstrap once, then all again, `cold` times)
so that the machine's noise falls on all of them alike; the figures are
medians over the cold starts. The stand-in's own HTTP overhead is in every
span, the floor's included: compare a function with the floor, not with 0.

Usage: python coldstart.py --cold 7 --warm 200 --json OUT < RUNS
where each line of RUNS is `name<TAB>bootstrap<TAB>event file<TAB>KEY=VALUE ...`
(the environment beyond the Lambda variables this script sets).
"""

import argparse
import json
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


class Run:
    """One cold start: the events to hand out and what was measured."""

    def __init__(self, event: bytes, count: int):
        self.event = event
        self.left = count
        self.started = 0
        self.init_ns = None
        self.sent_ns = 0
        self.spans = []
        self.errors = []
        self.done = threading.Event()
        self.lock = threading.Lock()


def make_handler(run: Run):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            # Headers and body leave as two writes: without this, Nagle's
            # algorithm holds the body until the runtime's delayed ACK
            # (40 ms on Linux), and every span would measure that.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *_):
            pass

        def _reply(self, status, body=b"", headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def do_GET(self):
            if not self.path.endswith("/invocation/next"):
                return self._reply(404)
            now = time.perf_counter_ns()
            with run.lock:
                if run.init_ns is None:
                    run.init_ns = now - run.started
                last = run.left == 0
                run.left -= 1
            if last:
                run.done.set()
                time.sleep(3600)  # the process is killed while it waits
                return
            headers = [
                ("Lambda-Runtime-Aws-Request-Id", f"req-{run.left}"),
                ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000)),
                ("Lambda-Runtime-Invoked-Function-Arn",
                 "arn:aws:lambda:us-east-1:123456789012:function:coldstart"),
                ("Content-Type", "application/json"),
            ]
            run.sent_ns = time.perf_counter_ns()
            self._reply(200, run.event, headers)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            now = time.perf_counter_ns()
            if self.path.endswith("/response"):
                run.spans.append(now - run.sent_ns)
            else:
                run.errors.append(f"{self.path}: {body[:300]!r}")
                if "/init/error" in self.path:
                    run.done.set()
            self._reply(202)

    return Handler


LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "coldstart",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_LOG_STREAM_NAME": "coldstart",
    "AWS_LAMBDA_LOG_GROUP_NAME": "coldstart",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_EC2_METADATA_DISABLED": "true",
    "PATH": "/usr/bin:/bin",
}


def peak_rss_kib(pid):
    """VmHWM, or None once the process has exited (a zombie has none)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cold_start(bootstrap, event, extra_env, warm):
    run = Run(event, 1 + warm)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(run))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(LAMBDA_ENV)
    env.update(extra_env)
    env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{server.server_address[1]}"
    run.started = time.perf_counter_ns()
    # The logs go to a file: a pipe nobody reads would fill and stop the process.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([bootstrap], env=env, stdout=log, stderr=log)
        # Until the run is done, the process died (a configuration error
        # before its first /next), or two minutes passed.
        deadline = time.monotonic() + 120
        while not run.done.wait(0.05):
            if proc.poll() is not None or time.monotonic() > deadline:
                break
        finished = run.done.is_set()
        rss_kib = peak_rss_kib(proc.pid)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        log.seek(0)
        stderr = log.read().decode(errors="replace")
    server.shutdown()
    server.server_close()
    if not finished or run.errors or len(run.spans) != 1 + warm or rss_kib is None:
        raise SystemExit(f"{bootstrap}: no complete run; errors {run.errors}; "
                         f"stderr:\n{stderr[-2000:]}")
    warm_spans = sorted(run.spans[1:])
    return {
        "init_ms": run.init_ns / 1e6,
        "first_ms": run.spans[0] / 1e6,
        "warm_p50_ms": warm_spans[len(warm_spans) // 2] / 1e6,
        "warm_p90_ms": warm_spans[(len(warm_spans) * 9) // 10] / 1e6,
        "rss_kib": rss_kib,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cold", type=int, default=7)
    ap.add_argument("--warm", type=int, default=200)
    ap.add_argument("--json")
    args = ap.parse_args()
    runs = []
    for line in sys.stdin:
        if not line.strip() or line.startswith("#"):
            continue
        name, bootstrap, event_file, *env = line.rstrip("\n").split("\t")
        env = dict(kv.split("=", 1) for kv in " ".join(env).split() if kv)
        with open(event_file, "rb") as f:
            runs.append((name, bootstrap, f.read(), env))
    results = {name: [] for name, *_ in runs}
    for _ in range(args.cold):
        for name, bootstrap, event, env in runs:
            results[name].append(cold_start(bootstrap, event, env, args.warm))
    table = {}
    for name, samples in results.items():
        table[name] = {
            k: statistics.median(s[k] for s in samples) for k in samples[0]
        }
        table[name]["init_min_ms"] = min(s["init_ms"] for s in samples)
    fmt = "{:<28} {:>9} {:>9} {:>9} {:>10} {:>10} {:>9}"
    print(fmt.format("run", "init min", "init ms", "first ms", "warm p50", "warm p90",
                     "rss MiB"))
    for name, r in table.items():
        print(fmt.format(name, f"{r['init_min_ms']:.2f}", f"{r['init_ms']:.2f}",
                         f"{r['first_ms']:.2f}",
                         f"{r['warm_p50_ms']:.3f}", f"{r['warm_p90_ms']:.3f}",
                         f"{r['rss_kib'] / 1024:.1f}"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cold": args.cold, "warm": args.warm, "runs": table}, f, indent=2)


if __name__ == "__main__":
    main()
