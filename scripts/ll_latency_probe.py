#!/usr/bin/env python3
"""How far behind live a low-latency viewer is: scripts/demo.sh --low-latency runs this.

It behaves like a low-latency DASH player's segment loader: segment n of the
event is asked for as soon as the MPD says it is available (its
availabilityStartTime + (n - start_number + 1) * d - availabilityTimeOffset;
ffmpeg -ldash announces an offset of d minus one frame, so that is one frame
after the segment starts), and its body is read as it arrives. Every
frame of an ffmpeg -ldash -streaming segment is its own prft+moof+mdat
fragment, so the probe sees each frame the moment it reaches it and reports,
per frame:

  behind the encoder   arrival of the frame's whole mdat - the wall clock
                       ffmpeg wrote in the frame's prft box (the producer
                       reference time, taken as it muxed the frame): what the
                       chain packager -> origin -> edge -> viewer adds
  first byte           arrival of a segment's first body byte - the moment it
                       was asked for (the segment is followed while uploaded)

A player adds its own buffer (dash.js in low-latency mode aims at a live
delay it is configured with) on top of "behind the encoder", so that figure
is the floor of the latency a player can reach through this edge and origin.

Usage: ll_latency_probe.py --url http://127.0.0.1:8081/demo/chunk-stream0-%05d.m4s
         --mpd http://127.0.0.1:8081/demo/manifest.mpd --segment-ms 2000 --seconds 40
       (or --ast-ms MS --frame-ms 40 instead of --mpd: the schedule without an MPD)
Prints a line per segment and a summary; exit 1 when no frame was measured.
"""
import argparse
import datetime
import http.client
import re
import statistics
import struct
import sys
import threading
import time
import urllib.parse

NTP_TO_UNIX = 2208988800  # seconds from 1900-01-01 to 1970-01-01


def prft_wallclock(payload):
    """Unix seconds of a prft box's ntp_timestamp (payload after the box header)."""
    if len(payload) < 4 + 4 + 8:
        return None
    seconds, fraction = struct.unpack(">II", payload[8:16])
    if seconds == 0:
        return None
    return seconds - NTP_TO_UNIX + fraction / 2**32


class SegmentReader:
    """Reads one segment as it arrives and timestamps every top-level prft box."""

    def __init__(self, url, asked_at):
        self.url = url
        self.asked_at = asked_at
        self.status = None
        self.first_byte = None
        self.frames = []  # (arrival unix time, producer unix time)
        self.complete = False
        self.error = None
        self.bytes = 0
        self.pipeline = None

    def run(self):
        parts = urllib.parse.urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=15)
        try:
            conn.request("GET", parts.path)
            resp = conn.getresponse()
            self.status = resp.status
            self.pipeline = resp.getheader("X-Live-Pipeline")
            if resp.status != 200:
                resp.read()
                return
            buf = b""
            pending = None  # the producer time of the fragment being read
            while True:
                chunk = resp.read1(65536)
                if not chunk:
                    break
                now = time.time()
                if self.first_byte is None:
                    self.first_byte = now
                self.bytes += len(chunk)
                buf += chunk
                while len(buf) >= 8:
                    size, kind = struct.unpack(">I4s", buf[:8])
                    if size < 8:
                        raise ValueError("box of size %d" % size)
                    if len(buf) < size:
                        break
                    if kind == b"prft":
                        pending = prft_wallclock(buf[8:size])
                    elif kind == b"mdat" and pending is not None:
                        # The frame is whole once its mdat is here.
                        self.frames.append((now, pending))
                        pending = None
                    buf = buf[size:]
            self.complete = True
        except (OSError, http.client.HTTPException, ValueError) as e:
            # An answer cut off without its terminating chunk (the followed
            # upload failed) ends here too.
            self.error = "%s: %s" % (type(e).__name__, e)
        finally:
            conn.close()


