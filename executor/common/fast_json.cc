#include "executor/common/fast_json.h"

#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

namespace mutcell {

void JsonScanner::SkipWhitespace() {
  while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
}

bool JsonScanner::Expect(char c) {
  SkipWhitespace();
  if (p_ == end_ || *p_ != c) return false;
  ++p_;
  return true;
}

bool JsonScanner::Accept(char c) { return Expect(c); }

bool JsonScanner::String(std::string* out) {
  SkipWhitespace();
  if (p_ == end_ || *p_ != '"') return false;
  ++p_;
  out->clear();
  const char* run = p_;  // start of bytes not yet copied
  while (p_ != end_) {
    const unsigned char c = static_cast<unsigned char>(*p_);
    if (c == '"') {
      out->append(run, p_);
      ++p_;
      return true;
    }
    // Control characters are invalid JSON; other bytes need UTF-8 checks
    // that nlohmann does.
    if (c < 0x20 || c > 0x7e) return false;
    if (c != '\\') {
      ++p_;
      continue;
    }
    out->append(run, p_);
    if (++p_ == end_) return false;
    switch (*p_) {
      case '"': *out += '"'; break;
      case '\\': *out += '\\'; break;
      case '/': *out += '/'; break;
      case 'b': *out += '\b'; break;
      case 'f': *out += '\f'; break;
      case 'n': *out += '\n'; break;
      case 'r': *out += '\r'; break;
      case 't': *out += '\t'; break;
      default: return false;  // \u (surrogates, NUL) and invalid escapes
    }
    run = ++p_;
  }
  return false;
}

bool JsonScanner::Key(std::string* out) { return String(out) && Expect(':'); }

bool JsonScanner::Key(std::string_view* out) {
  SkipWhitespace();
  if (p_ == end_ || *p_ != '"') return false;
  const char* start = ++p_;
  while (p_ != end_ && *p_ != '"') {
    const unsigned char c = static_cast<unsigned char>(*p_);
    if (c < 0x20 || c > 0x7e || c == '\\') return false;
    ++p_;
  }
  if (p_ == end_) return false;
  *out = std::string_view(start, static_cast<size_t>(p_ - start));
  ++p_;
  return Expect(':');
}

bool JsonScanner::Number(JsonNumber* out) {
  SkipWhitespace();
  const char* start = p_;
  const char* q = p_;
  auto digit = [&] { return q != end_ && *q >= '0' && *q <= '9'; };
  *out = JsonNumber{};
  if (q != end_ && *q == '-') {
    out->negative = true;
    ++q;
  }
  const char* int_start = q;
  if (!digit()) return false;
  if (*q == '0') {
    ++q;
  } else {
    while (digit()) ++q;
  }
  const size_t int_digits = static_cast<size_t>(q - int_start);
  bool integer = true;
  if (q != end_ && *q == '.') {
    integer = false;
    ++q;
    if (!digit()) return false;
    while (digit()) ++q;
  }
  if (q != end_ && (*q == 'e' || *q == 'E')) {
    integer = false;
    ++q;
    if (q != end_ && (*q == '+' || *q == '-')) ++q;
    if (!digit()) return false;
    while (digit()) ++q;
  }
  // A number runs into the next structural character or whitespace; "1x"
  // or "01" is not JSON.
  if (q != end_ && !(*q == ',' || *q == '}' || *q == ']' || *q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
    return false;
  out->integer = integer;
  if (integer) {
    if (int_digits > 18) return false;  // range questions are nlohmann's
    uint64_t v = 0;
    for (const char* d = int_start; d != q; ++d) v = v * 10 + static_cast<uint64_t>(*d - '0');
    out->magnitude = v;
    // As nlohmann's get<double>() of an integer: "-0" is 0, not -0.0.
    out->value = out->negative ? static_cast<double>(-static_cast<int64_t>(v)) : static_cast<double>(v);
  } else {
    double v = 0;
    auto [ptr, ec] = std::from_chars(start, q, v);
    if (ec != std::errc() || ptr != q || !std::isfinite(v)) return false;
    out->value = v;
  }
  p_ = q;
  return true;
}

bool JsonScanner::Literal(std::string_view word) {
  SkipWhitespace();
  if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
  const char* q = p_ + word.size();
  if (q != end_ && !(*q == ',' || *q == '}' || *q == ']' || *q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
    return false;
  p_ = q;
  return true;
}

bool JsonScanner::AcceptNull() { return Literal("null"); }

bool JsonScanner::SkipScalar() {
  SkipWhitespace();
  if (p_ == end_) return false;
  switch (*p_) {
    case '"': {
      std::string ignored;
      return String(&ignored);
    }
    case 't': return Literal("true");
    case 'f': return Literal("false");
    case 'n': return Literal("null");
    default: {
      JsonNumber ignored;
      return Number(&ignored);
    }
  }
}

bool JsonScanner::AtEnd() {
  SkipWhitespace();
  return p_ == end_;
}

void AppendJsonString(std::string* out, std::string_view s) {
  bool ascii = true;
  for (unsigned char c : s) {
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii) {
    // UTF-8 (valid or not) is nlohmann's business: its replacement of
    // invalid sequences is what the fingerprints were computed with.
    *out += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  static const char* hex = "0123456789abcdef";
  *out += '"';
  size_t run = 0;  // start of bytes not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        *out += "\\u00";
        *out += hex[c >> 4];
        *out += hex[c & 0xf];
    }
  }
  out->append(s.data() + run, s.size() - run);
  *out += '"';
}

}  // namespace mutcell
