#include "executor/common/printable.h"

#include <cstdio>

namespace mutcell {
namespace {

/// Both forms: control bytes (and with `ascii`, every byte >= 0x7f) as \xNN;
/// without `ascii` a backslash as \\. Cut with "..." once the output passes
/// `max_bytes`.
std::string Escape(std::string_view text, bool ascii, size_t max_bytes) {
  std::string out;
  out.reserve(text.size() < max_bytes ? text.size() : max_bytes);
  for (unsigned char c : text) {
    if (out.size() > max_bytes) {
      out += "...";
      break;
    }
    if (c == '\\' && !ascii) {
      out += "\\\\";
    } else if (c < 0x20 || c == 0x7f || (ascii && c > 0x7f)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

std::string Printable(std::string_view text) {
  return Escape(text, false, std::string::npos);
}

std::string PrintableAscii(std::string_view text, size_t max_bytes) {
  return Escape(text, true, max_bytes);
}

}  // namespace mutcell
