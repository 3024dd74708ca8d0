#include "executor/plan/config.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "executor/common/atomic_file.h"
#include "executor/common/fingerprint.h"
#include "limits/size.h"

namespace mutcell {
namespace {

// Bounds that catch typos (jobs = 10000) without second-guessing real setups.
constexpr int64_t kMaxJobs = 4096;
constexpr int64_t kMaxAttempts = 100;
constexpr double kMaxSeconds = 1e7;

std::string Where(const std::string& path, const toml::source_region& r) {
  return path + ":" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.column);
}

std::string Quote(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const char* TypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

// Applies one table's keys to a Config. Each setter reports "PATH:L:C: key: problem".
class Applier {
 public:
  Applier(const std::string& path, Config* cfg, std::string* err) : path_(path), cfg_(cfg), err_(err) {}

  bool Apply(const toml::table& t, const std::string& prefix) {
    for (const auto& [key, node] : t) {
      std::string k(key.str());
      std::string name = prefix + k;
      bool ok;
      if (k == "state_dir") ok = String(node, name, &cfg_->state_dir, /*empty_ok=*/false);
      else if (k == "jobs") ok = Integer(node, name, 0, kMaxJobs, &cfg_->jobs);
      else if (k == "cell_memory") ok = CellMemory(node, name);
      else if (k == "memory_budget") ok = Size(node, name, &cfg_->memory_budget);
      else if (k == "cell_pids") ok = Integer(node, name, 1, 1 << 22, &cfg_->cell_pids);
      else if (k == "cell_cpu") ok = CellCpuKey(node, name);
      else if (k == "timeout_s") ok = Seconds(node, name, false, &cfg_->timeout_s);
      else if (k == "kill_grace_s") ok = Seconds(node, name, true, &cfg_->kill_grace_s);
      else if (k == "stop_grace_s") ok = Seconds(node, name, true, &cfg_->stop_grace_s);
      else if (k == "max_attempts") ok = Integer(node, name, 1, kMaxAttempts, &cfg_->max_attempts);
      else if (k == "backend")
        ok = OneOf(node, name, {"auto", "v2", "v1", "none"}, "a backend (auto, v2, v1, none)", &cfg_->backend);
      else if (k == "argv") ok = Argv(node, name);
      else if (k == "env") ok = Env(node, name);
      else if (k == "python") ok = String(node, name, &cfg_->python, /*empty_ok=*/false);
      else if (k == "strategy")
        ok = OneOf(node, name, {"pytest-main", "collected"}, "a strategy (pytest-main or collected)", &cfg_->strategy);
      else if (k == "strategy_check") ok = Integer(node, name, 0, 1000, &cfg_->strategy_check);
      else if (k == "recycle_after") ok = Integer(node, name, 0, int64_t{1} << 40, &cfg_->recycle_after);
      else if (k == "recycle_memory") ok = SizeOrZero(node, name, &cfg_->recycle_memory);
      else if (k == "recycle_growth") ok = SizeOrZero(node, name, &cfg_->recycle_growth);
      else if (k == "log_limit") ok = SizeOrZero(node, name, &cfg_->log_limit);
      else if (k == "oom_exit_code") ok = Integer(node, name, -255, 255, &cfg_->oom_exit_code);
      else if (k == "require_cells") ok = Bool(node, name, &cfg_->require_cells);
      else if (k == "as_root") ok = Bool(node, name, &cfg_->as_root);
      else if (k == "test_order")
        ok =
            OneOf(node, name, {"killer-first", "fastest"}, "a test order (killer-first or fastest)", &cfg_->test_order);
      else if (k == "pid_namespace")
        ok = OneOf(node, name, {"auto", "off"}, "a pid_namespace setting (auto or off)", &cfg_->pid_namespace);
      else {
        *err_ = Where(path_, key.source()) + ": unknown key " + Quote(name) +
                " (known: state_dir, jobs, cell_memory, memory_budget, cell_pids, cell_cpu, timeout_s, kill_grace_s, "
                "stop_grace_s, max_attempts, backend, argv, env, python, strategy, strategy_check, recycle_after, "
                "recycle_memory, recycle_growth, log_limit, oom_exit_code, require_cells, as_root, test_order, "
                "pid_namespace)";
        ok = false;
      }
      if (!ok) return false;
    }
    return true;
  }

 private:
  bool Fail(const toml::node& n, const std::string& name, const std::string& problem) {
    *err_ = Where(path_, n.source()) + ": " + name + ": " + problem;
    return false;
  }

  bool String(const toml::node& n, const std::string& name, std::string* out, bool empty_ok) {
    const auto* s = n.as_string();
    if (!s) return Fail(n, name, std::string("expected a string, not ") + TypeName(n));
    if (!empty_ok && s->get().empty()) return Fail(n, name, "must not be empty");
    if (s->get().find('\0') != std::string::npos) return Fail(n, name, "contains a NUL character");
    *out = s->get();
    return true;
  }

  bool Bool(const toml::node& n, const std::string& name, bool* out) {
    const auto* b = n.as_boolean();
    if (!b) return Fail(n, name, std::string("expected true or false, not ") + TypeName(n));
    *out = b->get();
    return true;
  }

  template <typename T>
  bool Integer(const toml::node& n, const std::string& name, int64_t lo, int64_t hi, T* out) {
    const auto* i = n.as_integer();
    if (!i) return Fail(n, name, std::string("expected an integer, not ") + TypeName(n));
    int64_t v = i->get();
    if (v < lo || v > hi)
      return Fail(n, name, std::to_string(v) + " is out of range (" + std::to_string(lo) + " to " +
                               std::to_string(hi) + ")");
    *out = static_cast<T>(v);
    return true;
  }

  bool Size(const toml::node& n, const std::string& name, uint64_t* out) {
    uint64_t bytes = 0;
    if (const auto* i = n.as_integer()) {
      if (i->get() <= 0) return Fail(n, name, "must be greater than 0 bytes");
      bytes = static_cast<uint64_t>(i->get());
    } else if (const auto* s = n.as_string()) {
      std::string why;
      if (!ParseSize(s->get(), &bytes, &why)) return Fail(n, name, why);
      if (bytes == 0) return Fail(n, name, "must be greater than 0 bytes");
    } else {
      return Fail(n, name, std::string("expected a size (\"512M\") or integer bytes, not ") + TypeName(n));
    }
    *out = bytes;
    return true;
  }

  bool CellMemory(const toml::node& n, const std::string& name) {
    if (const auto* s = n.as_string(); s && s->get() == "auto") {
      cfg_->cell_memory_auto = true;
      return true;
    }
    cfg_->cell_memory_auto = false;
    uint64_t bytes = 0;
    std::string why;
    if (!Size(n, name, &bytes)) return false;
    if (!CheckCellMemory(bytes, &why)) return Fail(n, name, why);
    cfg_->cell_memory = bytes;
    return true;
  }

  // "auto", or a number of CPUs (integer or float); checked like --cell-cpu.
  bool CellCpuKey(const toml::node& n, const std::string& name) {
    std::string why;
    CellCpu c;
    if (const auto* s = n.as_string()) {
      if (!ParseCellCpu(s->get(), &c, &why)) return Fail(n, name, why);
    } else if (const auto* i = n.as_integer()) {
      c.is_auto = false;
      c.cpus = static_cast<double>(i->get());
    } else if (const auto* f = n.as_floating_point()) {
      c.is_auto = false;
      c.cpus = f->get();
    } else {
      return Fail(n, name, std::string("expected \"auto\" or a number of CPUs, not ") + TypeName(n));
    }
    if (!c.is_auto && !CheckCellCpus(c.cpus, &why)) return Fail(n, name, why);
    cfg_->cell_cpu = c;
    return true;
  }

  bool SizeOrZero(const toml::node& n, const std::string& name, uint64_t* out) {
    if (const auto* i = n.as_integer(); i && i->get() == 0) {
      *out = 0;
      return true;
    }
    return Size(n, name, out);
  }

  bool Seconds(const toml::node& n, const std::string& name, bool zero_ok, double* out) {
    double v;
    if (const auto* i = n.as_integer()) v = static_cast<double>(i->get());
    else if (const auto* f = n.as_floating_point()) v = f->get();
    else return Fail(n, name, std::string("expected a number of seconds, not ") + TypeName(n));
    if (!std::isfinite(v) || v < 0 || (!zero_ok && v == 0) || v > kMaxSeconds)
      return Fail(n, name, std::string("must be ") + (zero_ok ? "at least 0" : "greater than 0") +
                               " and at most 10000000 seconds");
    *out = v;
    return true;
  }

  /// A string key that takes one of `allowed`; `what` names the kind and
  /// the choices for the message ("a backend (auto, v2, v1, none)").
  bool OneOf(const toml::node& n, const std::string& name, std::initializer_list<std::string_view> allowed,
             const char* what, std::string* out) {
    std::string v;
    if (!String(n, name, &v, false)) return false;
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
      return Fail(n, name, Quote(v) + " is not " + what);
    *out = v;
    return true;
  }

  bool Argv(const toml::node& n, const std::string& name) {
    const auto* a = n.as_array();
    if (!a) return Fail(n, name, std::string("expected an array of strings, not ") + TypeName(n));
    std::vector<std::string> argv;
    for (size_t i = 0; i < a->size(); ++i) {
      if (!String((*a)[i], name + "[" + std::to_string(i) + "]", &argv.emplace_back(), /*empty_ok=*/i > 0))
        return false;
    }
    cfg_->argv = std::move(argv);
    return true;
  }

  bool Env(const toml::node& n, const std::string& name) {
    const auto* t = n.as_table();
    if (!t) return Fail(n, name, std::string("expected a table of strings, not ") + TypeName(n));
    std::map<std::string, std::string> env;
    for (const auto& [key, value] : *t) {
      std::string var(key.str());
      if (var.empty() || var.find('=') != std::string::npos || var.find('\0') != std::string::npos) {
        *err_ = Where(path_, key.source()) + ": " + name + ": invalid variable name " + Quote(var);
        return false;
      }
      if (!String(value, name + "." + var, &env[var], /*empty_ok=*/true)) return false;
    }
    cfg_->env = std::move(env);
    return true;
  }

  const std::string& path_;
  Config* cfg_;
  std::string* err_;
};

bool IsPyproject(const std::string& path) {
  size_t slash = path.rfind('/');
  return path.substr(slash == std::string::npos ? 0 : slash + 1) == "pyproject.toml";
}

}  // namespace

bool CheckCellMemory(uint64_t bytes, std::string* why) {
  if (bytes >= kMinCellMemory) return true;
  *why = FormatSize(bytes) + " is below the " + FormatSize(kMinCellMemory) + " minimum";
  return false;
}

bool LoadConfigFile(const std::string& path, Config* cfg, std::string* err) {
  std::string text;
  if (!ReadWholeFile(path, &text, err)) {
    *err = "cannot read the config: " + *err;
    return false;
  }
  toml::table root;
  // Debian's libtomlplusplus is built with exceptions; the #else branch keeps
  // this correct if a build ever defines TOML_EXCEPTIONS=0.
#if TOML_EXCEPTIONS
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    *err = Where(path, e.source()) + ": " + std::string(e.description());
    return false;
  }
#else
  toml::parse_result result = toml::parse(text, path);
  if (!result) {
    *err = Where(path, result.error().source()) + ": " + std::string(result.error().description());
    return false;
  }
  root = std::move(result).table();
#endif
  Config next = *cfg;  // all or nothing: a bad key leaves *cfg untouched
  Applier applier(path, &next, err);
  if (IsPyproject(path)) {
    const toml::node* tool = root.get("tool");
    if (!tool || !tool->is_table()) return true;
    const toml::node* ours = tool->as_table()->get("mutcell");
    if (!ours) return true;
    if (!ours->is_table()) {
      *err = Where(path, ours->source()) + ": tool.mutcell: expected a table, not " + TypeName(*ours);
      return false;
    }
    if (!applier.Apply(*ours->as_table(), "tool.mutcell.")) return false;
  } else {
    if (!applier.Apply(root, "")) return false;
  }
  *cfg = std::move(next);
  return true;
}

std::string ConfigFingerprint(const Config& cfg) {
  // Only what can change a verdict; jobs, state_dir, stop grace and attempts
  // do not, so changing them must not invalidate a journal.
  nlohmann::json j = {
      {"cell_memory", cfg.cell_memory_auto ? uint64_t{0} : cfg.cell_memory}, {"cell_memory_auto", cfg.cell_memory_auto},
      {"cell_pids", cfg.cell_pids}, {"timeout_s", cfg.timeout_s},
      {"kill_grace_s", cfg.kill_grace_s}, {"argv", cfg.argv},         {"env", cfg.env},
      {"strategy", cfg.strategy},
  };
  return Fingerprint(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace mutcell
