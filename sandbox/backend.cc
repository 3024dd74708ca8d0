// MakeCellBackend: picks the cell mechanism for this machine and says why.

#include <spdlog/spdlog.h>

#include "sandbox/backends.h"
#include "sandbox/cell.h"
#include "sandbox/root_cells.h"
#include "sandbox/run_as.h"

namespace mutcell {

std::unique_ptr<CellBackend> MakeCellBackend(const std::string& forced, std::string* err) {
  CellBackendChoice choice;
  choice.forced = forced;
  return MakeCellBackend(choice, err);
}

std::string NoCellsWarning(const std::string& why_v2, const std::string& why_v1, const std::string& fix_commands) {
  std::string text =
      "\n"
      "  *****************************************************************************\n"
      "  NO CELLS: backend none. Mutants are NOT fenced by cgroups: memory is only\n"
      "  sampled (a fast runaway can reach the kernel's OOM killer and take down the\n"
      "  whole job), swap is not denied, leftover processes are found by scanning.\n"
      "  *****************************************************************************\n"
      "  why: " + why_v2 + "\n"
      "       " + why_v1 + "\n";
  if (!fix_commands.empty()) text += "  to get cells, run one of:\n" + fix_commands + "\n";
  text += "  (--require-cells, or require_cells = true, turns this into an error)";
  return text;
}

std::unique_ptr<CellBackend> MakeCellBackend(const CellBackendChoice& choice, std::string* err) {
  // The probes read and create cgroups: as root in sudo mode.
  AsRootForFiles root;
  const std::string& forced = choice.forced;
  std::string why;
  if (forced == "v2") {
    auto b = NewV2Backend(&why);
    if (!b) *err = "backend v2 cannot be used: " + why;
    else spdlog::info("cell backend: v2 (forced)");
    return WithRootCells(std::move(b));
  }
  if (forced == "v1") {
    auto b = NewV1Backend(&why);
    if (!b) *err = "backend v1 cannot be used: " + why;
    else spdlog::info("cell backend: v1 (forced)");
    return WithRootCells(std::move(b));
  }
  if (forced == "none") {
    if (choice.require_cells) {
      *err = "--backend none and --require-cells contradict each other (require_cells asks for cgroup cells)";
      return nullptr;
    }
    spdlog::info("cell backend: none (forced)");
    return WithRootCells(NewNoneBackend());
  }
  if (!forced.empty() && forced != "auto") {
    *err = "unknown backend '" + forced + "' (expected auto, v2, v1 or none)";
    return nullptr;
  }
  std::string why_v2, why_v1;
  if (auto b = NewV2Backend(&why_v2)) {
    spdlog::info("cell backend: v2");
    return WithRootCells(std::move(b));
  }
  if (auto b = NewV1Backend(&why_v1)) {
    spdlog::info("cell backend: v1 (v2 not usable: {})", why_v2);
    return WithRootCells(std::move(b));
  }
  if (choice.require_cells) {
    *err = "--require-cells: no cgroup cells can be made here, refusing to fall back to backend none\n"
           "  v2: " + why_v2 + "\n  v1: " + why_v1 + "\n" +
           (choice.fix_commands.empty() ? "" : "  to get cells, run one of:\n" + choice.fix_commands);
    return nullptr;
  }
  spdlog::warn("{}", NoCellsWarning(why_v2, why_v1, choice.fix_commands));
  return WithRootCells(NewNoneBackend());
}

}  // namespace mutcell
