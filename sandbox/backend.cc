// MakeCellBackend: picks the cell mechanism for this machine and says why.

#include <spdlog/spdlog.h>

#include "sandbox/backends.h"
#include "sandbox/cell.h"

namespace mutcell {

std::unique_ptr<CellBackend> MakeCellBackend(const std::string& forced, std::string* err) {
  std::string why;
  if (forced == "v2") {
    auto b = NewV2Backend(&why);
    if (!b) *err = "backend v2 cannot be used: " + why;
    else spdlog::info("cell backend: v2 (forced)");
    return b;
  }
  if (forced == "v1") {
    auto b = NewV1Backend(&why);
    if (!b) *err = "backend v1 cannot be used: " + why;
    else spdlog::info("cell backend: v1 (forced)");
    return b;
  }
  if (forced == "none") {
    spdlog::info("cell backend: none (forced)");
    return NewNoneBackend();
  }
  if (!forced.empty() && forced != "auto") {
    *err = "unknown backend '" + forced + "' (expected auto, v2, v1 or none)";
    return nullptr;
  }
  std::string why_v2, why_v1;
  if (auto b = NewV2Backend(&why_v2)) {
    spdlog::info("cell backend: v2");
    return b;
  }
  if (auto b = NewV1Backend(&why_v1)) {
    spdlog::info("cell backend: v1 (v2 not usable: {})", why_v2);
    return b;
  }
  spdlog::warn(
      "cell backend: none, memory is only sampled and swap is not denied "
      "(v2 not usable: {}; v1 not usable: {})",
      why_v2, why_v1);
  return NewNoneBackend();
}

}  // namespace mutcell
