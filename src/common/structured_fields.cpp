#include "liveorigin/common/structured_fields.h"

#include <cmath>
#include <cstdio>

#include "liveorigin/common/bytes.h"

namespace liveorigin::sf {
namespace {

constexpr int64_t kMaxInteger = 999'999'999'999'999;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLcAlpha(char c) { return c >= 'a' && c <= 'z'; }
bool IsAlpha(char c) { return IsLcAlpha(c) || (c >= 'A' && c <= 'Z'); }
// RFC 9110 tchar.
bool IsTchar(char c) {
  if (IsAlpha(c) || IsDigit(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}
bool IsKeyChar(char c) {
  return IsLcAlpha(c) || IsDigit(c) || c == '_' || c == '-' || c == '.' || c == '*';
}
bool IsBase64Char(char c) { return IsAlpha(c) || IsDigit(c) || c == '+' || c == '/' || c == '='; }

Status Fail(const std::string& what) {
  return Status::InvalidArgument("structured field: " + what);
}

class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}

  bool Empty() const { return pos_ >= in_.size(); }
  void Advance() { ++pos_; }
  char Peek() const { return Empty() ? '\0' : in_[pos_]; }
  void SkipSp() {
    while (!Empty() && in_[pos_] == ' ') ++pos_;
  }
  void SkipOws() {
    while (!Empty() && (in_[pos_] == ' ' || in_[pos_] == '\t')) ++pos_;
  }

  Status Key(std::string* out) {
    const char c = Peek();
    if (!IsLcAlpha(c) && c != '*') return Fail("a key must start with a-z or '*'");
    const size_t start = pos_;
    while (!Empty() && IsKeyChar(in_[pos_])) ++pos_;
    out->assign(in_.substr(start, pos_ - start));
    return Status::Ok();
  }

  Status Number(BareItem* out) {
    bool negative = false;
    if (Peek() == '-') {
      negative = true;
      ++pos_;
    }
    if (!IsDigit(Peek())) return Fail("a number needs a digit");
    const size_t start = pos_;
    bool decimal = false;
    size_t dot = 0;
    while (!Empty()) {
      const char c = in_[pos_];
      if (IsDigit(c)) {
        ++pos_;
      } else if (c == '.' && !decimal) {
        if (pos_ - start > 12) return Fail("a decimal has more than 12 integer digits");
        decimal = true;
        dot = pos_;
        ++pos_;
      } else {
        break;
      }
      const size_t len = pos_ - start;
      if (!decimal && len > 15) return Fail("an integer has more than 15 digits");
      if (decimal && len > 16) return Fail("a decimal is longer than 16 characters");
    }
    const std::string_view text = in_.substr(start, pos_ - start);
    if (!decimal) {
      int64_t v = 0;
      for (char c : text) v = v * 10 + (c - '0');
      *out = negative ? -v : v;
      return Status::Ok();
    }
    const size_t fraction = pos_ - dot - 1;
    if (fraction == 0) return Fail("a decimal ends with '.'");
    if (fraction > 3) return Fail("a decimal has more than 3 fractional digits");
    double v = 0;
    for (char c : text.substr(0, dot - start)) v = v * 10 + (c - '0');
    double scale = 0.1;
    for (char c : text.substr(dot - start + 1)) {
      v += (c - '0') * scale;
      scale /= 10;
    }
    *out = negative ? -v : v;
    return Status::Ok();
  }

  Status String(BareItem* out) {
    ++pos_;  // opening quote
    std::string s;
    while (!Empty()) {
      const char c = in_[pos_++];
      if (c == '\\') {
        if (Empty()) return Fail("a string ends inside an escape");
        const char next = in_[pos_++];
        if (next != '"' && next != '\\')
          return Fail("a string escapes something else than '\"' or '\\'");
        s.push_back(next);
      } else if (c == '"') {
        *out = std::move(s);
        return Status::Ok();
      } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) {
        return Fail("a string holds a character outside 0x20..0x7E");
      } else {
        s.push_back(c);
      }
    }
    return Fail("a string is not terminated");
  }

  Status TokenItem(BareItem* out) {
    const size_t start = pos_;
    ++pos_;
    while (!Empty() && (IsTchar(in_[pos_]) || in_[pos_] == ':' || in_[pos_] == '/')) ++pos_;
    *out = Token{std::string(in_.substr(start, pos_ - start))};
    return Status::Ok();
  }

  Status Bytes(BareItem* out) {
    ++pos_;  // opening colon
    const size_t end = in_.find(':', pos_);
    if (end == std::string_view::npos) return Fail("a byte sequence is not terminated");
    std::string b64(in_.substr(pos_, end - pos_));
    pos_ = end + 1;
    for (char c : b64) {
      if (!IsBase64Char(c)) return Fail("a byte sequence holds a character outside base64");
    }
    // RFC 8941 §4.2.7: parsers may accept missing padding.
    while (b64.size() % 4 != 0) b64.push_back('=');
    auto decoded = Base64Decode(b64);
    if (!decoded) return Fail("a byte sequence is not valid base64");
    *out = ByteSequence{std::move(*decoded)};
    return Status::Ok();
  }

