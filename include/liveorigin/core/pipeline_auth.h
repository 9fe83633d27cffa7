// Which pipeline sent a PUT (SPEC §4.1).
#pragma once

#include <string>

#include "liveorigin/config/config.h"
#include "liveorigin/core/http_message.h"

namespace liveorigin::core {

struct AuthOutcome {
  int status = 0;        // 0 = identified; else 400/401/403
  std::string pipeline;  // when identified
  std::string message;   // why not (for the error body and the log)
};

// Rules, in order:
//  1. Authorization: Basic base64(pipeline-id:token)
//  2. Authorization: Bearer <token> — the pipeline whose token matches
//  3. X-Live-Pipeline: <id> — only when no pipeline of the event has a token
//  4. an event with exactly one pipeline and no token accepts anonymous PUTs
// With tokens configured: missing credentials → 401, wrong ones → 403.
// Tokens are compared in constant time and never appear in messages.
AuthOutcome IdentifyPipeline(const config::EventConfig& event, const Request& request);

}  // namespace liveorigin::core
