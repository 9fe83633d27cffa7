#include "record_codec.h"

#include <cstring>

namespace liveorigin::storage {
namespace {

// Compact binary encoding: a version byte, then fields in a fixed order;
// integers as LEB128 varints, strings and lists length-prefixed. Decoding
// checks every length against the bytes left, so a damaged value is a
// Corruption status, never a crash.
// Version 3 appends first_byte_unix_ms, object_type and sha256 to version 2;
// version 2 records (stored before) still decode, with those fields empty.
constexpr uint8_t kCandidateVersion = 3;
constexpr uint8_t kCandidateVersion2 = 2;
constexpr uint8_t kSelectionVersion = 2;
constexpr uint8_t kOperatorVersion = 1;  // pipeline controls, forced selections, audit

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void Var(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void I64(int64_t v) { Var((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void Str(std::string_view s) {
    Var(s.size());
    out_.append(s);
  }
  void Strs(const std::vector<std::string>& v) {
    Var(v.size());
    for (const auto& s : v) Str(s);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U8(uint8_t* v) {
    if (in_.empty()) return false;
    *v = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    return true;
  }
  bool Var(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b;
      if (!U8(&b)) return false;
      result |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  template <typename T>
  bool Uint(T* v) {
    uint64_t x;
    if (!Var(&x) || x > std::numeric_limits<T>::max()) return false;
    *v = static_cast<T>(x);
    return true;
  }
  bool I64(int64_t* v) {
    uint64_t x;
    if (!Var(&x)) return false;
    *v = static_cast<int64_t>((x >> 1) ^ (~(x & 1) + 1));
    return true;
  }
  bool Str(std::string* s) {
    uint64_t n;
    if (!Var(&n) || n > in_.size()) return false;
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool Strs(std::vector<std::string>* v) {
    uint64_t n;
    if (!Var(&n) || n > in_.size()) return false;  // each string takes at least one byte
    v->resize(n);
    for (auto& s : *v) {
      if (!Str(&s)) return false;
    }
    return true;
  }
  bool Done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

void WriteActor(Writer& w, const OperatorActor& a) {
  w.I64(a.at_unix_ms);
  w.Str(a.node);
  w.Str(a.remote);
  w.Str(a.token_id);
}

bool ReadActor(Reader& in, OperatorActor* a) {
  return in.I64(&a->at_unix_ms) && in.Str(&a->node) && in.Str(&a->remote) && in.Str(&a->token_id);
}

}  // namespace

std::string EncodeCandidate(const CandidateRecord& r) {
  Writer w;
  w.U8(kCandidateVersion);
  w.Str(r.id.event);
  w.Str(r.id.path);
  w.Str(r.id.rendition);
  w.Str(r.id.pipeline);
  w.U8(r.id.number ? 1 : 0);
  if (r.id.number) w.Var(*r.id.number);
  w.U8(static_cast<uint8_t>(r.kind));
  w.Str(r.content_type);
  w.Var(r.size);
  w.Str(r.etag);
  w.I64(r.ingest_unix_ms);
  w.Strs(r.header_defects);
  w.Strs(r.origin_defects);
  w.U8(static_cast<uint8_t>((r.inspected ? 1 : 0) | (r.last_segment ? 2 : 0)));
  w.Str(r.inspection_note);
  w.Var(r.tracks.size());
  for (const auto& t : r.tracks) {
    w.Var(t.track_id);
    w.Var(t.timescale);
    w.Var(t.base_decode_time);
    w.Var(t.duration);
    w.Var(t.sample_count);
    w.Var(t.max_sample_duration);
  }
  w.I64(r.first_byte_unix_ms);
  w.Str(r.object_type);
  w.Str(r.sha256);
  return w.Take();
}

Result<CandidateRecord> DecodeCandidate(std::string_view value) {
  Reader in(value);
  CandidateRecord r;
  uint8_t version = 0, has_number = 0, kind = 0, flags = 0;
  uint64_t tracks = 0;
  bool ok = in.U8(&version) && (version == kCandidateVersion || version == kCandidateVersion2) &&
            in.Str(&r.id.event) && in.Str(&r.id.path) && in.Str(&r.id.rendition) &&
            in.Str(&r.id.pipeline) && in.U8(&has_number);
  if (ok && has_number) {
    uint64_t n;
    ok = in.Var(&n);
    r.id.number = n;
  }
  ok = ok && in.U8(&kind) && kind <= static_cast<uint8_t>(ObjectKind::kOther) &&
       in.Str(&r.content_type) && in.Var(&r.size) && in.Str(&r.etag) && in.I64(&r.ingest_unix_ms) &&
       in.Strs(&r.header_defects) && in.Strs(&r.origin_defects) && in.U8(&flags) &&
       in.Str(&r.inspection_note) && in.Var(&tracks) && tracks <= value.size();
  for (uint64_t i = 0; ok && i < tracks; ++i) {
    TrackTiming t;
    ok = in.Uint(&t.track_id) && in.Uint(&t.timescale) && in.Var(&t.base_decode_time) &&
         in.Var(&t.duration) && in.Var(&t.sample_count) && in.Uint(&t.max_sample_duration);
    r.tracks.push_back(t);
  }
  if (ok && version >= 3) {
    ok = in.I64(&r.first_byte_unix_ms) && in.Str(&r.object_type) && in.Str(&r.sha256);
  }
  if (!ok || !in.Done()) {
    return Status::Corruption("undecodable candidate record (" + std::to_string(value.size()) +
                              " bytes, version " + std::to_string(version) + ")");
  }
  r.kind = static_cast<ObjectKind>(kind);
  r.inspected = flags & 1;
  r.last_segment = flags & 2;
  return r;
}

std::string EncodeSelection(const SelectionRecord& s) {
  Writer w;
  w.U8(kSelectionVersion);
  w.Str(s.event);
  w.Str(s.rendition);
  w.Var(s.number);
  w.Str(s.pipeline);
  w.Str(s.etag);
  return w.Take();
}

Result<SelectionRecord> DecodeSelection(std::string_view value) {
  Reader in(value);
  SelectionRecord s;
  uint8_t version = 0;
  if (!in.U8(&version) || version != kSelectionVersion || !in.Str(&s.event) ||
      !in.Str(&s.rendition) || !in.Var(&s.number) || !in.Str(&s.pipeline) || !in.Str(&s.etag) ||
      !in.Done()) {
    return Status::Corruption("undecodable selection record");
  }
  return s;
}

std::string EncodePipelineControl(const PipelineControlRecord& r) {
  Writer w;
  w.U8(kOperatorVersion);
  w.Str(r.event);
  w.Str(r.pipeline);
  w.U8(r.disabled ? 1 : 0);
  WriteActor(w, r.changed);
  return w.Take();
}

Result<PipelineControlRecord> DecodePipelineControl(std::string_view value) {
  Reader in(value);
  PipelineControlRecord r;
  uint8_t version = 0, disabled = 0;
  if (!in.U8(&version) || version != kOperatorVersion || !in.Str(&r.event) ||
      !in.Str(&r.pipeline) || !in.U8(&disabled) || disabled > 1 || !ReadActor(in, &r.changed) ||
      !in.Done()) {
    return Status::Corruption("undecodable pipeline control record");
  }
  r.disabled = disabled == 1;
  return r;
}

std::string EncodeForcedSelection(const ForcedSelectionRecord& r) {
  Writer w;
  w.U8(kOperatorVersion);
  w.Str(r.event);
  w.Str(r.path);
  w.Str(r.rendition);
  w.U8(r.number ? 1 : 0);
  if (r.number) w.Var(*r.number);
  w.Str(r.pipeline);
  w.Str(r.etag);
  w.Str(r.previous_pipeline);
  w.Str(r.previous_etag);
  WriteActor(w, r.changed);
  return w.Take();
}

Result<ForcedSelectionRecord> DecodeForcedSelection(std::string_view value) {
  Reader in(value);
  ForcedSelectionRecord r;
  uint8_t version = 0, has_number = 0;
  bool ok = in.U8(&version) && version == kOperatorVersion && in.Str(&r.event) && in.Str(&r.path) &&
            in.Str(&r.rendition) && in.U8(&has_number) && has_number <= 1;
  if (ok && has_number) {
    uint64_t n = 0;
    ok = in.Var(&n);
    r.number = n;
  }
  ok = ok && in.Str(&r.pipeline) && in.Str(&r.etag) && in.Str(&r.previous_pipeline) &&
       in.Str(&r.previous_etag) && ReadActor(in, &r.changed) && in.Done();
  if (!ok) return Status::Corruption("undecodable forced selection record");
  return r;
}

std::string EncodeAudit(const AuditRecord& r) {
  Writer w;
  w.U8(kOperatorVersion);
  w.Str(r.event);
  w.Var(r.sequence);
  w.Str(r.action);
  w.Str(r.pipeline);
  w.Str(r.path);
  w.Str(r.old_etag);
  w.Str(r.new_etag);
  WriteActor(w, r.actor);
  return w.Take();
}

Result<AuditRecord> DecodeAudit(std::string_view value) {
  Reader in(value);
  AuditRecord r;
  uint8_t version = 0;
  if (!in.U8(&version) || version != kOperatorVersion || !in.Str(&r.event) ||
      !in.Var(&r.sequence) || !in.Str(&r.action) || !in.Str(&r.pipeline) || !in.Str(&r.path) ||
      !in.Str(&r.old_etag) || !in.Str(&r.new_etag) || !ReadActor(in, &r.actor) || !in.Done()) {
    return Status::Corruption("undecodable audit record");
  }
  return r;
}

}  // namespace liveorigin::storage