def mpd_schedule(url, wait_s):
    """(availabilityStartTime in Unix s, availabilityTimeOffset in s or None), polling
    until the MPD is there."""
    parts = urllib.parse.urlsplit(url)
    end = time.time() + wait_s
    while True:
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=5)
            conn.request("GET", parts.path)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            conn.close()
            m = resp.status == 200 and re.search(r'availabilityStartTime="([^"]+)"', text)
            if m:
                ast = datetime.datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
                if ast.tzinfo is None:
                    ast = ast.replace(tzinfo=datetime.timezone.utc)
                o = re.search(r'availabilityTimeOffset="([0-9.]+)"', text)
                return ast.timestamp(), float(o.group(1)) if o else None
        except (OSError, http.client.HTTPException, ValueError):
            pass
        if time.time() > end:
            raise SystemExit("no MPD with an availabilityStartTime at %s" % url)
        time.sleep(0.2)


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="segment URL with one %%d-style number field")
    ap.add_argument("--mpd", help="take availabilityStartTime and availabilityTimeOffset from it")
    ap.add_argument("--ast-ms", type=int, help="availability start time, Unix ms (without --mpd)")
    ap.add_argument("--segment-ms", type=int, default=2000)
    ap.add_argument("--start-number", type=int, default=1)
    ap.add_argument("--frame-ms", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--first-segment", type=int, default=0, help="0: the next one to start")
    args = ap.parse_args()

    d = args.segment_ms / 1000.0
    deadline = time.time() + args.seconds
    if args.mpd:
        ast, offset = mpd_schedule(args.mpd, args.seconds)
        if offset is None:
            offset = 0.0
    elif args.ast_ms is not None:
        ast, offset = args.ast_ms / 1000.0, d - args.frame_ms / 1000.0
    else:
        ap.error("give --mpd or --ast-ms")
    print("availabilityStartTime %s, availabilityTimeOffset %.3f s%s" % (
        datetime.datetime.fromtimestamp(ast, datetime.timezone.utc).isoformat(timespec="milliseconds"),
        offset, " (from the MPD)" if args.mpd else ""), flush=True)

    def starts(n):
        return ast + (n - args.start_number) * d

    n = args.first_segment
    if n == 0:
        n = args.start_number + max(0, int((time.time() - ast) // d) + 1)
    readers, threads = [], []
    while True:
        ask = starts(n) + d - offset
        if ask >= deadline:
            break
        delay = ask - time.time()
        if delay > 0:
            time.sleep(delay)
        attempts = [SegmentReader(args.url % n, time.time())]

        def read(attempts=attempts):
            # Like a player, ask again at once when an answer is cut off (the
            # followed upload failed): the origin then follows another pipeline.
            attempts[0].run()
            while (len(attempts) < 3 and attempts[-1].status == 200
                   and not attempts[-1].complete):
                attempts.append(SegmentReader(attempts[0].url, time.time()))
                attempts[-1].run()

        t = threading.Thread(target=read, daemon=True)
        t.start()
        readers.append((n, attempts))
        threads.append(t)
        n += 1
    for t in threads:
        t.join(timeout=2 * d + 15)

    all_lat = []
    ttfb = []
    incomplete = 0
    retried = []
    for n, attempts in readers:
        r = attempts[0]
        lat = [(arrived - produced) * 1000 for arrived, produced in r.frames]
        all_lat += lat
        if r.first_byte is not None:
            ttfb.append((r.first_byte - r.asked_at) * 1000)
        if r.status == 200 and not r.complete:
            incomplete += 1
        line = "segment %d: %s" % (n, r.status if r.status is not None else "no answer")
        if r.pipeline:
            line += " from %s" % r.pipeline
        if r.first_byte is not None:
            line += ", first byte %.0f ms after asking" % ((r.first_byte - r.asked_at) * 1000)
        if lat:
            line += ", %d frames behind the encoder by %.0f..%.0f ms (median %.0f)" % (
                len(lat), min(lat), max(lat), statistics.median(lat))
        elif r.status == 200:
            line += ", %d bytes, no prft box" % r.bytes
        if r.error:
            line += ", ended early (%s)" % r.error
        for again in attempts[1:]:
            got = [(arrived - produced) * 1000 for arrived, produced in again.frames]
            retried += got
            line += "; asked again: %s from %s, %d frames%s" % (
                again.status, again.pipeline or "-", len(got),
                ", complete" if again.complete else ", ended early too")
        print(line, flush=True)

    print()
    if not all_lat:
        print("no frame measured: is the event low_latency and ffmpeg run with -write_prft 1?")
        return 1
    print("behind the encoder, over %d frames of %d segments: median %.0f ms, p95 %.0f ms, max %.0f ms"
          % (len(all_lat), len(readers), statistics.median(all_lat), percentile(all_lat, 0.95),
             max(all_lat)))
    if ttfb:
        print("first byte after asking (segment just started): median %.0f ms, p95 %.0f ms, max %.0f ms"
              % (statistics.median(ttfb), percentile(ttfb, 0.95), max(ttfb)))
    print("segments cut off before their end: %d" % incomplete)
    if retried:
        print("frames of segments asked again after a cut-off (not in the figures above, they"
              " were produced before the second request): %d" % len(retried))
    return 0


if __name__ == "__main__":
    sys.exit(main())
