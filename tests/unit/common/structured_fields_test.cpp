// RFC 8941 structured fields: parsing per §4.2 (examples from the RFC and
// its failure cases) and canonical serialisation per §4.1.
#include "liveorigin/common/structured_fields.h"

#include <gtest/gtest.h>

namespace liveorigin::sf {
namespace {

const Item& AsItem(const ListMember& m) { return std::get<Item>(m); }

TEST(StructuredFieldsTest, ParsesDictionaryOfEveryBareItemType) {
  auto d = ParseDictionary(
      R"(a=1, b=-42, c=4.5, d="say \"hi\" \\ ok", e=tok/en:x, f=:aGVsbG8=:, g=?0, h, i=*star)");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->size(), 9u);
  EXPECT_EQ(std::get<int64_t>(AsItem((*d)[0].second).value), 1);
  EXPECT_EQ(std::get<int64_t>(AsItem((*d)[1].second).value), -42);
  EXPECT_DOUBLE_EQ(std::get<double>(AsItem((*d)[2].second).value), 4.5);
  EXPECT_EQ(std::get<std::string>(AsItem((*d)[3].second).value), R"(say "hi" \ ok)");
  EXPECT_EQ(std::get<Token>(AsItem((*d)[4].second).value).value, "tok/en:x");
  EXPECT_EQ(std::get<ByteSequence>(AsItem((*d)[5].second).value).bytes, "hello");
  EXPECT_EQ(std::get<bool>(AsItem((*d)[6].second).value), false);
  EXPECT_EQ((*d)[7].first, "h");
  EXPECT_EQ(std::get<bool>(AsItem((*d)[7].second).value), true);
  EXPECT_EQ(std::get<Token>(AsItem((*d)[8].second).value).value, "*star");
}

TEST(StructuredFieldsTest, ParsesParametersAndInnerLists) {
  auto d = ParseDictionary(R"(a=(1 2 "x");lvl=5, b;q=0.5;flag, c=:AQ==:;alg=sha)");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const auto& inner = std::get<InnerList>((*d)[0].second);
  ASSERT_EQ(inner.items.size(), 3u);
  EXPECT_EQ(std::get<std::string>(inner.items[2].value), "x");
  ASSERT_EQ(inner.params.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(inner.params[0].second), 5);
  const Item& b = AsItem((*d)[1].second);
  EXPECT_EQ(std::get<bool>(b.value), true);
  ASSERT_EQ(b.params.size(), 2u);
  EXPECT_EQ(b.params[1].first, "flag");
}

TEST(StructuredFieldsTest, RepeatedDictionaryKeyKeepsPositionTakesLastValue) {
  auto d = ParseDictionary("a=1, b=2, a=3");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[0].first, "a");
  EXPECT_EQ(std::get<int64_t>(AsItem((*d)[0].second).value), 3);
}

TEST(StructuredFieldsTest, ByteSequenceWithoutPaddingIsAccepted) {
  auto i = ParseItem(":aGVsbG8:");
  ASSERT_TRUE(i.ok()) << i.status().ToString();
  EXPECT_EQ(std::get<ByteSequence>(i->value).bytes, "hello");
}

TEST(StructuredFieldsTest, ParsesListsWithSurroundingSpaceAndTabsAfterCommas) {
  auto l = ParseList("  \"node-a\";rd=12;du,\t\"cdn\";rtt=3  ");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->size(), 2u);
  const Item& first = AsItem((*l)[0]);
  EXPECT_EQ(std::get<std::string>(first.value), "node-a");
  EXPECT_EQ(std::get<int64_t>(first.params[0].second), 12);
  EXPECT_EQ(std::get<bool>(first.params[1].second), true);
  EXPECT_TRUE(ParseList("").ok());
  EXPECT_TRUE(ParseList("")->empty());
}

