#!/usr/bin/env python3
"""A bounded soak of `isola serve` with the jail on (loopback only).

Clients keep requests in flight against one parent worker: fresh dynamic
workers (`/fresh`), dynamic workers that hit their CPU limit (`/limit`),
and plain parent responses (`/plain`). Meanwhile the soak kills a worker
process of the agents' cordon with SIGKILL every few seconds, picked from
`/__isola/status`. It checks, at the end:

- no request hung (each has a 10 s client timeout);
- every failure is explained: a `/limit` request (a 500 by design), a
  request in flight in a process the soak killed (at most as many as were
  in flight at each kill), or one refused while the agents' cordon backs
  off after its third crash within 10 s (the server logs each such
  refusal: "keep crashing"); nothing else fails;
- the server never went away (`/__isola/healthz` answers throughout);
- the supervisor's RSS is flat: after warm-up it grows by less than 10%
  plus 8 MiB over the run;
- the killed processes were replaced (`restarts` in the status).

    python3 bench/soak/run.py [--seconds 180] [--clients 8]

ISOLA_BIN picks the binary (default target/release/isola).
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PARENT = """
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/plain") return new Response("plain");
    const spin = path === "/limit";
    const child = env.AGENTS.load({
      compatibilityDate: "2026-03-01",
      mainModule: "agent.js",
      modules: { "agent.js": spin
        ? "export default { fetch() { for (;;) {} } }"
        : "export default { fetch() { return new Response('fresh ' + (1 + 1)) } }" },
    });
    return child.getEntrypoint().fetch("http://agent/");
  }
};
"""

CONFIG = """name = "soak"
main = "index.js"
compatibility_date = "2026-03-01"
[limits]
cpu_ms = 50
[[worker_loaders]]
binding = "AGENTS"
cordon = "agents"
[isola]
threads = 2
"""


def get(port, path, timeout=10):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--kill-every", type=float, default=3.0)
    args = parser.parse_args()
    binary = os.environ.get("ISOLA_BIN", str(ROOT / "target/release/isola"))
    work = Path(tempfile.mkdtemp(prefix="isola-soak-"))
    (work / "wrangler.toml").write_text(CONFIG)
    (work / "index.js").write_text(PARENT)
    port = 20000 + os.getpid() % 20000
    log = open(work / "server.log", "w")
    server = subprocess.Popen([binary, "serve", "--config", str(work / "wrangler.toml"),
                               "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=log)
    try:
        for _ in range(200):
            try:
                if get(port, "/__isola/healthz", 1)[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit("the server did not start: " + (work / "server.log").read_text())
        return soak(port, server, args, work / "server.log")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def soak(port, server, args, log_path):
    lock = threading.Lock()
    counts = {"ok": 0, "limit": 0, "failed": 0, "hung": 0}
    unexplained = []
    in_flight = {"fresh": 0}
    stop = time.monotonic() + args.seconds

    def client(seed):
        rng = random.Random(seed)
        while time.monotonic() < stop:
            path = rng.choice(["/fresh"] * 6 + ["/plain"] * 3 + ["/limit"])
            if path == "/fresh":
                with lock:
                    in_flight["fresh"] += 1
            try:
                status, body = get(port, path)
            except (TimeoutError, OSError) as e:
                status, body = None, repr(e)
            finally:
                if path == "/fresh":
                    with lock:
                        in_flight["fresh"] -= 1
            with lock:
                if status is None and "timed out" in body:
                    counts["hung"] += 1
                    unexplained.append((path, body))
                elif path == "/limit":
                    counts["limit" if status == 500 else "failed"] += 1
                    if status != 500:
                        unexplained.append((path, status, body))
                elif status == 200 and body in ("plain", "fresh 2"):
                    counts["ok"] += 1
                else:
                    counts["failed"] += 1
                    unexplained.append((path, status, body))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    rss = []
    kills, killed_in_flight = 0, 0
    next_kill = time.monotonic() + args.kill_every
    warm = time.monotonic() + min(10.0, args.seconds / 4)
    while time.monotonic() < stop:
        time.sleep(0.2)
        assert server.poll() is None, "the server exited"
        if time.monotonic() >= warm:
            rss.append(rss_kib(server.pid))
        if time.monotonic() >= next_kill:
            status = json.loads(get(port, "/__isola/status")[1])
            agents = [c for c in status["cordons"] if c["name"] == "agents"]
            pids = agents[0]["pids"] if agents else []
            if pids:
                with lock:
                    killed_in_flight += in_flight["fresh"] + args.clients
                os.kill(random.choice(pids), signal.SIGKILL)
                kills += 1
            next_kill = time.monotonic() + args.kill_every
    for t in threads:
        t.join()
    # The supervisor looks at idle processes every 200 ms.
    time.sleep(1)
    status = json.loads(get(port, "/__isola/status")[1])
    restarts = sum(c["restarts"] for c in status["cordons"] if c["name"] == "agents")
    health = get(port, "/__isola/healthz")[0]
    grew = (rss[-1] - rss[0]) if len(rss) > 1 else 0
    # Calls that arrive while a cordon backs off from repeated crashes are
    # refused at once, by design (the server says why in its log).
    backoff = sum(1 for line in open(log_path, errors="replace")
                  if "/fresh" in line and "keep crashing" in line)
    print(json.dumps({"seconds": args.seconds, "clients": args.clients, **counts,
                      "refused_in_backoff": backoff, "kills": kills, "restarts": restarts,
                      "supervisor_rss_kib": {"after_warm_up": rss[0] if rss else None,
                                             "end": rss[-1] if rss else None},
                      "unexplained_sample": unexplained[:5]}, indent=1))
    problems = []
    if counts["hung"]:
        problems.append(f"{counts['hung']} requests hung")
    # A kill costs at most the requests in flight in the killed process, and
    # those refused during the back-off it may start.
    if counts["failed"] > killed_in_flight + backoff:
        problems.append(f"{counts['failed']} failures, more than the {killed_in_flight} in flight at kills "
                        f"and the {backoff} refused in back-off")
    if kills and restarts < kills:
        problems.append(f"{kills} kills but {restarts} restarts")
    if health != 200:
        problems.append("the server stopped answering its health check")
    if rss and grew > rss[0] // 10 + 8 * 1024:
        problems.append(f"the supervisor grew by {grew} KiB")
    if counts["ok"] == 0:
        problems.append("nothing succeeded")
    if problems:
        print("SOAK FAILED: " + "; ".join(problems))
        return 1
    print(f"soak ok: {counts['ok']} ok, {counts['limit']} limit hits, {counts['failed']} lost to {kills} kills "
          f"({backoff} of them refused in back-off)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