  Status Boolean(BareItem* out) {
    ++pos_;  // '?'
    const char c = Peek();
    if (c != '0' && c != '1') return Fail("a boolean must be ?0 or ?1");
    ++pos_;
    *out = c == '1';
    return Status::Ok();
  }

  Status Bare(BareItem* out) {
    const char c = Peek();
    if (c == '-' || IsDigit(c)) return Number(out);
    if (c == '"') return String(out);
    if (c == '*' || IsAlpha(c)) return TokenItem(out);
    if (c == ':') return Bytes(out);
    if (c == '?') return Boolean(out);
    return Fail(Empty() ? "a value is missing"
                        : "unexpected character '" + std::string(1, c) + "'");
  }

  Status Params(Parameters* out) {
    while (Peek() == ';') {
      ++pos_;
      SkipSp();
      std::string key;
      if (Status st = Key(&key); !st.ok()) return st;
      BareItem value = true;
      if (Peek() == '=') {
        ++pos_;
        if (Status st = Bare(&value); !st.ok()) return st;
      }
      bool replaced = false;
      for (auto& [k, v] : *out) {
        if (k == key) {
          v = value;
          replaced = true;
        }
      }
      if (!replaced) out->emplace_back(std::move(key), std::move(value));
    }
    return Status::Ok();
  }

  Status ItemValue(Item* out) {
    if (Status st = Bare(&out->value); !st.ok()) return st;
    return Params(&out->params);
  }

  Status Inner(InnerList* out) {
    ++pos_;  // '('
    while (!Empty()) {
      SkipSp();
      if (Peek() == ')') {
        ++pos_;
        return Params(&out->params);
      }
      Item item;
      if (Status st = ItemValue(&item); !st.ok()) return st;
      out->items.push_back(std::move(item));
      if (Peek() != ' ' && Peek() != ')')
        return Fail("inner list members must be separated by spaces");
    }
    return Fail("an inner list is not terminated");
  }

  Status Member(ListMember* out) {
    if (Peek() == '(') {
      InnerList inner;
      if (Status st = Inner(&inner); !st.ok()) return st;
      *out = std::move(inner);
      return Status::Ok();
    }
    Item item;
    if (Status st = ItemValue(&item); !st.ok()) return st;
    *out = std::move(item);
    return Status::Ok();
  }

