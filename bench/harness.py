"""The pieces of the load test: settings, /proc readers, the servers and
their tokens, and wrk. bench/compare.py runs the measurements and the report."""

import base64
import hashlib
import hmac
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROUNDS = int(os.environ.get("ROUNDS", "5"))
DURATION = int(os.environ.get("DURATION", "6"))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "32"))
THREADS = int(os.environ.get("THREADS", "1"))
RSS_CONNECTIONS = int(os.environ.get("RSS_CONNECTIONS", "256"))
STARTS = int(os.environ.get("STARTS", "5"))
STORM_CLIENTS = int(os.environ.get("STORM_CLIENTS", "4"))
DEMO_LOG_LEVEL = os.environ.get("DEMO_LOG_LEVEL")
SERVERS = os.environ.get("SERVERS", "demo,fastapi,fastapi-sql").split(",")
DEMO_BIN = os.environ.get("DEMO_BIN", "target/release/demo-app")
COMMAND = os.environ.get("BENCH_COMMAND", "bash bench/compare.sh")

TICK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1
SECRET = "bench-secret-%d-0123456789abcdefghij" % time.time()
WRONG_SECRET = "another-secret-0123456789abcdefghijklmnop"
WORK = tempfile.mkdtemp(prefix="auth-bench-")
HERE = os.path.dirname(os.path.abspath(__file__))

LABELS = {"demo": "demo (Rust)", "fastapi": "FastAPI (dict)", "fastapi-sql": "FastAPI (SQLite)"}
PORTS = {"demo": 18000, "fastapi": 18001, "fastapi-sql": 18002}

# route label, path, which token, expected status
ROUTES = [
    ("GET /health", "/health", None, 200),
    ("GET /users/me (valid)", "/users/me", "valid", 200),
    ("GET /users/me (bad signature)", "/users/me", "bad_signature", 401),
    ("GET /users/me (expired)", "/users/me", "expired", 401),
    ("GET /users/me (malformed)", "/users/me", "malformed", 401),
    ("GET /items (valid, SQLite read)", "/items", "valid", 200),
]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- /proc

def proc_children(pid):
    """Every descendant of pid (uvicorn's worker processes)."""
    out = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                for child in f.read().split():
                    out.append(int(child))
                    out.extend(proc_children(int(child)))
    except FileNotFoundError:
        pass
    return out


def stat_fields(path):
    with open(path) as f:
        raw = f.read()
    # the command name may contain spaces: split after its closing paren
    return raw[raw.rindex(")") + 2:].split()


def cpu_seconds(pid):
    """utime + stime of pid and its descendants, in seconds."""
    total = 0
    for p in [pid] + proc_children(pid):
        try:
            fields = stat_fields("/proc/%d/stat" % p)
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / TICK


def own_children_cpu():
    """cutime + cstime of this process: the CPU of reaped children (wrk)."""
    fields = stat_fields("/proc/self/stat")
    return (int(fields[13]) + int(fields[14])) / TICK


def machine_busy():
    """Busy CPU seconds of the whole machine (/proc/stat), all cores."""
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    idle = cpu[3] + cpu[4]
    return (sum(cpu[:8]) - idle) / TICK


def status_kib(pid, key):
    total = 0
    for p in [pid] + proc_children(pid):
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def reset_peak_rss(pid):
    for p in [pid] + proc_children(pid):
        try:
            with open("/proc/%d/clear_refs" % p, "w") as f:
                f.write("5")
        except OSError:
            pass


# ---------------------------------------------------------------- servers

def server_command(name):
    port = PORTS[name]
    if name == "demo":
        env = dict(os.environ, ROCKET_PORT=str(port), ROCKET_ADDRESS="127.0.0.1",
                   ROCKET_DATABASE_URL="sqlite://%s/demo.db" % WORK, ROCKET_AUTH_SECRET=SECRET)
        if DEMO_LOG_LEVEL:
            env["ROCKET_LOG_LEVEL"] = DEMO_LOG_LEVEL
        return [DEMO_BIN], env, None
    module = "fastapi_app" if name == "fastapi" else "fastapi_sql_app"
    env = dict(os.environ, BENCH_SECRET=SECRET, BENCH_SQL_DB="%s/fastapi.db" % WORK)
    cmd = [sys.executable, "-m", "uvicorn", "%s:app" % module, "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(NCPU), "--loop", "uvloop", "--http", "httptools",
           "--no-access-log", "--log-level", "warning"]
    return cmd, env, HERE


