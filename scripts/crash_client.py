#!/usr/bin/env python3
"""Load and verification client for scripts/crash-test.sh (SPEC §4.5, §5.1, §7).

Subcommands:
  wait-ready  read the ports from a daemon log, poll /readyz until 200, print
              "PORT ADMIN_PORT READY_MS" (READY_MS counted from --start-ns)
  load        two pipelines PUT segments, init segments, manifests and captions
              at a high rate while readers GET segments; every attempt, every
              2xx and every clean 200 GET is appended to ledger.tsv; runs
              until --stop-file exists
  verify      every acknowledged object is served byte-identical and complete,
              every observed sticky selection still serves the same
              pipeline+ETag; prints one "key=value ..." line, where
              sticky_contested counts the selections a more preferred
              pipeline's candidate would have replaced without stickiness

Event "crash" (written by crash-test.sh): epoch-anchored, start_number 0,
d = 1 s, so segment n is available at (n+1) s and now_ms/1000 - 1 is the live
edge. Pipelines "a" (preferred) and "b". Each (pipeline, path) is PUT by one
thread: segments, init segments and captions once (plus an occasional
identical retry, which must be 204) — never again in a later cycle; "a" PUTs
every other shared segment late (LATE_MS), after "b" was served; manifests
are rewritten continuously, and must never go back to bytes older than the
last acknowledged ones.

Standard library only.
"""

import argparse
import hashlib
import http.client
import json
import os
import random
import re
import struct
import sys
import threading
import time

EVENT = "crash"
PIPELINES = ("a", "b")  # list order = priority
TIMESCALE = 12800  # of the video fixture; one segment = 12800 ticks = d
HOST = "127.0.0.1"
# A fixed ladder, like a real channel: both pipelines PUT the shared renditions;
# each pipeline also has renditions of its own (a single candidate per segment,
# so every acknowledged segment of them is byte-checked).
SHARED_RENDITIONS = ["v1", "v2", "v3", "a1"]
OWN_RENDITIONS = {"a": ["xa1", "xa2"], "b": ["xb1", "xb2"]}
WRITERS_PER_PIPELINE = 3
MANIFESTS_PER_WRITER = 4
READERS = 6
AHEAD = 3  # PUT the live edge and up to this many segments ahead
# Pipeline "a" (preferred) PUTs every other shared segment this long after its
# availability time: after preferred_grace (500 ms in crash-test.sh), so
# readers are served b's candidate first and only stickiness keeps it (a
# "contested" selection: it would change if the sticky record were lost).
LATE_MS = 800


def now_ms():
    return time.time_ns() // 1_000_000


def live_edge():
    return now_ms() // 1000 - 1


def available_ms(number):
    return (number + 1) * 1000


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------
# Media.

def find_box(data, path, off=0, end=None):
    """Offset of the first box at `path` (list of 4-char types), or -1."""
    end = len(data) if end is None else end
    while off + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, off)
        if size < 8 or off + size > end:
            return -1
        if kind == path[0].encode():
            if len(path) == 1:
                return off
            return find_box(data, path[1:], off + 8, off + size)
        off += size
    return -1


class Media:
    def __init__(self, root):
        fixtures = os.path.join(root, "tests", "fixtures", "media")
        with open(os.path.join(fixtures, "dash_video_1.m4s"), "rb") as f:
            self.segment = f.read()
        with open(os.path.join(fixtures, "dash_video_init.mp4"), "rb") as f:
            self.init = f.read()
        tfdt = find_box(self.segment, ["moof", "traf", "tfdt"])
        if tfdt < 0 or self.segment[tfdt + 8] != 1:
            raise SystemExit("fixture dash_video_1.m4s: expected a version 1 tfdt")
        self.tfdt_value = tfdt + 12

    @staticmethod
    def free_box(rng, low, high):
        payload = rng.randbytes(rng.randint(low, high))
        return struct.pack(">I4s", 8 + len(payload), b"free") + payload

    def make_segment(self, number, rng):
        """The 1 s fixture moved to segment `number`'s media time, plus a `free`
        box with random bytes: unique, valid and continuous with number - 1."""
        data = bytearray(self.segment)
        struct.pack_into(">Q", data, self.tfdt_value, number * TIMESCALE)
        return bytes(data) + self.free_box(rng, 16, 2048)

    def make_init(self, rng, unique):
        return self.init + (self.free_box(rng, 16, 256) if unique else b"")