TEST(StructuredFieldsTest, RefusesWhatRfc8941Refuses) {
  for (const char* bad : {
           "a=1,",                  // trailing comma
           "a=1,,b=2",              // empty member
           "A=1",                   // upper-case key
           "1a=1",                  // key starting with a digit
           "a=\"unterminated",      // string
           "a=\"bad \\n escape\"",  // escape of something else
           "a=\"tab\there\"",       // control character in a string
           "a=:not base64!:",       // byte sequence alphabet
           "a=:YQ==",               // unterminated byte sequence
           "a=?2",                  // boolean
           "a=1234567890123456",    // 16-digit integer
           "a=1.2345",              // 4 fractional digits
           "a=1.",                  // decimal ending in '.'
           "a=1234567890123.5",     // 13 integer digits in a decimal
           "a=(1 2",                // unterminated inner list
           "a=1 b=2",               // missing comma
           "a=@",                   // not a bare item
       }) {
    EXPECT_FALSE(ParseDictionary(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseItem("1 2").ok());
  EXPECT_FALSE(ParseList("\"a\" \"b\"").ok());
}

TEST(StructuredFieldsTest, SerialisesCanonically) {
  std::string out;
  ASSERT_TRUE(SerializeBareItem(BareItem(int64_t{-7}), &out).ok());
  ASSERT_TRUE(SerializeBareItem(BareItem(std::string("a\"b\\c")), &out).ok());
  ASSERT_TRUE(SerializeBareItem(BareItem(2.5), &out).ok());
  ASSERT_TRUE(SerializeBareItem(BareItem(1.0), &out).ok());
  ASSERT_TRUE(SerializeBareItem(BareItem(ByteSequence{"hello"}), &out).ok());
  ASSERT_TRUE(SerializeBareItem(BareItem(false), &out).ok());
  EXPECT_EQ(out, R"(-7"a\"b\\c"2.51.0:aGVsbG8=:?0)");

  Dictionary d;
  d.emplace_back("a", Item{BareItem(int64_t{1}), {}});
  d.emplace_back("b", Item{BareItem(true), {{"x", BareItem(true)}, {"y", BareItem(Token{"z"})}}});
  d.emplace_back("c",
                 InnerList{{Item{BareItem(int64_t{1}), {}}, Item{BareItem(int64_t{2}), {}}}, {}});
  auto s = SerializeDictionary(d);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "a=1, b;x;y=z, c=(1 2)");
  auto round = ParseDictionary(*s);
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->size(), 3u);
}

TEST(StructuredFieldsTest, SerialisationRefusesWhatTheFormatCannotCarry) {
  std::string out;
  EXPECT_FALSE(SerializeBareItem(BareItem(int64_t{1'000'000'000'000'000}), &out).ok());
  EXPECT_FALSE(SerializeBareItem(BareItem(std::string("caf\xc3\xa9")), &out).ok());
  EXPECT_FALSE(SerializeBareItem(BareItem(std::string("line\nbreak")), &out).ok());
  EXPECT_FALSE(SerializeBareItem(BareItem(Token{"1abc"}), &out).ok());
  EXPECT_FALSE(SerializeBareItem(BareItem(Token{"a b"}), &out).ok());
  EXPECT_FALSE(SerializeKey("Upper", &out).ok());
  EXPECT_FALSE(SerializeKey("", &out).ok());
}

TEST(StructuredFieldsTest, DictionaryWriterWritesCompactFormAndStopsAtTheFirstBadMember) {
  DictionaryWriter w;
  w.Integer("at", 1700000000123)
      .Token("ot", "v")
      .String("n", "node-a")
      .Boolean("su", true)
      .Boolean("x", false);
  ASSERT_TRUE(w.status().ok());
  EXPECT_EQ(w.value(), R"(at=1700000000123,ot=v,n="node-a",su,x=?0)");
  auto parsed = ParseDictionary(w.value());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->size(), 5u);

  DictionaryWriter bad;
  bad.Integer("a", 1).String("b", "\x01").Integer("c", 3);
  EXPECT_FALSE(bad.status().ok());
}

}  // namespace
}  // namespace liveorigin::sf
