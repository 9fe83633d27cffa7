#!/usr/bin/env bash
# Regenerates the small ISO-BMFF / CMAF fixtures in tests/fixtures/media/ with
# ffmpeg 5.1 (libx264 + aac, falling back to mpeg4 when libx264 is missing).
#
# Usage: scripts/make-media-fixtures.sh
#
# Output is deterministic for a given ffmpeg/x264 build: synthetic lavfi
# sources, single-threaded encoders and the -bitexact flags. Fixtures are kept
# tiny (160x90, very low quality, 1 s segments) because they are committed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/tests/fixtures/media"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

command -v ffmpeg >/dev/null || { echo "ffmpeg not found" >&2; exit 1; }

if ffmpeg -hide_banner -encoders 2>/dev/null | grep -q ' libx264 '; then
  VCODEC=(-c:v libx264 -preset veryfast -tune zerolatency -profile:v baseline
          -threads 1 -crf 45)
else
  VCODEC=(-c:v mpeg4 -threads 1 -q:v 31)
fi

# Two seconds of input, 1 s GOPs at 25 fps, so every segment is exactly 1 s.
INPUTS=(-f lavfi -i "testsrc2=size=160x90:rate=25"
        -f lavfi -i "sine=frequency=440:sample_rate=48000")
COMMON=(-hide_banner -loglevel error -y -fflags +bitexact)
ENC=(-t 2 "${VCODEC[@]}" -g 25 -keyint_min 25 -sc_threshold 0 -pix_fmt yuv420p
     -flags:v +bitexact -c:a aac -b:a 24k -ac 1 -flags:a +bitexact
     -map 0:v -map 1:a)

# 1. DASH CMAF, video and audio in separate adaptation sets.
mkdir -p "$WORK/dash"
(cd "$WORK/dash" && ffmpeg "${COMMON[@]}" "${INPUTS[@]}" "${ENC[@]}" \
  -f dash -seg_duration 1 -use_template 1 -use_timeline 0 \
  -adaptation_sets "id=0,streams=v id=1,streams=a" \
  -init_seg_name 'init-$RepresentationID$.m4s' \
  -media_seg_name 'chunk-$RepresentationID$-$Number%05d$.m4s' \
  out.mpd)

# 2. Low-latency DASH: one moof+mdat pair per frame.
mkdir -p "$WORK/ldash"
(cd "$WORK/ldash" && ffmpeg "${COMMON[@]}" "${INPUTS[@]}" "${ENC[@]}" \
  -f dash -seg_duration 1 -use_template 1 -use_timeline 0 \
  -ldash 1 -streaming 1 -frag_type every_frame \
  -adaptation_sets "id=0,streams=v id=1,streams=a" \
  -init_seg_name 'init-$RepresentationID$.m4s' \
  -media_seg_name 'chunk-$RepresentationID$-$Number%05d$.m4s' \
  out.mpd)

# 3. HLS fMP4, audio and video muxed in one rendition.
mkdir -p "$WORK/hls"
(cd "$WORK/hls" && ffmpeg "${COMMON[@]}" "${INPUTS[@]}" "${ENC[@]}" \
  -f hls -hls_time 1 -hls_list_size 0 -hls_segment_type fmp4 \
  -hls_fmp4_init_filename init.mp4 -hls_segment_filename 'seg%d.m4s' \
  out.m3u8)

mkdir -p "$OUT"
rm -f "$OUT"/*.mp4 "$OUT"/*.m4s
cp "$WORK/dash/init-0.m4s" "$OUT/dash_video_init.mp4"
cp "$WORK/dash/init-1.m4s" "$OUT/dash_audio_init.mp4"
cp "$WORK/dash/chunk-0-00001.m4s" "$OUT/dash_video_1.m4s"
cp "$WORK/dash/chunk-0-00002.m4s" "$OUT/dash_video_2.m4s"
cp "$WORK/dash/chunk-1-00001.m4s" "$OUT/dash_audio_1.m4s"
cp "$WORK/dash/chunk-1-00002.m4s" "$OUT/dash_audio_2.m4s"
cp "$WORK/ldash/init-0.m4s" "$OUT/ldash_video_init.mp4"
cp "$WORK/ldash/chunk-0-00001.m4s" "$OUT/ldash_video_1.m4s"
cp "$WORK/hls/init.mp4" "$OUT/hls_muxed_init.mp4"
cp "$WORK/hls/seg0.m4s" "$OUT/hls_muxed_0.m4s"

ls -l "$OUT"
du -sh "$OUT"
