#include "record_codec.h"

#include <nlohmann/json.hpp>

namespace liveorigin::storage {

using nlohmann::json;

std::string EncodeCandidate(const CandidateRecord& r) {
  json tracks = json::array();
  for (const auto& t : r.tracks) {
    tracks.push_back({{"id", t.track_id},
                      {"ts", t.timescale},
                      {"bdt", t.base_decode_time},
                      {"dur", t.duration},
                      {"n", t.sample_count},
                      {"maxd", t.max_sample_duration}});
  }
  json j = {{"v", 1},
            {"event", r.id.event},
            {"path", r.id.path},
            {"rendition", r.id.rendition},
            {"pipeline", r.id.pipeline},
            {"kind", static_cast<int>(r.kind)},
            {"ctype", r.content_type},
            {"size", r.size},
            {"etag", r.etag},
            {"ingest_ms", r.ingest_unix_ms},
            {"hdef", r.header_defects},
            {"odef", r.origin_defects},
            {"inspected", r.inspected},
            {"lmsg", r.last_segment},
            {"note", r.inspection_note},
            {"tracks", std::move(tracks)}};
  if (r.id.number) j["number"] = *r.id.number;
  return j.dump();
}

Result<CandidateRecord> DecodeCandidate(std::string_view value) {
  try {
    const json j = json::parse(value);
    CandidateRecord r;
    r.id.event = j.at("event").get<std::string>();
    r.id.path = j.at("path").get<std::string>();
    r.id.rendition = j.at("rendition").get<std::string>();
    r.id.pipeline = j.at("pipeline").get<std::string>();
    if (j.contains("number")) r.id.number = j.at("number").get<uint64_t>();
    r.kind = static_cast<ObjectKind>(j.at("kind").get<int>());
    r.content_type = j.at("ctype").get<std::string>();
    r.size = j.at("size").get<uint64_t>();
    r.etag = j.at("etag").get<std::string>();
    r.ingest_unix_ms = j.at("ingest_ms").get<int64_t>();
    r.header_defects = j.at("hdef").get<std::vector<std::string>>();
    r.origin_defects = j.at("odef").get<std::vector<std::string>>();
    r.inspected = j.value("inspected", false);
    r.last_segment = j.value("lmsg", false);
    r.inspection_note = j.value("note", std::string());
    for (const auto& t : j.at("tracks")) {
      TrackTiming tt;
      tt.track_id = t.at("id").get<uint32_t>();
      tt.timescale = t.at("ts").get<uint32_t>();
      tt.base_decode_time = t.at("bdt").get<uint64_t>();
      tt.duration = t.at("dur").get<uint64_t>();
      tt.sample_count = t.at("n").get<uint64_t>();
      tt.max_sample_duration = t.at("maxd").get<uint32_t>();
      r.tracks.push_back(tt);
    }
    return r;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("undecodable candidate record: ") + e.what());
  }
}

std::string EncodeSelection(const SelectionRecord& s) {
  return json{{"event", s.event},       {"rendition", s.rendition}, {"number", s.number},
              {"pipeline", s.pipeline}, {"etag", s.etag}}
      .dump();
}

Result<SelectionRecord> DecodeSelection(std::string_view value) {
  try {
    const json j = json::parse(value);
    SelectionRecord s;
    s.event = j.at("event").get<std::string>();
    s.rendition = j.at("rendition").get<std::string>();
    s.number = j.at("number").get<uint64_t>();
    s.pipeline = j.at("pipeline").get<std::string>();
    s.etag = j.at("etag").get<std::string>();
    return s;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("undecodable selection record: ") + e.what());
  }
}

}  // namespace liveorigin::storage
