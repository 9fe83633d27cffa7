#include "liveorigin/common/units.h"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <limits>

namespace liveorigin {
namespace {

// Splits "123abc" into 123 and "abc"; fails on no digits or overflow.
bool SplitNumber(std::string_view text, uint64_t* number, std::string_view* suffix) {
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, *number);
  if (ec != std::errc() || ptr == begin) return false;
  *suffix = std::string_view(ptr, static_cast<size_t>(end - ptr));
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool MulNoOverflow(uint64_t a, uint64_t b, uint64_t* out) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) return false;
  *out = a * b;
  return true;
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  text = Trim(text);
  uint64_t n = 0;
  std::string_view unit;
  if (!SplitNumber(text, &n, &unit)) {
    return Status::InvalidArgument("invalid duration '" + std::string(text) +
                                   "': expected a number with a unit (ms, s, m, h), e.g. 2s");
  }
  unit = Trim(unit);
  uint64_t factor = 0;
  if (unit == "ms") {
    factor = 1;
  } else if (unit == "s") {
    factor = 1000;
  } else if (unit == "m") {
    factor = uint64_t{60} * 1000;
  } else if (unit == "h") {
    factor = uint64_t{3600} * 1000;
  } else {
    return Status::InvalidArgument("invalid duration '" + std::string(text) +
                                   "': unit must be one of ms, s, m, h");
  }
  uint64_t ms = 0;
  if (!MulNoOverflow(n, factor, &ms) || ms > static_cast<uint64_t>(INT64_MAX / 1000000)) {
    return Status::InvalidArgument("duration '" + std::string(text) + "' is too large");
  }
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

Result<uint64_t> ParseSize(std::string_view text) {
  text = Trim(text);
  uint64_t n = 0;
  std::string_view unit;
  if (!SplitNumber(text, &n, &unit)) {
    return Status::InvalidArgument("invalid size '" + std::string(text) +
                                   "': expected a number with an optional unit, e.g. 64MiB");
  }
  unit = Trim(unit);
  uint64_t factor = 0;
  if (unit.empty() || unit == "B") {
    factor = 1;
  } else if (unit == "KiB") {
    factor = 1ull << 10;
  } else if (unit == "MiB") {
    factor = 1ull << 20;
  } else if (unit == "GiB") {
    factor = 1ull << 30;
  } else if (unit == "TiB") {
    factor = 1ull << 40;
  } else if (unit == "KB" || unit == "kB") {
    factor = 1000;
  } else if (unit == "MB") {
    factor = uint64_t{1000} * 1000;
  } else if (unit == "GB") {
    factor = 1000ull * 1000 * 1000;
  } else {
    return Status::InvalidArgument("invalid size '" + std::string(text) +
                                   "': unit must be one of B, KiB, MiB, GiB, TiB, KB, MB, GB");
  }
  uint64_t bytes = 0;
  if (!MulNoOverflow(n, factor, &bytes)) {
    return Status::InvalidArgument("size '" + std::string(text) + "' is too large");
  }
  return bytes;
}

std::string FormatDuration(std::chrono::milliseconds d) {
  const int64_t ms = d.count();
  if (ms != 0 && ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms != 0 && ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

namespace {

// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool ReadFixed(std::string_view s, size_t pos, size_t len, int* out) {
  if (pos + len > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

Result<std::chrono::system_clock::time_point> ParseTimestamp(std::string_view text) {
  text = Trim(text);
  auto bad = [&]() {
    return Status::InvalidArgument("invalid timestamp '" + std::string(text) +
                                   "': expected RFC 3339, e.g. 2024-05-01T12:00:00Z");
  };
  int year, month, day, hour, minute, second;
  if (!ReadFixed(text, 0, 4, &year) || text.size() < 19 || text[4] != '-' ||
      !ReadFixed(text, 5, 2, &month) || text[7] != '-' || !ReadFixed(text, 8, 2, &day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !ReadFixed(text, 11, 2, &hour) ||
      text[13] != ':' || !ReadFixed(text, 14, 2, &minute) || text[16] != ':' ||
      !ReadFixed(text, 17, 2, &second)) {
    return bad();
  }
  static constexpr int kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int month_days =
      month == 2 && leap ? 29 : (month >= 1 && month <= 12 ? kDaysInMonth[month - 1] : 0);
  // Seconds 60 (leap seconds) are refused: system_clock has none, and silently
  // rolling into the next minute would shift an event's whole timeline.
  if (month < 1 || month > 12 || day < 1 || day > month_days || hour > 23 || minute > 59 ||
      second > 59) {
    return bad();
  }
  // system_clock counts nanoseconds in 64 bits: roughly 1678..2261. Stay well inside.
  if (year < 1900 || year > 2200) {
    return Status::InvalidArgument("timestamp '" + std::string(text) +
                                   "' is out of range (years 1900 to 2200)");
  }
  size_t pos = 19;
  int64_t frac_ms = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) frac_ms = frac_ms * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad();
    for (int i = digits; i < 3; ++i) frac_ms *= 10;
  }
  int64_t offset_s = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!ReadFixed(text, pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !ReadFixed(text, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return bad();
    }
    offset_s = (int64_t{oh} * 3600 + int64_t{om} * 60) * (text[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return bad();  // a time zone is required: availability times must be unambiguous
  }
  if (pos != text.size()) return bad();
  const int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t secs =
      days * 86400 + int64_t{hour} * 3600 + int64_t{minute} * 60 + second - offset_s;
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(secs * 1000 + frac_ms));
}

namespace {
struct Civil {
  int64_t year;
  unsigned month, day;
};
Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}
}  // namespace

std::string FormatTimestamp(std::chrono::system_clock::time_point t) {
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const int64_t frac = ms - secs * 1000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  const Civil c = CivilFromDays(days);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(c.year), c.month, c.day, static_cast<long long>(rem / 3600),
                static_cast<long long>((rem / 60) % 60), static_cast<long long>(rem % 60),
                static_cast<long long>(frac));
  return buf;
}

std::string FormatHttpDate(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

}  // namespace liveorigin
