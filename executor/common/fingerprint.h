#pragma once
// The digest behind every fingerprint (a mutant's, the plan's, the config's,
// a mutmut mutant's): what the journal compares to decide whether a recorded
// verdict still holds.

#include <string>

namespace mutcell {

/// Lower-case hex SHA-256 of `data` (64 characters), stable across runs,
/// machines and mutcell versions: journals, plan indexes and shard records
/// written by earlier versions keep matching. OpenSSL's libcrypto computes it
/// (with the CPU's SHA instructions where it has them).
std::string Fingerprint(const std::string& data);

}  // namespace mutcell
