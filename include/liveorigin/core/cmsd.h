// Common Media Server Data (CTA-5006) for delivery answers (SPEC §11):
// CMSD-Static, the per-object keys a CDN or player may keep, and
// CMSD-Dynamic, the per-response keys of this node.
//
// Both are RFC 8941 structured fields. CMSD-Static is a Dictionary written
// in key order without the optional space after commas (RFC 8941 parsers
// accept it, and the simple splitters of some players need it); CMSD-Dynamic
// is a List with one member per intermediary, here one: the node name as a
// String with the node's keys as parameters. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "liveorigin/config/config.h"
#include "liveorigin/media/iso_bmff.h"
#include "liveorigin/storage/candidate_record.h"

namespace liveorigin::core {

struct CmsdStatic {
  std::optional<int64_t> availability_ms;  // at: ms since the epoch
  std::optional<int64_t> bitrate_kbps;     // br
  std::optional<int64_t> duration_ms;      // d
  std::string node;                        // n: intermediary identifier
  std::string next_object;                 // nor: relative reference; empty = omitted
  std::string object_type;                 // ot: v a av i m c; empty = omitted
  bool live = true;                        // st=l
};

// "at=…,br=…,d=…,n=\"…\",nor=\"…\",ot=v,st=l"; keys whose value is absent are
// left out. Values that a structured field cannot carry are left out too.
std::string SerializeCmsdStatic(const CmsdStatic& fields);

// The CMSD-Static keys of one stored candidate: `at` is when its first byte
// arrived; segments add `d` (the event's segment duration), `br` (from size
// and d, rounded) and `nor` (the next number's path relative to this one,
// absent after an lmsg segment); `ot` comes from the candidate's object_type,
// init segments are `i`, manifests and playlists `m`, captions `c`.
CmsdStatic CmsdStaticFor(const storage::CandidateRecord& record, const config::EventConfig& event,
                         std::string_view node);

// The CMSD-Static keys of an upload still arriving that a GET follows (SPEC
// §9): `at` is `first_byte_unix_ms`; `d`, `n`, `nor` and `st` as for the
// stored candidate. No `br` (the size is not known until the end) and no `ot`
// (the upload is inspected when it is complete).
CmsdStatic CmsdStaticForUpload(const storage::CandidateId& id, storage::ObjectKind kind,
                               const config::EventConfig& event, std::string_view node,
                               int64_t first_byte_unix_ms);

// The CTA-5006 object type of a media segment from the handlers of its
// tracks in the init segment (`init` may be null): "av", "v", "a", "c", or
// by content type (audio/… → a, text/vtt and TTML → c); "" when unknown.
std::string MediaObjectType(const storage::CandidateRecord& record,
                            const media::InitSegmentInfo* init);

// `to` as a reference relative to `from` (both paths below the same base,
// without a leading '/'), percent-encoding what a URL path may not hold:
// "v/42.m4s" → "v/43.m4s" gives "43.m4s"; "a/1/x.m4s" → "a/2/x.m4s" gives
// "../2/x.m4s".
std::string RelativeReference(std::string_view from, std::string_view to);

// The node's fixed part of CMSD-Dynamic: its name as a String ("\"node\"").
std::string CmsdDynamicPrefix(std::string_view node);
// One CMSD-Dynamic value: prefix;rd=<ms>[;du].
std::string SerializeCmsdDynamic(std::string_view prefix, int64_t response_delay_ms, bool duress);

}  // namespace liveorigin::core
