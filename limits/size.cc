#include "limits/size.h"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace mutcell {
namespace {

bool UnitMultiplier(std::string unit, uint64_t* mult) {
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.empty() || unit == "b") { *mult = 1; return true; }
  const char* prefixes = "kmgt";
  for (int i = 0; i < 4; ++i) {
    std::string p(1, prefixes[i]);
    if (unit == p || unit == p + "b" || unit == p + "ib") {
      *mult = uint64_t{1} << (10 * (i + 1));
      return true;
    }
  }
  return false;
}

}  // namespace

bool ParseSize(std::string_view text, uint64_t* out, std::string* err) {
  std::string_view s = text;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  size_t i = 0;
  uint64_t whole = 0;
  bool digits = false;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    if (whole > (UINT64_MAX - 9) / 10) {
      *err = "size '" + std::string(text) + "' is too large";
      return false;
    }
    whole = whole * 10 + static_cast<uint64_t>(s[i] - '0');
    digits = true;
    ++i;
  }
  double frac = 0, scale = 0.1;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      frac += scale * (s[i] - '0');
      scale /= 10;
      digits = true;
      ++i;
    }
  }
  if (!digits) {
    *err = "size '" + std::string(text) + "' is not a number with an optional unit (e.g. 256M, 1.5GiB)";
    return false;
  }
  while (i < s.size() && s[i] == ' ') ++i;
  uint64_t mult = 0;
  if (!UnitMultiplier(std::string(s.substr(i)), &mult)) {
    *err = "size '" + std::string(text) + "' has an unknown unit '" + std::string(s.substr(i)) +
           "' (use B, K, M, G or T, optionally followed by B or iB)";
    return false;
  }
  const uint64_t limit = uint64_t{1} << 63;
  if (whole > limit / mult) {
    *err = "size '" + std::string(text) + "' is too large";
    return false;
  }
  uint64_t bytes = whole * mult + static_cast<uint64_t>(std::llround(frac * static_cast<double>(mult)));
  if (bytes > limit) {
    *err = "size '" + std::string(text) + "' is too large";
    return false;
  }
  *out = bytes;
  return true;
}

std::string FormatSize(uint64_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.0f %s", v, units[u]);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f", v);
    std::string num(buf);
    while (num.back() == '0') num.pop_back();
    if (num.back() == '.') num.pop_back();
    return num + " " + units[u];
  }
  return buf;
}

}  // namespace mutcell
