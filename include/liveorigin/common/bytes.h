// Small byte-level helpers: content hashing, base64, constant-time comparison.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace liveorigin {

// 128-bit XXH3 of `data` as 32 lowercase hex characters; used for strong ETags.
std::string ContentHash(std::string_view data);

// Standard base64 (RFC 4648) decoding; nullopt on any invalid character or length.
std::optional<std::string> Base64Decode(std::string_view in);
std::string Base64Encode(std::string_view in);

// Compares in time that depends only on the lengths, not on where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace liveorigin
