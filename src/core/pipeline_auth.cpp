#include "liveorigin/core/pipeline_auth.h"

#include "liveorigin/common/bytes.h"

namespace liveorigin::core {
namespace {

AuthOutcome Refuse(int status, std::string message) {
  return AuthOutcome{status, {}, std::move(message)};
}

AuthOutcome Identified(std::string pipeline) { return AuthOutcome{0, std::move(pipeline), {}}; }

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

}  // namespace

AuthOutcome IdentifyPipeline(const config::EventConfig& event, const Request& request) {
  const bool tokens = event.AnyPipelineHasToken();
  if (auto auth = request.Header("Authorization")) {
    std::string_view value = *auth;
    if (StartsWithIgnoreCase(value, "Basic ")) {
      value.remove_prefix(6);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      const auto decoded = Base64Decode(value);
      if (!decoded) return Refuse(401, "malformed Basic credentials");
      const size_t colon = decoded->find(':');
      const std::string id = decoded->substr(0, colon);
      const std::string secret = colon == std::string::npos ? "" : decoded->substr(colon + 1);
      const int index = event.PipelineIndex(id);
      if (index < 0) return Refuse(403, "unknown pipeline '" + id + "'");
      const auto& pipeline = event.pipelines[static_cast<size_t>(index)];
      if (pipeline.token) {
        if (!ConstantTimeEquals(secret, *pipeline.token)) {
          return Refuse(403, "wrong token for pipeline '" + id + "'");
        }
      } else if (tokens) {
        return Refuse(403, "pipeline '" + id +
                               "' has no token but other pipelines of this event do; give it one");
      }
      return Identified(id);
    }
    if (StartsWithIgnoreCase(value, "Bearer ")) {
      value.remove_prefix(7);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      // Check every pipeline so the time does not depend on which one matches.
      const config::PipelineConfig* match = nullptr;
      for (const auto& p : event.pipelines) {
        if (p.token && ConstantTimeEquals(value, *p.token) && !match) match = &p;
      }
      if (!match) return Refuse(403, "bearer token matches no pipeline of this event");
      return Identified(match->id);
    }
    return Refuse(401, "unsupported Authorization scheme (use Basic or Bearer)");
  }
  if (tokens) return Refuse(401, "credentials required: this event's pipelines have tokens");
  if (auto named = request.Header("X-Live-Pipeline")) {
    const std::string id(*named);
    if (event.PipelineIndex(id) < 0) return Refuse(403, "unknown pipeline '" + id + "'");
    return Identified(id);
  }
  if (event.pipelines.size() == 1) return Identified(event.pipelines.front().id);
  return Refuse(401,
                "this event has several pipelines: name yours with X-Live-Pipeline or Basic auth");
}

}  // namespace liveorigin::core
