#pragma once
// Discovery of the memory mutcell may really use: the host's /proc/meminfo and
// the tightest cgroup limit on mutcell's own cgroup path (the limit that
// actually bites is often a cgroup's, not the host's free memory).

#include <cstdint>
#include <optional>
#include <string>

namespace mutcell {

/// Which cgroup hierarchy governs memory for this process.
enum class CgroupVersion { kNone, kV1, kV2 };

/// "none", "v1" or "v2".
const char* CgroupVersionName(CgroupVersion v);

/// Where discovery reads from. Defaults are the real system; tests point them
/// at fake trees in a temporary directory.
struct DiscoveryRoots {
  std::string proc_dir = "/proc";  ///< reads meminfo, self/cgroup, self/mountinfo
  /// Mount point of the unified (v2) hierarchy; "" = find it in mountinfo.
  std::string v2_mount;
  /// Mount point of the v1 hierarchy holding the memory controller; "" = find
  /// it in mountinfo.
  std::string v1_memory_mount;
};

/// Values of at least this many bytes are "no limit": v1 writes
/// PAGE_COUNTER_MAX (9223372036854771712 with 4 KiB pages) for unlimited.
constexpr uint64_t kUnlimitedThreshold = uint64_t{1} << 62;

/// Raw facts about memory, as read. Sizes in bytes.
struct MemoryFacts {
  uint64_t mem_total = 0;      ///< /proc/meminfo MemTotal
  uint64_t mem_available = 0;  ///< /proc/meminfo MemAvailable (host-wide, not the cgroup's)
  uint64_t swap_total = 0;     ///< /proc/meminfo SwapTotal
  uint64_t swap_free = 0;      ///< /proc/meminfo SwapFree

  CgroupVersion cgroup_version = CgroupVersion::kNone;
  /// Our memory cgroup as /proc/self/cgroup names it ("/process_api/3f44…").
  std::string cgroup_path;
  /// Our memory cgroup's directory in the mounted tree ("" when kNone).
  std::string cgroup_dir;

  /// Tightest memory (RAM) limit on our cgroup path; nullopt = none.
  /// v2: min of memory.max up to the root; v1: hierarchical_memory_limit.
  std::optional<uint64_t> cgroup_limit;
  /// Directory the tightest limit is set on (our own directory when none).
  std::string limit_source;
  /// Swap the cgroup may use on top of its memory, nullopt = not limited by
  /// the cgroup. v2: min of memory.swap.max on the path; v1:
  /// hierarchical_memsw_limit - hierarchical_memory_limit.
  std::optional<uint64_t> cgroup_swap_limit;
  /// True when the kernel accounts swap per cgroup (v2 memory.swap.max, v1
  /// memory.memsw.* exist), i.e. a cell's swap can be denied.
  bool swap_accounted = false;

  /// The memory mutcell may hold in RAM: min(cgroup_limit, MemTotal). Swap is
  /// deliberately not added: cells run with swap denied, and a budget that
  /// counted swap would let a run thrash instead of failing fast.
  uint64_t EffectiveLimit() const;
  /// Where EffectiveLimit() comes from, for messages: "cgroup limit on DIR"
  /// or "host MemTotal".
  std::string EffectiveLimitSource() const;
};

/// Reads meminfo, finds our memory cgroup (v2 when the unified hierarchy has
/// the memory controller, else the v1 memory hierarchy, else none) and the
/// limits on its path. Returns false with *err only when /proc/meminfo cannot
/// be read or parsed ("PATH: problem"); cgroup files that are missing leave
/// the corresponding facts at "none".
bool DiscoverMemory(const DiscoveryRoots& roots, MemoryFacts* out, std::string* err);

/// One line for people, e.g. "host 23.5 GiB (avail 22.9 GiB), cgroup v1 limit
/// none (/process_api/3f44…), swap 0 B (not accounted)".
std::string FormatMemoryFacts(const MemoryFacts& facts);

}  // namespace mutcell
