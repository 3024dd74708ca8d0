#pragma once
// Memory sizes as users write them ("256M", "1.5GiB", "4096") and as mutcell prints them.

#include <cstdint>
#include <string>
#include <string_view>

namespace mutcell {

/// Parses a size: a non-negative number (integer or decimal) with an optional
/// unit B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB (case-insensitive; all binary,
/// 1K = 1024). Returns false with a message in *err on anything else,
/// including overflow past 2^63.
bool ParseSize(std::string_view text, uint64_t* out, std::string* err);

/// Formats bytes for people: "0 B", "512 B", "1.5 KiB", "256 MiB", "3.25 GiB".
std::string FormatSize(uint64_t bytes);

}  // namespace mutcell
