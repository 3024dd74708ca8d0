#pragma once
// Untrusted text (mutant names, reasons) as it may reach a terminal or a log.

#include <string>
#include <string_view>

namespace mutcell {

/// `text` with control characters (< 0x20, 0x7f) shown as \xNN and a
/// backslash as \\, so a name cannot forge lines, move the cursor or recolour
/// the screen. Bytes >= 0x80 pass, so UTF-8 names stay readable. Every place
/// that prints a mutant's name to a terminal or a log uses it.
std::string Printable(std::string_view text);

/// For text that need not be UTF-8 (a parser quoting its input): control
/// and non-ASCII bytes (>= 0x7f) as \xNN, a backslash as it is, and cut
/// with "..." once more than `max_bytes` are out.
std::string PrintableAscii(std::string_view text, size_t max_bytes);

}  // namespace mutcell