  // After a member: end of input, or a comma followed by another member.
  Status NextMember(bool* more) {
    SkipOws();
    if (Empty()) {
      *more = false;
      return Status::Ok();
    }
    if (Peek() != ',') return Fail("members must be separated by ','");
    ++pos_;
    SkipOws();
    if (Empty()) return Fail("a trailing ','");
    *more = true;
    return Status::Ok();
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

Result<List> ParseList(std::string_view input) {
  Parser p(input);
  p.SkipSp();
  List out;
  bool more = !p.Empty();
  while (more) {
    ListMember m;
    if (Status st = p.Member(&m); !st.ok()) return st;
    out.push_back(std::move(m));
    if (Status st = p.NextMember(&more); !st.ok()) return st;
  }
  return out;
}

Result<Dictionary> ParseDictionary(std::string_view input) {
  Parser p(input);
  p.SkipSp();
  Dictionary out;
  bool more = !p.Empty();
  while (more) {
    std::string key;
    if (Status st = p.Key(&key); !st.ok()) return st;
    ListMember m;
    if (p.Peek() == '=') {
      p.Advance();
      if (Status st = p.Member(&m); !st.ok()) return st;
    } else {
      Item item;
      item.value = true;
      if (Status st = p.Params(&item.params); !st.ok()) return st;
      m = std::move(item);
    }
    bool replaced = false;
    for (auto& [k, v] : out) {
      if (k == key) {
        v = m;
        replaced = true;
      }
    }
    if (!replaced) out.emplace_back(std::move(key), std::move(m));
    if (Status st = p.NextMember(&more); !st.ok()) return st;
  }
  return out;
}

Result<Item> ParseItem(std::string_view input) {
  Parser p(input);
  p.SkipSp();
  Item item;
  if (Status st = p.ItemValue(&item); !st.ok()) return st;
  p.SkipSp();
  if (!p.Empty()) return Fail("unexpected characters after the item");
  return item;
}

Status SerializeKey(std::string_view key, std::string* out) {
  if (key.empty() || (!IsLcAlpha(key.front()) && key.front() != '*')) {
    return Fail("key '" + std::string(key) + "' must start with a-z or '*'");
  }
  for (char c : key) {
    if (!IsKeyChar(c))
      return Fail("key '" + std::string(key) + "' holds a character outside a-z 0-9 _ - . *");
  }
  out->append(key);
  return Status::Ok();
}

Status SerializeBareItem(const BareItem& item, std::string* out) {
  if (const auto* i = std::get_if<int64_t>(&item)) {
    if (*i > kMaxInteger || *i < -kMaxInteger) return Fail("integer out of range");
    out->append(std::to_string(*i));
    return Status::Ok();
  }
  if (const auto* d = std::get_if<double>(&item)) {
    if (!std::isfinite(*d) || std::fabs(*d) >= 1e12) return Fail("decimal out of range");
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", *d);
    std::string s = buf;
    while (s.size() > 1 && s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
    out->append(s);
    return Status::Ok();
  }
  if (const auto* s = std::get_if<std::string>(&item)) {
    out->push_back('"');
    for (char c : *s) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u > 0x7E) return Fail("string holds a character outside 0x20..0x7E");
      if (c == '"' || c == '\\') out->push_back('\\');
      out->push_back(c);
    }
    out->push_back('"');
    return Status::Ok();
  }
  if (const auto* t = std::get_if<Token>(&item)) {
    const std::string& v = t->value;
    if (v.empty() || (!IsAlpha(v.front()) && v.front() != '*')) {
      return Fail("token '" + v + "' must start with a letter or '*'");
    }
    for (char c : v) {
      if (!IsTchar(c) && c != ':' && c != '/')
        return Fail("token '" + v + "' holds an invalid character");
    }
    out->append(v);
    return Status::Ok();
  }
  if (const auto* b = std::get_if<ByteSequence>(&item)) {
    out->push_back(':');
    out->append(Base64Encode(b->bytes));
    out->push_back(':');
    return Status::Ok();
  }
  out->append(std::get<bool>(item) ? "?1" : "?0");
  return Status::Ok();
}

Status SerializeParameters(const Parameters& params, std::string* out) {
  for (const auto& [key, value] : params) {
    out->push_back(';');
    if (Status st = SerializeKey(key, out); !st.ok()) return st;
    if (const auto* b = std::get_if<bool>(&value); b && *b) continue;
    out->push_back('=');
    if (Status st = SerializeBareItem(value, out); !st.ok()) return st;
  }
  return Status::Ok();
}

namespace {

Status SerializeItem(const Item& item, std::string* out) {
  if (Status st = SerializeBareItem(item.value, out); !st.ok()) return st;
  return SerializeParameters(item.params, out);
}

Status SerializeMember(const ListMember& member, std::string* out) {
  if (const auto* item = std::get_if<Item>(&member)) return SerializeItem(*item, out);
  const auto& inner = std::get<InnerList>(member);
  out->push_back('(');
  for (size_t i = 0; i < inner.items.size(); ++i) {
    if (i) out->push_back(' ');
    if (Status st = SerializeItem(inner.items[i], out); !st.ok()) return st;
  }
  out->push_back(')');
  return SerializeParameters(inner.params, out);
}

}  // namespace

Result<std::string> SerializeList(const List& list) {
  std::string out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i) out.append(", ");
    if (Status st = SerializeMember(list[i], &out); !st.ok()) return st;
  }
  return out;
}

Result<std::string> SerializeDictionary(const Dictionary& dict) {
  std::string out;
  for (size_t i = 0; i < dict.size(); ++i) {
    if (i) out.append(", ");
    if (Status st = SerializeKey(dict[i].first, &out); !st.ok()) return st;
    const ListMember& m = dict[i].second;
    const auto* item = std::get_if<Item>(&m);
    if (item && std::holds_alternative<bool>(item->value) && std::get<bool>(item->value)) {
      if (Status st = SerializeParameters(item->params, &out); !st.ok()) return st;
      continue;
    }
    out.push_back('=');
    if (Status st = SerializeMember(m, &out); !st.ok()) return st;
  }
  return out;
}

DictionaryWriter& DictionaryWriter::Member(std::string_view key, const BareItem& value) {
  if (!status_.ok()) return *this;
  const size_t mark = out_.size();
  if (!out_.empty()) out_.push_back(',');
  status_ = SerializeKey(key, &out_);
  if (status_.ok()) {
    if (const auto* b = std::get_if<bool>(&value); b && *b) return *this;
    out_.push_back('=');
    status_ = SerializeBareItem(value, &out_);
  }
  if (!status_.ok()) out_.resize(mark);
  return *this;
}

DictionaryWriter& DictionaryWriter::Integer(std::string_view key, int64_t value) {
  return Member(key, BareItem(value));
}
DictionaryWriter& DictionaryWriter::String(std::string_view key, std::string_view value) {
  return Member(key, BareItem(std::string(value)));
}
DictionaryWriter& DictionaryWriter::Token(std::string_view key, std::string_view value) {
  return Member(key, BareItem(sf::Token{std::string(value)}));
}
DictionaryWriter& DictionaryWriter::Boolean(std::string_view key, bool value) {
  return Member(key, BareItem(value));
}

}  // namespace liveorigin::sf
