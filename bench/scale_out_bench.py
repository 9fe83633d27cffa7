#!/usr/bin/env python3
"""Scale-out figures (SPEC §10) against running nodes: a benchmark program, not a test.

  EVENTS_DIR=bench/events scripts/cluster.sh 2 &   # 3 NATS servers + origin-1 (8080), origin-2 (8081)
  bench/scale_out_bench.py --a http://127.0.0.1:8080 --b http://127.0.0.1:8081 \\
      --b-admin http://127.0.0.1:9091 [--rocksdb http://127.0.0.1:8090]

Measures, on bench/events/bench.yaml (d = 1 s like the media fixture, one
pipeline, no preferred grace; a RocksDB node for --rocksdb serves the same
events directory):
  1. cross-node release: a GET held on node B for the next segment, released by
     the PUT of that segment on node A; the figure is the time from A's
     acknowledgement (the PUT's 201 read by this client) to B's answer.
  2. PUT latency (201 round trip) for 64 KiB, 1 MiB and 4 MiB bodies on node A,
     and on a RocksDB node (--rocksdb) in the same run when one is given.
  3. with --rocksdb, hot GET throughput of one 64 KiB segment (in each node's
     hot cache) on node A and on the RocksDB node: wrk, --wrk-rounds rounds of
     --wrk-seconds each, the two nodes alternating; prints every round, the
     median and the NATS/RocksDB ratio (scripts/bench.sh has the ratio of the
     RocksDB node to nginx).
Prints p50/p90/p99/max in milliseconds.
"""
import argparse
import base64
import http.client
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "media")
AUTH = "Basic " + base64.b64encode(b"a:bench-a").decode()


def connect(base):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def request(base, method, path, body=None, headers=None):
    c = connect(base)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, data
    finally:
        c.close()


def held_requests(admin):
    _, text = request(admin, "GET", "/metrics")
    for line in text.decode().splitlines():
        if line.startswith("liveorigin_held_requests "):
            return float(line.split()[1])
    return 0.0


def percentiles(values):
    s = sorted(values)

    def p(q):
        return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]

    return "n=%d p50=%.1f p90=%.1f p99=%.1f max=%.1f ms" % (
        len(s), p(0.5), p(0.9), p(0.99), s[-1])


def cross_node_release(a, b, b_admin, rounds):
    init = open(os.path.join(FIXTURES, "dash_video_init.mp4"), "rb").read()
    seg = open(os.path.join(FIXTURES, "dash_video_1.m4s"), "rb").read()
    out = []
    for i in range(rounds):
        rendition = "%d" % (9000 + random.randrange(100000))  # no previous segment
        status, _ = request(a, "PUT", "/bench/%s/init.mp4" % rendition, init,
                            {"Authorization": AUTH})
        if status not in (200, 201, 204):
            sys.exit("init PUT answered %d" % status)
        n = int(time.time()) - 1 + 1  # next segment: held on GET
        path = "/bench/%s/%d.m4s" % (rendition, n)
        result = {}

        def get():
            status, body = request(b, "GET", path)
            result["t"] = time.monotonic()
            result["status"] = status

        t = threading.Thread(target=get)
        t.start()
        deadline = time.monotonic() + 5
        while held_requests(b_admin) < 1 and time.monotonic() < deadline:
            time.sleep(0.002)
        status, _ = request(a, "PUT", path, seg, {"Authorization": AUTH})
        acked = time.monotonic()
        t.join()
        if status != 201 or result.get("status") != 200:
            print("round %d: PUT %d, GET %s (skipped)" % (i, status, result.get("status")))
            continue
        out.append((result["t"] - acked) * 1000)
    print("cross-node release (A's 201 -> B's 200):", percentiles(out))


def put_latency(name, base, sizes, rounds):
    edge = int(time.time()) - 1
    for size in sizes:
        body = os.urandom(size)
        rendition = "%d" % (100 + random.randrange(1000000))
        lat = []
        for i in range(rounds):
            path = "/bench/%s/%d.m4s" % (rendition, edge - rounds + i)
            t0 = time.monotonic()
            status, text = request(base, "PUT", path, body, {"Authorization": AUTH})
            if status != 201:
                sys.exit("%s: PUT answered %d: %s" % (name, status, text[:200]))
            lat.append((time.monotonic() - t0) * 1000)
        print("PUT %-7s %7d bytes:" % (name, size), percentiles(lat))


def hot_get(nodes, rounds, seconds):
    """nodes: [(name, base)]. wrk on one 64 KiB segment each node holds hot."""
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (scripts/setup-deps.sh --bench installs it)")
    body = os.urandom(64 << 10)
    path = "/bench/hot%d/%d.m4s" % (random.randrange(1000000), int(time.time()) - 5)
    for name, base in nodes:
        status, text = request(base, "PUT", path, body, {"Authorization": AUTH})
        if status != 201:
            sys.exit("%s: PUT answered %d: %s" % (name, status, text[:200]))
        status, data = request(base, "GET", path)
        if status != 200 or data != body:
            sys.exit("%s: GET answered %d with %d bytes" % (name, status, len(data)))
    rates = {name: [] for name, _ in nodes}
    for r in range(rounds):
        for name, base in nodes:
            out = subprocess.run(["wrk", "-t2", "-c64", "-d%ds" % seconds, base + path],
                                 capture_output=True, text=True, check=True).stdout
            m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
            if not m or "Non-2xx" in out or "Socket errors" in out:
                sys.exit("%s: wrk failed:\n%s" % (name, out))
            rates[name].append(float(m.group(1)))
            print("hot GET 64 KiB, round %d, %-7s %9.0f req/s" % (r + 1, name, rates[name][-1]))
    med = {name: statistics.median(v) for name, v in rates.items()}
    for name, v in rates.items():
        print("hot GET 64 KiB %-7s median %9.0f req/s (min %.0f, max %.0f)"
              % (name, med[name], min(v), max(v)))
    a, b = nodes[0][0], nodes[1][0]
    print("hot GET 64 KiB %s/%s: %.2f (rounds %s)" % (
        a, b, med[a] / med[b],
        ", ".join("%.2f" % (x / y) for x, y in zip(rates[a], rates[b]))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", default="http://127.0.0.1:8080", help="node A (PUTs)")
    ap.add_argument("--b", default="http://127.0.0.1:8081", help="node B (held GETs)")
    ap.add_argument("--b-admin", default="http://127.0.0.1:9091", help="node B's admin listener")
    ap.add_argument("--rocksdb", help="a node with storage.engine: rocksdb, for comparison")
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--wrk-rounds", type=int, default=3)
    ap.add_argument("--wrk-seconds", type=int, default=8)
    args = ap.parse_args()
    cross_node_release(args.a, args.b, args.b_admin, args.rounds)
    sizes = [64 << 10, 1 << 20, 4 << 20]
    put_latency("nats", args.a, sizes, args.rounds)
    if args.rocksdb:
        put_latency("rocksdb", args.rocksdb, sizes, args.rounds)
        hot_get([("nats", args.a), ("rocksdb", args.rocksdb)], args.wrk_rounds, args.wrk_seconds)


if __name__ == "__main__":
    main()