# ---------------------------------------------------------------------------
# HTTP.

class Client:
    """One keep-alive connection that reconnects after errors."""

    def __init__(self, port, timeout=5.0):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def request(self, method, target, body=None, headers=None):
        """(status, headers dict lower-case, body bytes) or raises OSError /
        http.client.HTTPException (connection lost, incomplete body)."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        try:
            self.conn.request(method, target, body=body, headers=headers or {})
            resp = self.conn.getresponse()
            data = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            if resp.will_close:
                self.close()
            return resp.status, hdrs, data
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def target(path):
    return "/%s/%s" % (EVENT, path)


# ---------------------------------------------------------------------------
# wait-ready

def cmd_wait_ready(args):
    pattern = re.compile(r"listening on [0-9.]+:(\d+) .*admin on [0-9.]+:(\d+)")
    deadline = time.monotonic() + args.timeout
    port = admin = None
    while time.monotonic() < deadline:
        try:
            with open(args.log, "r", errors="replace") as f:
                m = pattern.search(f.read())
        except FileNotFoundError:
            m = None
        if m:
            port, admin = int(m.group(1)), int(m.group(2))
            break
        time.sleep(0.002)
    if port is None:
        print("daemon did not report its ports within %ss" % args.timeout, file=sys.stderr)
        return 1
    while time.monotonic() < deadline:
        try:
            status, _, _ = Client(admin, timeout=1).request("GET", "/readyz")
            if status == 200:
                ready_ms = (time.time_ns() - args.start_ns) / 1e6
                print("%d %d %d" % (port, admin, round(ready_ms)))
                return 0
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.002)
    print("/readyz did not answer 200 within %ss" % args.timeout, file=sys.stderr)
    return 1


# ---------------------------------------------------------------------------
# The ledger: one TSV file, append-only, flushed per line, shared by load and
# verify. "T" lines are written before a PUT is sent (an attempt), "A" lines
# after a 2xx arrived (an acknowledgement). Each (pipeline, path) is owned by one
# writer thread, so its lines are in the order the PUTs were made.
#   T  pipeline path number size sha256 kind
#   A  pipeline path number size sha256 kind etag status
#   S  path pipeline etag size          (a clean 200 GET: a sticky selection)
# kind: "once" (segments, init segments, captions: PUT once, maybe retried with
# identical bytes) or "rewrite" (manifests, replaced over and over).

class Ledger:
    def __init__(self, directory):
        self.lock = threading.Lock()
        self.file = open(os.path.join(directory, "ledger.tsv"), "a")
        self.counts = {"acked": 0, "refused": 0, "errors": 0, "gets": 0, "sticky": 0,
                       "retry_not_204": 0}

    def _write(self, fields):
        line = "\t".join(str(f) for f in fields) + "\n"
        with self.lock:
            self.file.write(line)
            self.file.flush()

    def attempt(self, pipeline, path, number, data, kind):
        self._write(["T", pipeline, path, "-" if number is None else number, len(data),
                     sha256(data), kind])

    def ack(self, pipeline, path, number, data, kind, etag, status):
        self._write(["A", pipeline, path, "-" if number is None else number, len(data),
                     sha256(data), kind, etag, status])
        self.bump("acked")

    def served(self, path, pipeline, etag, size):
        self._write(["S", path, pipeline, etag, size])
        self.bump("sticky")

    def bump(self, key):
        with self.lock:
            self.counts[key] += 1


def read_ledger(directory):
    """Lines of the ledger, split; [] when there is none yet."""
    try:
        with open(os.path.join(directory, "ledger.tsv")) as f:
            return [line.rstrip("\n").split("\t") for line in f if line.endswith("\n")]
    except FileNotFoundError:
        return []


# ---------------------------------------------------------------------------
# load

class Writer(threading.Thread):
    """PUTs as one pipeline: init segments once, every segment from the live edge
    to AHEAD beyond it for its renditions as they become due, and otherwise
    rewrites its manifests (now and then a new caption object instead)."""

    def __init__(self, args, media, ledger, stop, pipeline, renditions, index, attempted):
        super().__init__(daemon=True)
        self.args, self.media, self.ledger, self.stop = args, media, ledger, stop
        self.pipeline = pipeline
        self.renditions = renditions  # [(name, shared)]
        self.index = index
        self.attempted = attempted  # {(rendition, number or None)} PUT in any cycle
        self.rng = random.Random()
        self.client = Client(args.port)
        self.captions = 0
        self.manifest = 0

    def next_segment(self):
        for name, shared in self.renditions:
            if (name, None) not in self.attempted:
                return name, None, "%s/init.mp4" % name, shared
        edge = live_edge()
        for number in range(edge - 2, edge + AHEAD + 1):
            for name, shared in self.renditions:
                if (name, number) in self.attempted:
                    continue
                if self.pipeline == "a" and shared and number % 2 == 0:
                    if now_ms() < available_ms(number) + LATE_MS:
                        continue  # late on purpose; see LATE_MS
                elif number < edge:
                    continue  # on time: from the live edge on
                return name, number, "%s/%d.m4s" % (name, number), shared
        return None

    def put(self, path, data):
        return self.client.request("PUT", target(path), body=data,
                                   headers={"X-Live-Pipeline": self.pipeline})

    def run(self):
        while not self.stop.is_set():
            job = self.next_segment()
            number = None
            if job is not None:
                name, number, path, shared = job
                self.attempted.add((name, number))
                kind = "once"
                if number is None:
                    data = self.media.make_init(self.rng, unique=not shared)
                else:
                    data = self.media.make_segment(number, self.rng)
            elif self.rng.random() < 0.1:
                self.captions += 1
                path = "subs/%s-%d-%d-%d.vtt" % (self.pipeline, self.args.cycle, self.index,
                                                 self.captions)
                data, kind = self.rng.randbytes(self.rng.randint(1, 16384)), "once"
            else:
                self.manifest = (self.manifest + 1) % MANIFESTS_PER_WRITER
                path = "m/%s-%d-%d.mpd" % (self.pipeline, self.index, self.manifest)
                data, kind = self.rng.randbytes(self.rng.randint(200, 16384)), "rewrite"
            self.ledger.attempt(self.pipeline, path, number, data, kind)
            try:
                status, hdrs, _ = self.put(path, data)
            except (OSError, http.client.HTTPException):
                self.ledger.bump("errors")
                time.sleep(0.01)
                continue  # not acknowledged; the daemon may be gone
            if status not in (201, 204):
                self.ledger.bump("refused")
                continue
            etag = hdrs.get("etag", "").strip('"')
            self.ledger.ack(self.pipeline, path, number, data, kind, etag, status)
            if kind == "once" and self.rng.random() < 0.03:  # a retry, identical bytes
                try:
                    status, _, _ = self.put(path, data)
                    if status != 204:
                        self.ledger.bump("retry_not_204")
                except (OSError, http.client.HTTPException):
                    pass


class Reader(threading.Thread):
    """GETs segments around the live edge; records every clean 200."""

    def __init__(self, args, ledger, stop, renditions):
        super().__init__(daemon=True)
        self.args, self.ledger, self.stop = args, ledger, stop
        self.renditions = renditions
        self.rng = random.Random()
        self.client = Client(args.port, timeout=6)

    def run(self):
        while not self.stop.is_set():
            name = self.rng.choice(self.renditions)
            number = live_edge() + self.rng.choice((-1, 0, 0, 1))
            path = "%s/%d.m4s" % (name, number)
            try:
                status, hdrs, data = self.client.request("GET", target(path))
            except (OSError, http.client.HTTPException):
                time.sleep(0.01)
                continue
            self.ledger.bump("gets")
            if status == 200 and "x-live-defects" not in hdrs:
                self.ledger.served(path, hdrs.get("x-live-pipeline", ""),
                                   hdrs.get("etag", "").strip('"'), len(data))
            time.sleep(0.005)


def cmd_load(args):
    media = Media(args.root)
    attempted = {p: set() for p in PIPELINES}
    for f in read_ledger(args.dir):
        if f[0] == "T" and f[6] == "once" and (f[3] != "-" or f[2].endswith("/init.mp4")):
            rendition = f[2].split("/", 1)[0]
            attempted[f[1]].add((rendition, None if f[3] == "-" else int(f[3])))
    ledger = Ledger(args.dir)
    stop = threading.Event()
    threads = []
    for p in PIPELINES:
        mine = [(r, False) for r in OWN_RENDITIONS[p]] + [(r, True) for r in SHARED_RENDITIONS]
        for w in range(WRITERS_PER_PIPELINE):
            threads.append(Writer(args, media, ledger, stop, p, mine[w::WRITERS_PER_PIPELINE], w,
                                  attempted[p]))
    readers = SHARED_RENDITIONS + OWN_RENDITIONS["a"] + OWN_RENDITIONS["b"]
    # Most GETs wait (preferred grace, availability time): several readers.
    threads += [Reader(args, ledger, stop, readers) for _ in range(READERS)]
    for t in threads:
        t.start()
    with open(args.running_file, "w") as f:
        f.write("running\n")
    deadline = time.monotonic() + args.max_seconds
    while not os.path.exists(args.stop_file) and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    c = ledger.counts
    print("load cycle=%d acked=%d refused=%d errors=%d gets=%d served_clean=%d retry_not_204=%d"
          % (args.cycle, c["acked"], c["refused"], c["errors"], c["gets"], c["sticky"],
             c["retry_not_204"]))
    return 1 if c["retry_not_204"] else 0


# ---------------------------------------------------------------------------
# verify

def expectations(lines):
    """{path: {pipeline: expectation}} for every (pipeline, path) with at least
    one acknowledgement. An expectation accepts the last acknowledged bytes and
    those of any attempt after it (in flight at the kill: may or may not have
    been stored), by sha256 -> size."""
    state = {}
    for f in lines:
        if f[0] not in ("T", "A"):
            continue
        key = (f[2], f[1])
        e = state.setdefault(key, {"number": None if f[3] == "-" else int(f[3]), "kind": f[6],
                                   "accept": {}, "etag": None, "acked": False})
        size, digest = int(f[4]), f[5]
        if f[0] == "A":
            e["acked"] = True
            e["etag"] = f[7]
            e["accept"] = {digest: size}
        elif e["acked"]:
            e["accept"][digest] = size
    out = {}
    for (path, pipeline), e in state.items():
        if e["acked"]:
            out.setdefault(path, {})[pipeline] = e
    return out


def read_sticky(lines):
    """{path: [(pipeline, etag, size), ...]} in observation order."""
    out = {}
    for f in lines:
        if f[0] == "S":
            out.setdefault(f[1], []).append((f[2], f[3], int(f[4])))
    return out


class Unreachable(Exception):
    pass


class Verifier:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.counts = {"checked": 0, "lost": 0, "partial": 0, "sticky_checked": 0,
                       "sticky_contested": 0, "sticky_changed": 0, "deferred": 0, "expired": 0}
        self.problems = []
        self.local = threading.local()
        self.connection_failures = 0
        self.unreachable = False

    def client(self, admin=False):
        attr = "admin" if admin else "main"
        c = getattr(self.local, attr, None)
        if c is None:
            # Generous: a starved machine answers slowly, and only a daemon that
            # stopped answering may fail the verification.
            c = Client(self.args.admin_port if admin else self.args.port, timeout=60)
            setattr(self.local, attr, c)
        return c

    def fail(self, kind, message):
        with self.lock:
            self.counts[kind] += 1
            if len(self.problems) < 20:
                self.problems.append("%s: %s" % (kind, message))

    def bump(self, kind, n=1):
        with self.lock:
            self.counts[kind] += n

    def request(self, path, admin=False):
        for attempt in range(3):
            try:
                result = self.client(admin).request("GET", path)
                with self.lock:
                    self.connection_failures = 0
                return result
            except http.client.IncompleteRead as e:
                return None, {}, e  # a short body: partial
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.connection_failures += 1
                    if self.connection_failures > 20:
                        self.unreachable = True
                if self.unreachable or attempt == 2:
                    raise Unreachable()
                time.sleep(0.05)

    def get(self, path):
        return self.request(target(path))

    def candidates(self, path):
        status, _, data = self.request("/admin/events/%s/objects/%s" % (EVENT, path), admin=True)
        if status != 200:
            return {}
        return {c["pipeline"]: c for c in json.loads(data).get("candidates", [])}

    def check_metadata(self, path, pipeline, e, candidates):
        c = candidates.get(pipeline)
        if c is None:
            self.fail("lost", "%s from %s: acknowledged, no candidate after restart"
                      % (path, pipeline))
        elif c["etag"] != e["etag"] and c["size"] not in e["accept"].values():
            self.fail("lost", "%s from %s: candidate etag %s size %d, acknowledged %s"
                      % (path, pipeline, c["etag"], c["size"], e["etag"]))

    def check_path(self, path, by_pipeline, servable):
        """Byte-checks the served candidate; metadata-checks the others."""
        self.bump("checked", len(by_pipeline))
        if not servable:
            candidates = self.candidates(path)
            for p, e in by_pipeline.items():
                self.check_metadata(path, p, e, candidates)
            return
        status, hdrs, data = self.get(path)
        if status is None:
            self.fail("partial", "%s: body cut short (%r)" % (path, data))
            return
        if status != 200:
            self.fail("lost", "%s: GET answered %d %s" % (path, status, data[:200]))
            return
        served = hdrs.get("x-live-pipeline", "")
        length = int(hdrs.get("content-length", "-1"))
        if length != len(data):
            self.fail("partial", "%s: Content-Length %d, %d bytes" % (path, length, len(data)))
            return
        e = by_pipeline.get(served)
        if e is not None and sha256(data) not in e["accept"]:
            if len(data) not in e["accept"].values():
                self.fail("partial", "%s from %s: %d bytes served, acknowledged %s"
                          % (path, served, len(data), sorted(e["accept"].values())))
            else:
                self.fail("lost", "%s from %s: served bytes are not the acknowledged ones"
                          % (path, served))
        others = [p for p in by_pipeline if p != served]
        if others:
            candidates = self.candidates(path)
            for p in others:
                self.check_metadata(path, p, by_pipeline[p], candidates)

    def check_sticky(self, path, observations, by_pipeline):
        self.bump("sticky_checked")
        first = observations[0]
        # Contested: a more preferred pipeline has an acknowledged candidate too,
        # so only the sticky record keeps serving `first` (after a restart, too).
        preferred = PIPELINES[:PIPELINES.index(first[0])] if first[0] in PIPELINES else ()
        if any(p in by_pipeline for p in preferred):
            self.bump("sticky_contested")
        for o in observations[1:]:
            if o[:2] != first[:2]:
                self.fail("sticky_changed", "%s: served %s/%s, later %s/%s before any crash"
                          % (path, first[0], first[1], o[0], o[1]))
                return
        status, hdrs, data = self.get(path)
        if status != 200:
            self.fail("sticky_changed", "%s: was served from %s, now answers %s"
                      % (path, first[0], status))
            return
        now = (hdrs.get("x-live-pipeline", ""), hdrs.get("etag", "").strip('"'))
        if now != first[:2]:
            self.fail("sticky_changed", "%s: was served %s/%s, now %s/%s"
                      % (path, first[0], first[1], now[0], now[1]))

    def run_parallel(self, jobs, threads=4):
        jobs = list(jobs)
        lock = threading.Lock()

        def worker():
            while not self.unreachable:
                with lock:
                    if not jobs:
                        return
                    job = jobs.pop()
                try:
                    job()
                except Unreachable:
                    pass
                except (OSError, http.client.HTTPException, ValueError) as e:
                    self.fail("lost", "request failed: %r" % (e,))

        pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()


def cmd_verify(args):
    v = Verifier(args)
    lines = read_ledger(args.dir)
    acked = expectations(lines)
    sticky = read_sticky(lines)
    verified_file = os.path.join(args.dir, "verified.txt")
    verified = set()
    if os.path.exists(verified_file):
        with open(verified_file) as f:
            verified = set(line.rstrip("\n") for line in f)

    def newest_number(by_pipeline):
        numbers = [e["number"] for e in by_pipeline.values() if e["number"] is not None]
        return max(numbers) if numbers else None

    if args.final:
        # Wait until every segment's availability time and preferred grace passed.
        last = max((newest_number(b) or 0 for b in acked.values()), default=0)
        wait = (available_ms(last) + 1000 - now_ms()) / 1000
        if wait > 0:
            time.sleep(wait)

    jobs = []
    new_verified = []
    edge = live_edge()
    old = [p for p in acked if p in verified]
    sample = set(random.sample(old, min(len(old), args.sample)))
    for path, by_pipeline in acked.items():
        number = newest_number(by_pipeline)
        if number is not None and number < edge - 590:
            v.bump("expired")
            continue
        rewritten = any(e["kind"] == "rewrite" for e in by_pipeline.values())
        if path in verified and path not in sample and not rewritten:
            continue
        # Servable: available and past the preferred grace, so a GET is not held.
        servable = number is None or now_ms() >= available_ms(number) + 1000
        if servable and not rewritten:
            new_verified.append(path)
        elif not servable:
            v.bump("deferred")
        jobs.append(lambda p=path, b=by_pipeline, s=servable: v.check_path(p, b, s))
    for path, observations in sticky.items():
        jobs.append(lambda p=path, o=observations: v.check_sticky(p, o, acked.get(p, {})))
    v.run_parallel(jobs)

    with open(verified_file, "a") as f:
        for p in new_verified:
            if p not in verified:
                f.write(p + "\n")
    for p in v.problems:
        print("  " + p, file=sys.stderr)
    if v.unreachable:
        print("  the daemon stopped answering during verification", file=sys.stderr)
    c = v.counts
    print("verify acknowledged=%d checked=%d deferred=%d expired=%d lost=%d partial=%d "
          "sticky_checked=%d sticky_contested=%d sticky_changed=%d unreachable=%d"
          % (sum(len(b) for b in acked.values()), c["checked"], c["deferred"], c["expired"],
             c["lost"], c["partial"], c["sticky_checked"], c["sticky_contested"],
             c["sticky_changed"], int(v.unreachable)))
    return 1 if c["lost"] or c["partial"] or c["sticky_changed"] or v.unreachable else 0


# ---------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    w = sub.add_parser("wait-ready")
    w.add_argument("--log", required=True)
    w.add_argument("--start-ns", type=int, required=True, help="daemon start, time.time_ns()")
    w.add_argument("--timeout", type=float, default=20)

    ld = sub.add_parser("load")
    ld.add_argument("--port", type=int, required=True)
    ld.add_argument("--dir", required=True)
    ld.add_argument("--root", required=True, help="source tree (for tests/fixtures)")
    ld.add_argument("--cycle", type=int, required=True)
    ld.add_argument("--stop-file", required=True)
    ld.add_argument("--running-file", required=True)
    ld.add_argument("--max-seconds", type=float, default=30)

    vf = sub.add_parser("verify")
    vf.add_argument("--port", type=int, required=True)
    vf.add_argument("--admin-port", type=int, required=True)
    vf.add_argument("--dir", required=True)
    vf.add_argument("--sample", type=int, default=200,
                    help="objects verified in earlier passes to check again")
    vf.add_argument("--final", action="store_true",
                    help="first wait until every acknowledged segment is available")

    args = parser.parse_args()
    return {"wait-ready": cmd_wait_ready, "load": cmd_load, "verify": cmd_verify}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
