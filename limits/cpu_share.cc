#include "limits/cpu_share.h"

#include <sched.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace mutcell {

bool CheckCellCpus(double cpus, std::string* why) {
  if (cpus == 0 || (std::isfinite(cpus) && cpus >= kMinCellCpus && cpus <= kMaxCellCpus)) return true;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", cpus);
  *why = std::string(buf) + " CPUs is out of range (0 for no cap, or 0.01 to 1024)";
  return false;
}

bool ParseCellCpu(std::string_view text, CellCpu* out, std::string* why) {
  if (text == "auto") {
    *out = CellCpu{};
    return true;
  }
  std::string s(text);
  char* end = nullptr;
  double v = s.empty() ? 0 : std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || std::isspace(static_cast<unsigned char>(s[0]))) {
    *why = "'" + s + "' is not auto or a number of CPUs (e.g. 1, 0.5; 0 for no cap)";
    return false;
  }
  if (!CheckCellCpus(v, why)) return false;
  out->is_auto = false;
  out->cpus = v;
  return true;
}

unsigned UsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  const int n = CPU_COUNT(&set);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

uint64_t CellCpuMillis(const CellCpu& setting, int jobs, unsigned usable_cpus) {
  if (!setting.is_auto) return static_cast<uint64_t>(std::llround(setting.cpus * 1000));
  const uint64_t cpus = usable_cpus == 0 ? 1 : usable_cpus;
  const uint64_t cells = jobs < 1 ? 1 : static_cast<uint64_t>(jobs);
  const uint64_t share = cpus * 1000 / cells;
  return share < 1000 ? 1000 : share;
}

std::string FormatCellCpu(uint64_t millis) {
  if (millis == 0) return "no cap";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g CPU%s", static_cast<double>(millis) / 1000, millis == 1000 ? "" : "s");
  return buf;
}

}  // namespace mutcell
