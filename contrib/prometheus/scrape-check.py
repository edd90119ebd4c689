#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Scrape a running kvmwarden exporter with a real Prometheus server.

  scrape-check.py EXPORTER_PORT [DASHBOARD_JSON]

Starts Debian's `prometheus` on a free loopback port with a temporary
TSDB, scraping 127.0.0.1:EXPORTER_PORT every second and loading
kvmwarden.rules.yml (next to this script), then over the HTTP API:

- waits for the target to be up and for three scrapes;
- checks that every kvmwarden_vm_exits_total and
  kvmwarden_vm_exits_all_total series Prometheus stored lies between the
  exporter's own answers fetched just before and just after the scrape
  it came from (equal to both when the counters stand still);
- runs every panel query of the dashboard (Grafana variables: the VM
  selector as ".*", $__rate_interval as 1m) and requires each to return
  at least one series with a number (not NaN);
- checks that every recording rule produced a series.

Prints TAP-style diagnostics ("# ...") and exits 0 when all hold, 1 when
something does not, 77 when prometheus is not installed.
"""
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def diag(msg):
    print("# " + msg, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def query(pport, expr):
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (
        pport, urllib.parse.urlencode({"query": expr}))
    ans = json.loads(get(url))
    if ans.get("status") != "success":
        raise RuntimeError("query %r: %s" % (expr, ans))
    return ans["data"]["result"]


def unescape(v):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n"
                  else m.group(1), v)


def exposition(eport):
    """The exporter's samples: {(name, frozenset(labels)): value}, with
    the labels unescaped and empty ones left out, as Prometheus keeps
    them."""
    out = {}
    for line in get("http://127.0.0.1:%d/metrics" % eport).splitlines():
        m = SAMPLE.match(line)
        if not m or line.startswith("#"):
            continue
        labels = frozenset((k, unescape(v))
                           for k, v in LABEL.findall(m.group(3) or "")
                           if v != "")
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def key_of(series):
    metric = dict(series["metric"])
    name = metric.pop("__name__")
    metric.pop("job", None)
    metric.pop("instance", None)
    # Prometheus drops empty labels; the exporter writes vm="" for a VM
    # without a name.
    return name, frozenset(metric.items())


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    if not shutil.which("prometheus"):
        diag("prometheus is not installed (Debian: prometheus)")
        return 77
    eport = int(sys.argv[1])
    dashboard = sys.argv[2] if len(sys.argv) == 3 else None
    pport = free_port()
    tmp = tempfile.mkdtemp(prefix="kvmw_prom.")
    rules = os.path.join(HERE, "kvmwarden.rules.yml")
    with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "rule_files:\n  - %s\n"
                "scrape_configs:\n  - job_name: kvmwarden\n"
                "    static_configs:\n      - targets: ['127.0.0.1:%d']\n"
                % (rules, eport))
    log = open(os.path.join(tmp, "prometheus.log"), "w")
    proc = subprocess.Popen(
        ["prometheus", "--config.file=" + os.path.join(tmp, "prometheus.yml"),
         "--storage.tsdb.path=" + os.path.join(tmp, "data"),
         "--web.listen-address=127.0.0.1:%d" % pport, "--log.level=warn"],
        stdout=log, stderr=log)
    ok = True
    try:
        t0 = time.time()
        while True:
            try:
                up = query(pport, 'up{job="kvmwarden"}')
                if up and up[0]["value"][1] == "1":
                    n = query(pport, "count_over_time(kvmwarden_up[1m])")
                    if n and float(n[0]["value"][1]) >= 3:
                        break
            except (OSError, RuntimeError, ValueError):
                pass
            if proc.poll() is not None or time.time() - t0 > 90:
                diag("prometheus did not scrape the exporter:")
                log.flush()
                for line in open(os.path.join(tmp, "prometheus.log")):
                    diag(line.rstrip())
                return 1
            time.sleep(0.5)
        diag("prometheus up and scraping after %.1f s" % (time.time() - t0))

        # A (the exporter's answer), then a scrape Prometheus made after
        # A, then B: each stored value lies between A and B, i.e. within
        # the scrape interval it was taken in (equal for a still source).
        names = ("kvmwarden_vm_exits_total", "kvmwarden_vm_exits_all_total")
        t_a = time.time()
        exp_a = exposition(eport)
        while True:
            ts = query(pport, "timestamp(kvmwarden_up)")
            if ts and float(ts[0]["value"][1]) > t_a:
                break
            if time.time() - t_a > 30:
                diag("no scrape after the exporter's answer")
                return 1
            time.sleep(0.2)
        stored = {}
        for expr in names:
            for s in query(pport, expr):
                stored[key_of(s)] = float(s["value"][1])
        exp_b = exposition(eport)
        if not stored:
            diag("no exit series stored")
            ok = False
        equal = moved = 0
        for key, val in sorted(stored.items(), key=str):
            a, b = exp_a.get(key), exp_b.get(key)
            if a is None or b is None:
                diag("stored series not exposed: %s" % (key,))
                ok = False
            elif not a <= val <= b:
                diag("%s: stored %s, not between the exporter's %s and %s"
                     % (key, val, a, b))
                ok = False
            else:
                equal += a == val == b
                moved += a < b
        diag("exit series: %d stored, each between the exporter's answers "
             "before and after its scrape (%d moving, %d still)"
             % (len(stored), moved, equal))
        exp = exp_b

        if dashboard:
            with open(dashboard) as f:
                dash = json.load(f)
            families = {re.sub(r"_(bucket|sum|count)$", "", k[0])
                        for k in exp} | {k[0] for k in exp}
            n = answered = 0
            for panel in dash["panels"]:
                for t in panel.get("targets", []):
                    expr = t["expr"].replace("$vm_id", ".*").replace(
                        "$__rate_interval", "1m")
                    res = query(pport, expr)
                    vals = [float(s["value"][1]) for s in res]
                    good = [v for v in vals if not math.isnan(v)]
                    n += 1
                    if good:
                        answered += 1
                        continue
                    missing = [m for m in re.findall(r"kvmwarden_[a-z_]+",
                                                     t["expr"])
                               if m not in families]
                    if missing:
                        diag("panel %r: not answered, the source does not "
                             "expose %s" % (panel["title"],
                                            ", ".join(missing)))
                        continue
                    diag("panel %r: %r returned no number (%d series)"
                         % (panel["title"], t["expr"], len(res)))
                    ok = False
            diag("dashboard: %d of %d panel queries answered with numbers"
                 % (answered, n))

        for group in ("kvmwarden:vm_exits:rate5m",
                      "kvmwarden:vm_overhead:ratio5m",
                      "kvmwarden:vm_steal:ratio5m",
                      "kvmwarden:vm_home_node",
                      "kvmwarden:vm_memory_remote:ratio"):
            t1 = time.time()
            while not query(pport, group) and time.time() - t1 < 10:
                time.sleep(0.5)
            if not query(pport, group):
                diag("recording rule %s gave no series" % group)
                ok = False
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
