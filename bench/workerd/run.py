#!/usr/bin/env python3
"""isola serve and workerd, side by side, on one parent worker (parent.js).

Starts each runtime on 127.0.0.1 on a free port, drives the same bounded
load with the same client (wrk, one thread, fixed connection count and
duration) for three scenarios, and prints requests/s, p50 and p99 for both
with the ratios isola/workerd:

  baseline   the parent answers alone
  fresh      env.LOADER.load() of the tiny agent + one RPC call
  cached     env.LOADER.get("agent-N", ...) + one RPC call, over N live names

and the memory per cached named worker: VmRSS of the server process (and
of its descendants: isola's jailed worker processes) before
and after making N distinct names live, delta / N (measured right after
startup, before any fresh load has run).

Rounds alternate which runtime goes first (isola, workerd | workerd, isola
| ...); each round starts both servers afresh. Values are medians over
rounds; ratios are medians of the per-round ratios. The machine may be
shared: each run also measures the CPU other processes used meanwhile, and
a round in which that exceeded 15% of a CPU is discarded and repeated.

  bench/workerd/run.py                 # the measurement (builds isola in release)
  bench/workerd/run.py --smoke         # a few seconds: checks that it all starts

Environment: ISOLA_BIN (use this isola binary, do not build), WORKERD_BIN
(use this workerd binary, do not npm install), WORKERD_VERSION (the npm
version installed when WORKERD_BIN is unset).
"""

import argparse
import atexit
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WORKERD_VERSION = os.environ.get("WORKERD_VERSION", "1.20261117.1")
SCENARIOS = ("baseline", "fresh", "cached")
CLK_TCK = os.sysconf("SC_CLK_TCK")
# A round during which other processes used more than this share of a CPU
# in some measured run is discarded and repeated (up to --repeats times).
NOISY = 0.15

RUNNING = []  # servers to stop on any exit


def say(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- tools


def ensure_wrk():
    if not shutil.which("wrk"):
        if os.geteuid() == 0 and shutil.which("apt-get"):
            say("installing wrk (apt-get)")
            install = ["apt-get", "install", "-y", "-qq", "wrk"]
            os.environ.setdefault("DEBIAN_FRONTEND", "noninteractive")
            if subprocess.run(install, stdout=subprocess.DEVNULL).returncode != 0:
                subprocess.run(["apt-get", "update", "-qq"], check=True)
                subprocess.run(install, stdout=subprocess.DEVNULL, check=True)
        else:
            sys.exit("wrk not found: apt-get install -y wrk")
    return shutil.which("wrk")


def ensure_workerd():
    if os.environ.get("WORKERD_BIN"):
        # Servers run from this directory: a relative path must not change meaning.
        return Path(os.environ["WORKERD_BIN"]).resolve()
    binary = HERE / "node_modules/@cloudflare/workerd-linux-64/bin/workerd"
    if not binary.exists():
        say(f"installing workerd@{WORKERD_VERSION} (npm) into {HERE}/node_modules")
        subprocess.run(
            ["npm", "i", "--no-save", "--no-audit", "--no-fund", "--prefix", str(HERE),
             f"workerd@{WORKERD_VERSION}"],
            check=True, stdout=subprocess.DEVNULL)
    return binary


def ensure_isola():
    if os.environ.get("ISOLA_BIN"):
        return Path(os.environ["ISOLA_BIN"]).resolve()
    say("building isola (cargo build --release -p isola-cli)")
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "isola-cli"],
                   cwd=REPO, check=True)
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                          cwd=REPO, check=True, capture_output=True).stdout
    return Path(json.loads(meta)["target_directory"]) / "release" / "isola"


def version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


