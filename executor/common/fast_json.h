#pragma once
// JSON for the lines mutcell reads and writes by the hundred thousand (plan
// lines, journal records, the plan index), without a nlohmann::json DOM per
// line. Reading is a fast path only: it understands the common shape and
// gives up on anything else, and the caller then parses the line with
// nlohmann::json, which stays the judge of what is valid and words the
// errors. Writing produces exactly the bytes nlohmann's dump() would.
//
// Why not nlohmann alone, or simdjson (libsimdjson-dev)? CPU seconds to load
// 100,000 mutants, this reader vs nlohmann alone vs simdjson 3.0.1 On Demand
// (-O2 -march=haswell for all three, min of 3; docs/core-decisions.md):
//   plan, 40-byte lines:    0.14 / 0.28 / 0.16-0.20
//   plan, 870-byte lines:   0.68 / 1.85 / 0.66-0.73
//   journal (100k records): 0.13-0.15 / 0.55-0.72 / 0.18-0.21
// simdjson is no faster per line, and Debian ships it only as libsimdjson.so
// (no static library, simdjson.h needs simdjson.cpp), which the glibc-only
// binary cannot depend on; its On Demand kernel is also chosen at compile
// time, so a build for any x86-64 gets the scalar fallback.

#include <cstdint>
#include <string>
#include <string_view>

namespace mutcell {

/// A JSON number as written: an integer (no fraction, no exponent) or not.
struct JsonNumber {
  bool integer = false;    ///< no '.', 'e' or 'E'
  bool negative = false;   ///< integer written with '-'
  uint64_t magnitude = 0;  ///< |value| of an integer
  double value = 0;        ///< the value as a double (for any number)
};

/// Walks JSON text token by token. Every method skips whitespace first and
/// returns false when the text is not what it asked for *or* is outside the
/// subset it reads: strings with bytes outside printable ASCII or with a
/// \u escape, integers of more than 18 digits, numbers that are not finite.
/// A false means "parse this text the slow way", never "the text is wrong";
/// whatever it accepts, nlohmann::json accepts with the same values.
class JsonScanner {
 public:
  explicit JsonScanner(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  /// Consumes `c` (a structural character: { } [ ] : ,) or returns false.
  bool Expect(char c);
  /// Consumes `c` if it comes next; false (consuming nothing) otherwise.
  bool Accept(char c);
  /// A string value into *out (escapes decoded).
  bool String(std::string* out);
  /// A string followed by ':', as an object's key.
  bool Key(std::string* out);
  /// Key() without a copy: *out views the text (false for a key with escapes).
  bool Key(std::string_view* out);
  bool Number(JsonNumber* out);
  /// Consumes `null` if it comes next; false (consuming nothing) otherwise.
  bool AcceptNull();
  /// A string, number, true, false or null, discarded. Nested values are
  /// not skipped (false).
  bool SkipScalar();
  /// Only whitespace is left.
  bool AtEnd();

 private:
  void SkipWhitespace();
  bool Literal(std::string_view word);

  const char* p_;
  const char* end_;
};

/// Appends `s` as a JSON string (quoted, escaped) exactly as nlohmann's
/// dump(-1, ' ', false, error_handler_t::replace) writes it: control
/// characters escaped, other bytes as they are, invalid UTF-8 replaced.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace mutcell
