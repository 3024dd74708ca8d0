// cgroup v2 backend. Placeholder until the v2 backend lands: reports itself unusable.
#include "sandbox/backends.h"

namespace mutcell {

std::unique_ptr<CellBackend> NewV2Backend(std::string* why) {
  *why = "the cgroup v2 backend is not built yet";
  return nullptr;
}

}  // namespace mutcell