def get(port, path, token=None, timeout=5.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Authorization": "Bearer " + token} if token else {}
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def start(name, limit=60.0):
    """Starts a server; returns (process, seconds until /health answered)."""
    cmd, env, cwd = server_command(name)
    logf = open("%s/%s.log" % (WORK, name), "ab")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=logf, stderr=subprocess.STDOUT,
                            start_new_session=True)
    while time.monotonic() - t0 < limit:
        if proc.poll() is not None:
            break
        try:
            if get(PORTS[name], "/health", timeout=1)[0] == 200:
                return proc, time.monotonic() - t0
        except OSError:
            time.sleep(0.001)
    stop(proc)
    with open("%s/%s.log" % (WORK, name)) as f:
        log(f.read()[-4000:])
    sys.exit("%s did not answer /health within %.0f s" % (name, limit))


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def post_form(port, path, fields, token=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if token:
            headers["Authorization"] = "Bearer " + token
        conn.request("POST", path, urllib.parse.urlencode(fields), headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(header, claims, secret):
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(mac)


def tokens_for(name):
    status, body = post_form(PORTS[name], "/token", {"username": "johndoe", "password": "secret"})
    if status != 200:
        sys.exit("%s: POST /token answered %d: %s" % (name, status, body[:200]))
    valid = json.loads(body)["access_token"]
    signing_input = valid.rsplit(".", 1)[0]
    forged = hmac.new(WRONG_SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    now = int(time.time())
    expired_claims = {
        "iss": "auth-core", "sub": "johndoe", "aud": "api", "exp": now - 3600,
        "iat": now - 5400, "nbf": now - 5400, "jti": "expired-bench-token",
        "client_id": "default", "scope": "read:items write:items",
    }
    return {
        "valid": valid,
        "bad_signature": signing_input + "." + b64(forged),
        "expired": sign({"alg": "HS256", "typ": "at+jwt"}, expired_claims, SECRET),
        "malformed": "not.a-jwt.at-all",
    }


# ---------------------------------------------------------------- wrk

def to_ms(value):
    for unit, factor in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * factor
    return float(value)


def wrk_command(port, path, token, connections, duration, script=None):
    cmd = ["wrk", "-t%d" % THREADS, "-c%d" % connections, "-d%ds" % duration, "--latency"]
    if token:
        cmd += ["-H", "Authorization: Bearer " + token]
    if script:
        cmd += ["-s", script]
    cmd.append("http://127.0.0.1:%d%s" % (port, path))
    return cmd


def parse_wrk(out):
    result = {"raw": out, "errors": 0, "non2xx": 0, "requests": 0, "rps": 0.0,
              "p99_ms": float("nan")}
    for line in out.splitlines():
        words = line.split()
        if "requests in" in line:
            result["requests"] = int(words[0])
        elif line.startswith("Requests/sec:"):
            result["rps"] = float(words[1])
        elif words[:1] == ["99%"]:
            result["p99_ms"] = to_ms(words[1])
        elif line.strip().startswith("Socket errors:"):
            result["errors"] = sum(int(w.rstrip(",")) for w in words[3::2])
        elif line.strip().startswith("Non-2xx"):
            result["non2xx"] = int(words[-1])
    return result


def wrk(port, path, token, connections, duration, script=None):
    cmd = wrk_command(port, path, token, connections, duration, script)
    own0 = own_children_cpu()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result = parse_wrk(out)
    result["wrk_cpu"] = own_children_cpu() - own0
    return result


def login_script():
    """A wrk script that logs johndoe in with the right password."""
    script = os.path.join(WORK, "login.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\n'
                'wrk.body = "username=johndoe&password=secret"\n'
                'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n')
    return script


def median(values):
    return statistics.median(values) if values else float("nan")


def measure(name, proc, path, token, connections, duration):
    cpu0, busy0, t0 = cpu_seconds(proc.pid), machine_busy(), time.monotonic()
    r = wrk(PORTS[name], path, token, connections, duration)
    cpu1, busy1, elapsed = cpu_seconds(proc.pid), machine_busy(), time.monotonic() - t0
    r["server_cpu"] = cpu1 - cpu0
    r["cpu_us"] = (cpu1 - cpu0) / max(r["requests"], 1) * 1e6
    # CPU used by anything else on the machine (other processes, builds)
    r["other_cores"] = max(0.0, (busy1 - busy0) - r["server_cpu"] - r["wrk_cpu"]) / elapsed
    r["wrk_util"] = r["wrk_cpu"] / (duration * THREADS)
    return r
