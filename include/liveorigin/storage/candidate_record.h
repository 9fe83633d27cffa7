// What the store keeps about one candidate (one pipeline's copy of one object),
// besides its bytes. Plain value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace liveorigin::storage {

// Identifies one candidate. Segments are keyed by (rendition, number) so a
// rendition's range can be scanned and deleted cheaply; other objects by path.
struct CandidateId {
  std::string event;
  std::string path;                // request path below the event, e.g. "video/42.m4s"
  std::string rendition;           // segments only
  std::optional<uint64_t> number;  // set for segments
  std::string pipeline;

  bool is_segment() const { return number.has_value(); }
};

// Timing of one track of an inspected media segment (or, for init segments,
// just track_id and timescale).
struct TrackTiming {
  uint32_t track_id = 0;
  uint32_t timescale = 0;
  uint64_t base_decode_time = 0;
  uint64_t duration = 0;  // in timescale units
  uint64_t sample_count = 0;
  uint32_t max_sample_duration = 0;
};

enum class ObjectKind : uint8_t { kSegment = 0, kInit = 1, kOther = 2 };

struct CandidateRecord {
  CandidateId id;
  ObjectKind kind = ObjectKind::kOther;
  std::string content_type;
  uint64_t size = 0;
  std::string etag;            // content hash, without quotes
  int64_t ingest_unix_ms = 0;  // when the PUT completed
  // When the first body byte of the PUT arrived (CMSD `at`); 0 = unknown
  // (records stored before it was recorded), read as ingest_unix_ms.
  int64_t first_byte_unix_ms = 0;
  std::vector<std::string> header_defects;  // X-Live-Defects tokens as sent
  std::vector<std::string> origin_defects;  // tags from the origin's own inspection
  bool inspected = false;                   // media inspection ran
  bool last_segment = false;                // styp lmsg
  std::string inspection_note;              // why a tag was added, or why inspection was skipped
  std::vector<TrackTiming> tracks;
  // CTA-5006 object type of a media segment from its tracks (v, a, av, c);
  // empty when unknown or not a segment.
  std::string object_type;
  // Raw SHA-256 of the bytes when it was verified at ingest (Content-Digest);
  // empty otherwise. Saves hashing again for Repr-Digest.
  std::string sha256;

  // header_defects ∪ origin_defects, in a stable order, without duplicates.
  std::vector<std::string> AllDefects() const;
};

// The sticky choice for one segment: once a clean candidate has been served,
// the same bytes are served for that URL forever.
struct SelectionRecord {
  std::string event;
  std::string rendition;
  uint64_t number = 0;
  std::string pipeline;
  std::string etag;
};

}  // namespace liveorigin::storage
