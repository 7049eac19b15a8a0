"""Load test of the Rust demo against two FastAPI peers, in one run.

Run through bench/compare.sh, which installs wrk and the Python packages and
builds the demo. Settings (environment):

  ROUNDS=5        rounds; each round runs every route on every server, the
                  order of servers and of routes alternating from round to
                  round (A/B/C, C/B/A)
  DURATION=6      seconds per wrk run
  CONNECTIONS=32  wrk connections for the throughput table
  THREADS=1       wrk threads
  RSS_CONNECTIONS=256  connections for the peak-RSS measurement
  STARTS=5        restarts on the existing database for the start-up time
  DEMO_LOG_LEVEL  ROCKET_LOG_LEVEL of the demo (unset: Rocket's default for
                  a release build)
  SERVERS=demo,fastapi,fastapi-sql   which servers to measure
  STORM_CLIENTS=4 clients logging in during the login-storm runs
  RESULTS=bench/results.json  where the throughput table is also written,
                  as JSON, for bench/chart.py

For every run it reads the server's CPU time (utime + stime of the server
process and its children, /proc/PID/stat) before and after and divides by
the number of requests; wrk's own CPU time (this process's cutime + cstime)
tells whether the load generator was the limit.

The login storm: in every round, GET /users/me is measured calm and then
while STORM_CLIENTS other connections log in with the right password as
fast as they can; the report gives the p99 of both and their ratio.
"""

import http.client
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time

from harness import (
    COMMAND, CONNECTIONS, DEMO_LOG_LEVEL, DURATION, LABELS, NCPU, PORTS, ROUNDS, ROUTES,
    RSS_CONNECTIONS, SERVERS, STARTS, STORM_CLIENTS, THREADS, WORK, cpu_seconds, get, log,
    login_script, measure, median, parse_wrk, reset_peak_rss, start, status_kib, stop,
    tokens_for, wrk, wrk_command,
)
from paired import paired_ratios, report_paired

RESULTS = os.environ.get("RESULTS", "bench/results.json")

# ---------------------------------------------------------------- main

