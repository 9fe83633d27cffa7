// libFuzzer target for the RFC 8941 structured-field parser and the RFC 9530
// digest fields built on it.
//
// Whatever the input: no crash; a value that parses serialises, and the
// serialisation is a fixed point (parse → serialise → parse → serialise gives
// the same text), for Dictionaries, Lists and Items alike.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "liveorigin/common/structured_fields.h"
#include "liveorigin/core/content_digest.h"

namespace {

namespace sf = liveorigin::sf;

#define Check(condition) CheckAt(condition, #condition, __LINE__)
void CheckAt(bool ok, const char* what, int line) {
  if (ok) return;
  std::fprintf(stderr, "invariant failed at %s:%d: %s\n", __FILE__, line, what);
  __builtin_trap();
}

template <typename Parse, typename Serialize>
void RoundTrip(std::string_view input, Parse parse, Serialize serialize) {
  auto parsed = parse(input);
  if (!parsed.ok()) return;
  auto first = serialize(*parsed);
  Check(first.ok());
  auto again = parse(*first);
  Check(again.ok());
  auto second = serialize(*again);
  Check(second.ok());
  Check(*first == *second);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  RoundTrip(input, sf::ParseDictionary, sf::SerializeDictionary);
  RoundTrip(input, sf::ParseList, sf::SerializeList);
  RoundTrip(input, sf::ParseItem, [](const sf::Item& item) -> liveorigin::Result<std::string> {
    return sf::SerializeList({item});
  });
  auto digests = liveorigin::core::ParseDigestField(input);
  if (digests.ok()) {
    for (const auto& d : *digests) Check(d.value.size() == 32 || d.value.size() == 64);
  }
  (void)liveorigin::core::WantsSha256(input);
  return 0;
}
