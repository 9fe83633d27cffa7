// Key layout shared by the store implementations (private to storage).
//
//   candidate, segment:  's' event 0x00 rendition 0x00 be64(number) pipeline
//   candidate, other:    'o' event 0x00 path 0x00 pipeline
//   sticky selection:    'x' event 0x00 rendition 0x00 be64(number)
//   pipeline control:    'p' event 0x00 pipeline
//   forced, segment:     'f' event 0x00 rendition 0x00 be64(number)
//   forced, other:       'g' event 0x00 path
//   audit entry:         'a' event 0x00 be64(unix ms) node 0x00 be64(sequence)
//
// Names never contain 0x00 (request paths with NUL are refused), so keys of one
// event and rendition form one contiguous range ordered by number.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "liveorigin/storage/candidate_record.h"
#include "liveorigin/storage/operator_records.h"

namespace liveorigin::storage::keys {

inline void AppendBe64(std::string* s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

inline std::string SegmentPrefix(char tag, std::string_view event, std::string_view rendition) {
  std::string k;
  k.reserve(event.size() + rendition.size() + 11);
  k.push_back(tag);
  k.append(event);
  k.push_back('\0');
  k.append(rendition);
  k.push_back('\0');
  return k;
}

inline std::string SegmentKey(char tag, std::string_view event, std::string_view rendition,
                              uint64_t number) {
  std::string k = SegmentPrefix(tag, event, rendition);
  AppendBe64(&k, number);
  return k;
}

inline std::string ObjectPrefix(std::string_view event, std::string_view path) {
  std::string k;
  k.push_back('o');
  k.append(event);
  k.push_back('\0');
  k.append(path);
  k.push_back('\0');
  return k;
}

inline std::string CandidateKey(const CandidateId& id) {
  std::string k = id.number ? SegmentKey('s', id.event, id.rendition, *id.number)
                            : ObjectPrefix(id.event, id.path);
  k.append(id.pipeline);
  return k;
}

inline std::string SelectionKey(std::string_view event, std::string_view rendition,
                                uint64_t number) {
  return SegmentKey('x', event, rendition, number);
}

inline std::string PipelineControlKey(std::string_view event, std::string_view pipeline) {
  std::string k;
  k.push_back('p');
  k.append(event);
  k.push_back('\0');
  k.append(pipeline);
  return k;
}

inline std::string ForcedObjectKey(std::string_view event, std::string_view path) {
  std::string k;
  k.push_back('g');
  k.append(event);
  k.push_back('\0');
  k.append(path);
  return k;
}

inline std::string ForcedKey(const ForcedSelectionRecord& r) {
  return r.number ? SegmentKey('f', r.event, r.rendition, *r.number)
                  : ForcedObjectKey(r.event, r.path);
}

inline std::string AuditKey(const AuditRecord& r) {
  std::string k;
  k.push_back('a');
  k.append(r.event);
  k.push_back('\0');
  AppendBe64(&k, static_cast<uint64_t>(r.actor.at_unix_ms));
  k.append(r.actor.node);
  k.push_back('\0');
  AppendBe64(&k, r.sequence);
  return k;
}

}  // namespace liveorigin::storage::keys