def main():
    servers = [s for s in SERVERS if s in PORTS]
    cpu_model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    log("work directory", WORK)

    # Start-up on an existing database: the first start creates and seeds it,
    # then every server is restarted STARTS times, the last one kept running.
    procs, startup = {}, {}
    for name in servers:
        proc, first = start(name)
        stop(proc)
        times = []
        for i in range(STARTS):
            proc, t = start(name)
            times.append(t)
            if i < STARTS - 1:
                stop(proc)
        procs[name], startup[name] = proc, times
        log("%s: first start %.0f ms (new database), then %s ms" %
            (name, first * 1e3, ", ".join("%.0f" % (t * 1e3) for t in times)))

    try:
        toks = {name: tokens_for(name) for name in servers}
        if "demo" in servers:
            conn = http.client.HTTPConnection("127.0.0.1", PORTS["demo"], timeout=10)
            conn.request("POST", "/items", json.dumps({"name": "hammer"}),
                         {"Content-Type": "application/json",
                          "Authorization": "Bearer " + toks["demo"]["valid"]})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status != 201:
                sys.exit("demo: POST /items answered %d" % resp.status)
        # Every route answers what it should before anything is timed.
        for name in servers:
            for label, path, tok, expected in ROUTES:
                status, body = get(PORTS[name], path, toks[name][tok] if tok else None)
                if status != expected:
                    sys.exit("%s %s answered %d, expected %d: %s" %
                             (name, label, status, expected, body[:200]))
        hwm_start = {name: status_kib(procs[name].pid, "VmHWM") for name in servers}

        # Warm-up, then the rounds.
        for name in servers:
            wrk(PORTS[name], "/users/me", toks[name]["valid"], CONNECTIONS, min(2, DURATION))
        results = {}
        for rnd in range(ROUNDS):
            # Servers and routes both alternate their order from round to
            # round, so that neither a server nor a route always comes first.
            order = servers if rnd % 2 == 0 else servers[::-1]
            routes = ROUTES if rnd % 2 == 0 else ROUTES[::-1]
            for label, path, tok, _ in routes:
                for name in order:
                    r = measure(name, procs[name], path, toks[name][tok] if tok else None,
                                CONNECTIONS, DURATION)
                    results.setdefault((name, label), []).append(r)
                    log("round %d %-16s %-32s %9.0f req/s  p99 %7.2f ms  %6.1f us/req  "
                        "wrk %3.0f%%  others %.2f cores%s" %
                        (rnd + 1, name, label, r["rps"], r["p99_ms"], r["cpu_us"],
                         r["wrk_util"] * 100, r["other_cores"],
                         "  SOCKET ERRORS %d" % r["errors"] if r["errors"] else ""))

        # The ratios again, each from back-to-back pairs of short runs.
        pairs = paired_ratios(servers, procs, toks)

        # Peak RSS under read load at RSS_CONNECTIONS, after resetting the
        # peak left by start-up (the demo hashes a dummy password at launch).
        rss = {}
        for name in servers:
            reset_peak_rss(procs[name].pid)
            for path in ("/users/me", "/items"):
                wrk(PORTS[name], path, toks[name]["valid"], RSS_CONNECTIONS, max(3, DURATION // 2))
            rss[name] = {
                "start": hwm_start[name],
                "read": status_kib(procs[name].pid, "VmHWM"),
                "idle": status_kib(procs[name].pid, "VmRSS"),
            }
        # The same after a login flood: argon2 needs 19 MiB per concurrent hash.
        script = login_script()
        for name in servers:
            reset_peak_rss(procs[name].pid)
            wrk(PORTS[name], "/token", None, 16, max(3, DURATION // 2), script=script)
            rss[name]["login"] = status_kib(procs[name].pid, "VmHWM")

        storms = login_storm(servers, procs, toks)
    finally:
        for proc in procs.values():
            stop(proc)
        log_sizes = {name: os.path.getsize("%s/%s.log" % (WORK, name)) for name in servers}
        shutil.rmtree(WORK, ignore_errors=True)
    for name, size in log_sizes.items():
        if size > 1 << 20:
            print("NOTE %s wrote %.0f MiB of log during the run." % (LABELS[name], size / (1 << 20)))

    report(servers, results, startup, rss, cpu_model)
    report_paired(servers, LABELS, pairs)
    print()
    report_storm(servers, storms)
    write_results(servers, results, cpu_model)


def fmt_rps(v):
    return "{:,.0f}".format(v)

def settle(procs, limit=30.0):
    """Waits until no server is still working off a backlog (a login flood
    leaves queued hashes behind), so that calm is calm."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        before = {name: cpu_seconds(proc.pid) for name, proc in procs.items()}
        time.sleep(0.5)
        if all(cpu_seconds(proc.pid) - before[name] < 0.05 for name, proc in procs.items()):
            return
    log("servers still busy after %.0f s; measuring anyway" % limit)


def login_storm(servers, procs, toks):
    """GET /users/me calm, then during a login storm, in every round (the
    server order alternating). Returns {server: [(calm, storm, logins)]}."""
    script = login_script()
    storms = {}
    for rnd in range(ROUNDS):
        order = servers if rnd % 2 == 0 else servers[::-1]
        for name in order:
            port, token = PORTS[name], toks[name]["valid"]
            settle(procs)
            calm = measure(name, procs[name], "/users/me", token, CONNECTIONS, DURATION)
            logins = subprocess.Popen(
                wrk_command(port, "/token", None, STORM_CLIENTS, DURATION + 2, script),
                stdout=subprocess.PIPE, text=True)
            time.sleep(1)  # the storm is under way before the measurement starts
            during = measure(name, procs[name], "/users/me", token, CONNECTIONS, DURATION)
            flood = parse_wrk(logins.communicate()[0])
            storms.setdefault(name, []).append((calm, during, flood))
            log("round %d %-16s /users/me p99 calm %6.2f ms, during %d-way login storm "
                "%6.2f ms (x%.2f); %6.0f vs %6.0f req/s; %.1f logins/s, %d non-2xx" %
                (rnd + 1, name, calm["p99_ms"], STORM_CLIENTS, during["p99_ms"],
                 during["p99_ms"] / calm["p99_ms"], calm["rps"], during["rps"], flood["rps"],
                 flood["non2xx"]))
    return storms


def report_storm(servers, storms):
    def cells(fn):
        return " | ".join(fn(storms[n]) for n in servers)

    def spread(vals, fmt):
        if len(vals) < 2:
            return fmt % vals[0]
        return (fmt + " (" + fmt + "-" + fmt + ")") % (median(vals), min(vals), max(vals))

    print()
    print("Login storm: `GET /users/me` (%d connections) calm, then while %d other "
          "connections log in with the right password; %d rounds, medians (min-max)." %
          (CONNECTIONS, STORM_CLIENTS, ROUNDS))
    print()
    print("| login storm | " + " | ".join(LABELS[n] for n in servers) + " |")
    print("|---|" + "---:|" * len(servers))
    print("| `/users/me` p99 calm, ms | " +
          cells(lambda rs: spread([c["p99_ms"] for c, _, _ in rs], "%.2f")) + " |")
    print("| `/users/me` p99 during the storm, ms | " +
          cells(lambda rs: spread([d["p99_ms"] for _, d, _ in rs], "%.2f")) + " |")
    print("| p99 during ÷ p99 calm (per round) | " +
          cells(lambda rs: spread([d["p99_ms"] / c["p99_ms"] for c, d, _ in rs], "%.2f")) + " |")
    print("| `/users/me` req/s calm | " +
          cells(lambda rs: spread([c["rps"] for c, _, _ in rs], "%.0f")) + " |")
    print("| `/users/me` req/s during the storm | " +
          cells(lambda rs: spread([d["rps"] for _, d, _ in rs], "%.0f")) + " |")
    print("| logins/s during the storm (non-2xx answers) | " +
          cells(lambda rs: "%s (%d)" % (spread([f["rps"] for _, _, f in rs], "%.1f"),
                                        sum(f["non2xx"] for _, _, f in rs))) + " |")


def report(servers, results, startup, rss, cpu_model):
    def med(name, label, key):
        return median([r[key] for r in results[(name, label)]])

    def spread(name, label, key, fmt):
        vals = [r[key] for r in results[(name, label)]]
        if len(vals) < 2:
            return fmt % vals[0]
        return (fmt + " (" + fmt + "-" + fmt + ")") % (median(vals), min(vals), max(vals))

    print()
    print("Machine: %d cores, %s, %s; wrk %s, %d thread(s), %d connections, %d s per run, "
          "%d rounds with the order of servers and routes alternating; medians over rounds (min-max)." %
          (NCPU, cpu_model, platform.platform(terse=True), wrk_version(), THREADS, CONNECTIONS,
           DURATION, ROUNDS))
    print("Demo: release build, Rocket defaults (%d workers)%s; FastAPI peers: uvicorn, "
          "uvloop + httptools, %d workers." %
          (NCPU, ", ROCKET_LOG_LEVEL=" + DEMO_LOG_LEVEL if DEMO_LOG_LEVEL else "", NCPU))
    print("Command: `%s`" % COMMAND)
    print()
    print("| route | server | req/s | p99 ms | server CPU µs/req |")
    print("|---|---|---:|---:|---:|")
    for label, _, _, _ in ROUTES:
        for name in servers:
            print("| `%s` | %s | %s | %s | %s |" % (
                label, LABELS[name],
                spread(name, label, "rps", "%.0f"),
                spread(name, label, "p99_ms", "%.2f"),
                spread(name, label, "cpu_us", "%.1f")))
    print()
    health, me = ROUTES[0][0], ROUTES[1][0]
    print("| ratio | " + " | ".join(LABELS[n] for n in servers) + " |")
    print("|---|" + "---:|" * len(servers))

    def paired(name, num, den, key):
        """Per-round ratios (the two runs of a round are minutes apart at
        most): median (min-max)."""
        vals = [a[key] / b[key] for a, b in zip(results[(name, num)], results[(name, den)])]
        if len(vals) < 2:
            return "%.2f" % vals[0]
        return "%.2f (%.2f-%.2f)" % (median(vals), min(vals), max(vals))

    print("| `/users/me` req/s ÷ `/health` req/s | " +
          " | ".join(paired(n, me, health, "rps") for n in servers) + " |")
    for label, _, tok, status in ROUTES[2:5]:
        print("| CPU/req %s ÷ 200 `/users/me` | " % label.split("(")[1].rstrip(")") +
              " | ".join(paired(n, label, me, "cpu_us") for n in servers) + " |")
    if "demo" in servers:
        print("| demo req/s ÷ this server's req/s, `/users/me` | " +
              " | ".join("%.2f" % (med("demo", me, "rps") / med(n, me, "rps")) for n in servers) +
              " |")
    print()
    print("| memory and start-up | " + " | ".join(LABELS[n] for n in servers) + " |")
    print("|---|" + "---:|" * len(servers))
    mib = lambda kib: "%.1f MiB" % (kib / 1024)
    print("| peak RSS since start (VmHWM, incl. launch) | " +
          " | ".join(mib(rss[n]["start"]) for n in servers) + " |")
    print("| peak RSS under read load, %d connections | " % RSS_CONNECTIONS +
          " | ".join(mib(rss[n]["read"]) for n in servers) + " |")
    print("| peak RSS under a login flood, 16 connections | " +
          " | ".join(mib(rss[n]["login"]) for n in servers) + " |")
    print("| first `/health` after start, existing database (median, max of %d) | " % STARTS +
          " | ".join("%.0f ms, %.0f ms" % (median(startup[n]) * 1e3, max(startup[n]) * 1e3)
                     for n in servers) + " |")
    print()
    if len(servers) > 1:
        print("FastAPI peers: RSS summed over the uvicorn master and its %d workers." % NCPU)

    # Warnings: a saturated load generator, socket errors, a busy machine.
    runs = [r for rs in results.values() for r in rs]
    for (name, label), rs in results.items():
        for r in rs:
            if r["wrk_util"] > 0.9:
                print("WARNING %s %s: wrk used %.0f%% of its %d thread(s); the load generator "
                      "may be the limit" % (name, label, r["wrk_util"] * 100, THREADS))
            if r["errors"]:
                print("WARNING %s %s: %d socket errors" % (name, label, r["errors"]))
    print("wrk used at most %.0f%% of its %d thread(s)." %
          (max(r["wrk_util"] for r in runs) * 100, THREADS))
    others = sorted(r["other_cores"] for r in runs)
    if others[-1] > 0.25:
        print("WARNING other processes on the machine used %.2f cores (median; %.2f-%.2f) "
              "during the runs: req/s and p99 are depressed; CPU µs/req is the steadier "
              "figure." % (median(others), others[0], others[-1]))


def write_results(servers, results, cpu_model):
    """The throughput table as JSON (RESULTS, bench/results.json unless set),
    one object per route and server with the median, min and max over the
    rounds; bench/chart.py draws the speed chart from it."""
    def summary(rs, key):
        vals = [r[key] for r in rs]
        return {"median": round(median(vals), 2), "min": round(min(vals), 2),
                "max": round(max(vals), 2)}

    head = {
        "source": "bench/compare.py, %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "run": "%d cores (%s), %s %s; wrk %s, %d thread(s), %d connections; %d rounds of "
               "%d s per route" % (NCPU, cpu_model, platform.system(),
                                   platform.release().split("-")[0],
                                   re.sub(r"^\D*(\d+(\.\d+)*).*", r"\1", wrk_version()), THREADS,
                                   CONNECTIONS, ROUNDS, DURATION),
        "command": COMMAND,
        "servers": [[n, LABELS[n]] for n in servers],
    }
    rows = [{"route": label, "server": n, "rps": summary(results[(n, label)], "rps"),
             "p99_ms": summary(results[(n, label)], "p99_ms"),
             "cpu_us": summary(results[(n, label)], "cpu_us")}
            for label, _, _, _ in ROUTES for n in servers]
    # One line per row, so that a new run's diff reads row by row.
    text = "{\n" + "".join('  "%s": %s,\n' % (k, json.dumps(v, ensure_ascii=False))
                           for k, v in head.items())
    text += '  "results": [\n' + ",\n".join("    " + json.dumps(r) for r in rows) + "\n  ]\n}\n"
    with open(RESULTS, "w", encoding="utf-8") as f:
        f.write(text)
    log("results written to %s" % RESULTS)


def wrk_version():
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    words = (out.stdout + out.stderr).split()
    return words[1] if len(words) > 1 else "?"


if __name__ == "__main__":
    main()