# ---------------------------------------------------------------- servers


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, runtime, binary, logdir):
        self.runtime = runtime
        self.port = free_port()
        if runtime == "isola":
            self.argv = [str(binary), "serve", "--config", str(HERE / "wrangler.toml"),
                         "--host", "127.0.0.1", "--port", str(self.port)]
        else:
            self.argv = [str(binary), "serve", str(HERE / "config.capnp"), "--experimental",
                         "--socket-addr", f"http=127.0.0.1:{self.port}"]
        self.log = logdir / f"{runtime}.log"
        self.proc = None

    def start(self):
        env = dict(os.environ, ISOLA_LOG=os.environ.get("ISOLA_LOG", "warn"))
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv, cwd=HERE, env=env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT)
        RUNNING.append(self)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"{self.runtime} exited with {self.proc.returncode} at startup; "
                         f"see {self.log}:\n{self.log.read_text()[-2000:]}")
            try:
                if get(self.port, ["/baseline"]) == ["ok"]:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        sys.exit(f"{self.runtime} did not answer within 60 s; see {self.log}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self in RUNNING:
            RUNNING.remove(self)

    def tree(self):
        """The server's pid and its descendants': isola's jailed worker
        processes do the guest work and hold the isolates, so they count."""
        pids, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*"):
                try:
                    todo.extend(int(c) for c in (task / "children").read_text().split())
                except OSError:
                    pass
        return pids

    def rss_kib(self):
        total = 0
        for pid in self.tree():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total

    def cpu_seconds(self):
        # utime + stime of the server and its live descendants (all
        # threads), fields 14 and 15.
        total = 0
        for pid in self.tree():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
        return total / CLK_TCK


def machine_busy_seconds():
    """CPU seconds the whole machine has spent busy (all CPUs, /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / CLK_TCK


def stop_all():
    for server in list(RUNNING):
        server.stop()


def get(port, paths):
    """GETs each path on one keep-alive connection; returns the bodies,
    failing on any status other than 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        bodies = []
        for path in paths:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read().decode()
            if response.status != 200:
                raise RuntimeError(f"GET {path}: {response.status} {body!r}")
            bodies.append(body)
        return bodies
    finally:
        conn.close()


# ---------------------------------------------------------------- load


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def wrk(wrk_bin, server, scenario, seconds, connections, names):
    url = f"http://127.0.0.1:{server.port}"
    argv = [wrk_bin, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if scenario == "cached":
        argv += ["-s", str(HERE / "cached.lua"), url, "--", str(names)]
    else:
        argv.append(f"{url}/{scenario}")
    busy0 = machine_busy_seconds()
    cpu0, client0 = server.cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    cpu1, client1 = server.cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1 = machine_busy_seconds()

    def latency(pct):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        return float(m.group(1)) * UNITS[m.group(2)]

    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    client_cpu = (client1.ru_utime + client1.ru_stime) - (client0.ru_utime + client0.ru_stime)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": latency(50),
        "p99": latency(99),
        "requests": requests,
        "errors": (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0),
        "server_cpu_us": (cpu1 - cpu0) * 1e6 / max(requests, 1),
        "client_cpu": client_cpu / seconds,
        # CPU the rest of the machine used meanwhile (other processes: noise).
        "other_cpu": max(0.0, (busy1 - busy0) - (cpu1 - cpu0) - client_cpu) / seconds,
    }


def memory_per_worker(server, names):
    """KiB of RSS per cached named worker: N names made live, delta / N."""
    time.sleep(0.5)
    before = server.rss_kib()
    bodies = get(server.port, [f"/cached?name={i}" for i in range(names)])
    if set(bodies) != {"2"}:
        raise RuntimeError(f"{server.runtime}: unexpected /cached answers {set(bodies)}")
    time.sleep(1.0)
    after = server.rss_kib()
    return (after - before) / names


def one_round(runtime, binary, args, wrk_bin, logdir):
    server = Server(runtime, binary, logdir)
    server.start()
    try:
        answers = get(server.port, ["/baseline", "/fresh", "/cached?name=warm"])
        if answers != ["ok", "2", "2"]:
            raise RuntimeError(f"{runtime}: unexpected answers {answers}")
        # Warm the parent and the cached path (not the fresh one: its garbage
        # would blur the memory measurement that comes next).
        get(server.port, ["/baseline", "/cached?name=warm"] * args.warm_requests)
        result = {"rss_start_kib": server.rss_kib(),
                  "mem_kib": memory_per_worker(server, args.names)}
        for connections in args.connections:
            for scenario in SCENARIOS:
                if args.warmup:
                    wrk(wrk_bin, server, scenario, args.warmup, connections, args.names)
                r = wrk(wrk_bin, server, scenario, args.duration, connections, args.names)
                result[(scenario, connections)] = r
                say(f"  {runtime:8} {scenario:8} c={connections:<3} {r['rps']:9.0f} req/s  "
                    f"p50 {r['p50']:7.3f} ms  p99 {r['p99']:7.3f} ms  "
                    f"server CPU {r['server_cpu_us']:6.0f} us/req  wrk CPU {r['client_cpu']:.0%}  "
                    f"other CPU {r['other_cpu']:.0%}"
                    + (f"  ERRORS {r['errors']}" if r["errors"] else ""))
        result["rss_end_kib"] = server.rss_kib()
        say(f"  {runtime:8} memory: {result['mem_kib']:.0f} KiB per cached named worker "
            f"(RSS at start {result['rss_start_kib'] / 1024:.0f} MiB, "
            f"at end {result['rss_end_kib'] / 1024:.0f} MiB)")
        return result
    finally:
        server.stop()


# ---------------------------------------------------------------- report


def median(values):
    return statistics.median(values)


def report(rounds, args, versions, repeats):
    out = []
    p = out.append
    p("")
    p(f"command: {' '.join(sys.argv)}")
    p(f"isola {versions['isola']} | {versions['workerd']} | {versions['wrk']}")
    p(f"{os.cpu_count()} CPUs, client on the same machine; wrk -t1, {args.duration} s per run "
      f"after {args.warmup} s of warm-up; {len(rounds)} round(s), order alternating; "
      f"medians over rounds, ratios = median of per-round ratios; "
      f"{repeats} noisy round(s) discarded and repeated")
    p("")
    p("| scenario | conns | isola req/s | isola p50 | isola p99 | workerd req/s | workerd p50 "
      "| workerd p99 | req/s ratio | p50 ratio | p99 ratio | server CPU/req isola, workerd |")
    p("|---|---|---|---|---|---|---|---|---|---|---|---|")
    errors = 0
    ratios = {}
    for connections in args.connections:
        for scenario in SCENARIOS:
            key = (scenario, connections)
            row = {rt: [r[rt][key] for r in rounds] for rt in ("isola", "workerd")}
            errors += sum(x["errors"] for rt in row for x in row[rt])
            med = {rt: {m: median([x[m] for x in row[rt]])
                        for m in ("rps", "p50", "p99", "server_cpu_us")} for rt in row}
            ratio = {m: median([a[m] / b[m] for a, b in zip(row["isola"], row["workerd"])])
                     for m in ("rps", "p50", "p99")}
            ratios[key] = ratio
            p(f"| {scenario} | {connections} | {med['isola']['rps']:,.0f} | "
              f"{med['isola']['p50']:.2f} ms | {med['isola']['p99']:.2f} ms | "
              f"{med['workerd']['rps']:,.0f} | {med['workerd']['p50']:.2f} ms | "
              f"{med['workerd']['p99']:.2f} ms | **{ratio['rps']:.1f}×** | "
              f"**{ratio['p50']:.2f}** | {ratio['p99']:.2f} | "
              f"{med['isola']['server_cpu_us']:.0f} µs, {med['workerd']['server_cpu_us']:.0f} µs |")
    mem = {rt: median([r[rt]["mem_kib"] for r in rounds]) for rt in ("isola", "workerd")}
    mem_ratio = median([r["isola"]["mem_kib"] / r["workerd"]["mem_kib"] for r in rounds])
    p("")
    rss = {rt: (median([r[rt]["rss_start_kib"] for r in rounds]) / 1024,
                median([r[rt]["rss_end_kib"] for r in rounds]) / 1024) for rt in ("isola", "workerd")}
    p(f"| memory per cached named worker (N={args.names}, RSS delta / N) | isola | workerd | ratio |")
    p("|---|---|---|---|")
    p(f"| | {mem['isola']:.0f} KiB | {mem['workerd'] / 1024:.2f} MiB | **{mem_ratio:.2f}** |")
    p(f"| RSS after startup → after the round | {rss['isola'][0]:.0f} → {rss['isola'][1]:.0f} MiB "
      f"| {rss['workerd'][0]:.0f} → {rss['workerd'][1]:.0f} MiB | |")
    p("")
    p("targets (fresh dynamic worker + RPC, per connection count; memory)"
      + (" -- a smoke run, not a measurement:" if args.smoke else ":"))
    for connections in args.connections:
        r = ratios[("fresh", connections)]
        p(f"  c={connections}: req/s {r['rps']:.1f}× (≥ 10×: {'met' if r['rps'] >= 10 else 'MISSED'}), "
          f"p50 {r['p50']:.2f} (≤ 0.20: {'met' if r['p50'] <= 0.2 else 'MISSED'})")
    p(f"  memory per cached named worker {mem_ratio:.2f} (≤ 0.20: "
      f"{'met' if mem_ratio <= 0.2 else 'MISSED'})")
    others = [r[rt][k]["other_cpu"] for r in rounds for rt in ("isola", "workerd")
              for k in r[rt] if isinstance(k, tuple)]
    p(f"other processes on the machine during the measured runs: median "
      f"{median(others):.0%}, max {max(others):.0%} of a CPU"
      + ("  (a noisy machine: rerun when it is quiet)" if max(others) > NOISY else ""))
    if errors:
        p(f"ERRORS: {errors} failed requests (non-2xx or socket errors); the numbers are not valid")
    print("\n".join(out), flush=True)
    return errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds in all: 1 round, 1 s runs, 5 names, no repeats (checks it starts)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=8, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load before each run")
    parser.add_argument("--connections", default="1,16",
                        help="comma-separated connection counts (each scenario runs at each)")
    parser.add_argument("--names", type=int, default=200, help="cached named workers made live")
    parser.add_argument("--warm-requests", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5,
                        help="noisy rounds to discard and repeat at most (see NOISY)")
    args = parser.parse_args()
    if args.smoke:
        args.rounds, args.duration, args.warmup = 1, 1, 0
        args.names, args.warm_requests, args.connections, args.repeats = 5, 5, "2", 0
    args.connections = [int(c) for c in args.connections.split(",")]

    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))

    wrk_bin = ensure_wrk()
    binaries = {"workerd": ensure_workerd(), "isola": ensure_isola()}
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                         capture_output=True, text=True).stdout.strip()
    versions = {"isola": f"{rev} ({binaries['isola']})",
                "workerd": version([str(binaries["workerd"]), "--version"]),
                "wrk": version([wrk_bin, "--version"]).split(" [")[0]}
    logdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"isola-bench-workerd-{os.getpid()}"
    logdir.mkdir(parents=True, exist_ok=True)
    say(f"server logs in {logdir}")

    rounds, repeats = [], 0
    while len(rounds) < args.rounds:
        i = len(rounds)
        order = ("isola", "workerd") if i % 2 == 0 else ("workerd", "isola")
        say(f"round {i + 1}/{args.rounds}: {' then '.join(order)}")
        result = {rt: one_round(rt, binaries[rt], args, wrk_bin, logdir) for rt in order}
        noise = max(r["other_cpu"] for rt in result for k, r in result[rt].items()
                    if isinstance(k, tuple))
        if noise > NOISY and repeats < args.repeats:
            repeats += 1
            say(f"  round discarded: other processes used {noise:.0%} of a CPU during a run "
                f"(repeat {repeats}/{args.repeats})")
            continue
        rounds.append(result)
    return 1 if report(rounds, args, versions, repeats) else 0


if __name__ == "__main__":
    sys.exit(main())
