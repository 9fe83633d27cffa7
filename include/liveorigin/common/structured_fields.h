// Structured Field Values for HTTP (RFC 8941): the parts liveorigin needs.
//
// Parsing follows the algorithms of RFC 8941 §4.2 for Lists, Dictionaries and
// Items (every bare item type, parameters, inner lists); a value that does not
// parse is an InvalidArgument status and, per the RFC, the whole field is
// then to be ignored or refused by the caller. Input is bounded by the
// caller's header limits; nothing is allocated beyond what the input holds.
//
// Serialisation writes the canonical form of RFC 8941 §4.1 and refuses values
// the format cannot carry (integers beyond 15 digits, strings with
// characters outside 0x20..0x7E, malformed keys and tokens).
//
// Pure functions on values; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "liveorigin/common/status.h"

namespace liveorigin::sf {

struct Token {
  std::string value;
  bool operator==(const Token&) const = default;
};
struct ByteSequence {
  std::string bytes;  // decoded
  bool operator==(const ByteSequence&) const = default;
};

// Integer, Decimal, String, Token, Byte Sequence, Boolean.
using BareItem = std::variant<int64_t, double, std::string, Token, ByteSequence, bool>;
using Parameters = std::vector<std::pair<std::string, BareItem>>;

struct Item {
  BareItem value;
  Parameters params;
};
struct InnerList {
  std::vector<Item> items;
  Parameters params;
};
using ListMember = std::variant<Item, InnerList>;
using List = std::vector<ListMember>;
// In order of first appearance; a repeated key keeps its first position and
// its last value (RFC 8941 §4.2.2).
using Dictionary = std::vector<std::pair<std::string, ListMember>>;

Result<List> ParseList(std::string_view input);
Result<Dictionary> ParseDictionary(std::string_view input);
Result<Item> ParseItem(std::string_view input);

// Appends the serialisation of one bare item / key to `out`.
Status SerializeBareItem(const BareItem& item, std::string* out);
Status SerializeKey(std::string_view key, std::string* out);
Status SerializeParameters(const Parameters& params, std::string* out);
Result<std::string> SerializeList(const List& list);
Result<std::string> SerializeDictionary(const Dictionary& dict);

// Builds a Dictionary field value member by member, in the order added. A
// Boolean true is written as the bare key (RFC 8941 §4.1.2). The first invalid
// member makes status() non-OK; later calls are ignored.
class DictionaryWriter {
 public:
  DictionaryWriter& Integer(std::string_view key, int64_t value);
  DictionaryWriter& String(std::string_view key, std::string_view value);
  DictionaryWriter& Token(std::string_view key, std::string_view value);
  DictionaryWriter& Boolean(std::string_view key, bool value);
  const Status& status() const { return status_; }
  // REQUIRES: status().ok()
  const std::string& value() const { return out_; }

 private:
  DictionaryWriter& Member(std::string_view key, const BareItem& value);
  std::string out_;
  Status status_;
};

}  // namespace liveorigin::sf
