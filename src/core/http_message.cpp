#include "liveorigin/core/http_message.h"

#include <nlohmann/json.hpp>

namespace liveorigin::core {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::optional<std::string_view> Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

void Response::SetHeader(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string_view> Response::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

void Response::SetBody(std::string text, std::string content_type) {
  length = text.size();
  offset = 0;
  body = std::make_shared<const std::string>(std::move(text));
  SetHeader("Content-Type", std::move(content_type));
}

void Response::SetBody(Body b, uint64_t off, uint64_t len) {
  body = std::move(b);
  offset = off;
  length = len;
}

std::string_view Response::BodyView() const {
  if (!body) return {};
  return std::string_view(*body).substr(offset, length);
}

void Response::ToHeadResponse() {
  if (!head_length) head_length = length;
  body.reset();
  offset = 0;
  length = 0;
}

Response Response::Error(int status, std::string_view code, std::string_view message) {
  nlohmann::json j = {{"error", code}, {"message", message}};
  Response r;
  r.status = status;
  r.SetBody(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
            "application/json");
  r.SetHeader("Cache-Control", "no-store");
  return r;
}

Response Response::Json(int status, const std::string& json_text) {
  Response r;
  r.status = status;
  r.SetBody(json_text + "\n", "application/json");
  r.SetHeader("Cache-Control", "no-store");
  return r;
}

}  // namespace liveorigin::core
