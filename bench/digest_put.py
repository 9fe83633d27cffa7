#!/usr/bin/env python3
"""PUT latency of 1 MB bodies with and without a Content-Digest to verify.

Usage: digest_put.py PORT PATH_PREFIX PIPELINE [COUNT]

Sends COUNT PUTs of each kind on one keep-alive connection, alternating
(plain, with sha-256 Content-Digest), every body unique, and prints
"plain_p50=.. plain_p99=.. digest_p50=.. digest_p99=.. added_p99=.." in ms.
Digests are computed before the clock starts: only the origin's work counts.
"""
import base64
import hashlib
import http.client
import os
import sys
import time


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main():
    port, prefix, pipeline = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    rest = os.urandom((1 << 20) - 16)
    conn = http.client.HTTPConnection("127.0.0.1", port)
    times = {"plain": [], "digest": []}
    for i in range(2 * count):
        kind = "digest" if i % 2 else "plain"
        body = i.to_bytes(16, "big") + rest
        headers = {"X-Live-Pipeline": pipeline, "Content-Type": "application/octet-stream"}
        if kind == "digest":
            digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
            headers["Content-Digest"] = f"sha-256=:{digest}:"
        start = time.perf_counter()
        conn.request("PUT", f"{prefix}{i % 64}.bin", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - start) * 1000
        if response.status not in (200, 201, 204):
            sys.exit(f"PUT answered {response.status}")
        times[kind].append(elapsed)
    p = {k: (percentile(v, 0.5), percentile(v, 0.99)) for k, v in times.items()}
    print(f"plain_p50={p['plain'][0]:.2f} plain_p99={p['plain'][1]:.2f} "
          f"digest_p50={p['digest'][0]:.2f} digest_p99={p['digest'][1]:.2f} "
          f"added_p50={p['digest'][0] - p['plain'][0]:.2f} added_p99={p['digest'][1] - p['plain'][1]:.2f}")


if __name__ == "__main__":
    main()
