#include "executor/mutmut/mutmut_files.h"

#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "executor/common/atomic_file.h"
#include "executor/common/fingerprint.h"
#include "executor/plan/plan.h"

namespace mutcell {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

// Parses `text` (the content of `path`); errors say where and why.
bool ParseJson(const std::string& path, const std::string& text, ojson* out, std::string* err) {
  try {
    *out = ojson::parse(text);
  } catch (const nlohmann::json::exception& e) {
    *err = path + ": not valid JSON: " + e.what();
    return false;
  }
  if (!out->is_object()) {
    *err = path + ": expected a JSON object at top level";
    return false;
  }
  return true;
}

bool IsExitCode(const ojson& v) {
  if (v.is_null()) return true;
  if (!v.is_number_integer()) return false;
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= INT_MAX;
  int64_t i = v.get<int64_t>();
  return i >= INT_MIN && i <= INT_MAX;
}

// `what` is an object whose every value satisfies `ok`; else *err names the key.
template <typename Pred>
bool ObjectOf(const std::string& path, const char* name, const ojson& what, Pred ok,
              const char* expected, std::string* err) {
  if (!what.is_object()) {
    *err = path + ": " + name + ": expected an object";
    return false;
  }
  for (auto it = what.begin(); it != what.end(); ++it) {
    if (!ok(it.value())) {
      *err = path + ": " + name + "[" + Quote(it.key()) + "]: expected " + expected + ", got " +
             it.value().dump();
      return false;
    }
  }
  return true;
}

bool IsNumber(const ojson& v) { return v.is_number(); }

// The keys mutmut's SourceFileMutationData writes; load() rejects any other.
bool ValidateMeta(const std::string& path, const ojson& j, std::string* err) {
  static const std::set<std::string> kRequired = {"exit_code_by_key", "durations_by_key",
                                                  "estimated_durations_by_key"};
  static const std::set<std::string> kOptional = {"hash_by_function_name", "type_check_error_by_key"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!kRequired.count(it.key()) && !kOptional.count(it.key())) {
      *err = path + ": unknown key " + Quote(it.key()) + " (not written by mutmut 3.x)";
      return false;
    }
  }
  for (const auto& k : kRequired) {
    if (!j.contains(k)) {
      *err = path + ": missing key " + Quote(k);
      return false;
    }
  }
  if (!ObjectOf(path, "exit_code_by_key", j["exit_code_by_key"], IsExitCode,
                "an integer exit code or null", err))
    return false;
  if (!ObjectOf(path, "durations_by_key", j["durations_by_key"], IsNumber, "a number", err)) return false;
  if (!ObjectOf(path, "estimated_durations_by_key", j["estimated_durations_by_key"], IsNumber,
                "a number", err))
    return false;
  if (j.contains("hash_by_function_name") &&
      !ObjectOf(path, "hash_by_function_name", j["hash_by_function_name"],
                [](const ojson& v) { return v.is_string(); }, "a string", err))
    return false;
  if (j.contains("type_check_error_by_key") &&
      !ObjectOf(path, "type_check_error_by_key", j["type_check_error_by_key"],
                [](const ojson& v) { return v.is_string() || v.is_null(); }, "a string or null", err))
    return false;
  for (auto it = j["exit_code_by_key"].begin(); it != j["exit_code_by_key"].end(); ++it) {
    if (MangledFunctionName(it.key()).empty()) {
      *err = path + ": exit_code_by_key[" + Quote(it.key()) + "]: not a mutant name (no \"__mutmut_\")";
      return false;
    }
  }
  return true;
}

std::optional<int> ExitCodeOf(const ojson& v) {
  if (v.is_null()) return std::nullopt;
  return static_cast<int>(v.get<int64_t>());
}

bool ParseNumber(const std::string& file, const std::string& key, const std::string& text,
                 double* out, std::string* err) {
  const char* s = text.c_str();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s, &end);
  while (end && (*end == ' ' || *end == '\t')) ++end;
  if (end == s || *end != '\0' || errno != 0 || !std::isfinite(v)) {
    *err = file + ": " + key + ": expected a number, got " + Quote(text);
    return false;
  }
  *out = v;
  return true;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// mutmut falls back to [mutmut] in setup.cfg (configparser: "key = value" or
// "key: value", keys case-insensitive, '#'/';' comment lines).
bool LoadSetupCfg(const std::string& path, MutmutTimeouts* out, std::string* err) {
  std::ifstream in(path);
  if (!in) return true;
  std::string line, section;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      section = Trim(t.substr(1, t.size() - 2));
      continue;
    }
    if (section != "mutmut") continue;
    size_t sep = t.find_first_of("=:");
    if (sep == std::string::npos) continue;
    std::string key = Trim(t.substr(0, sep));
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = Trim(t.substr(sep + 1));
    std::string where = path + ":" + std::to_string(lineno);
    if (key == "timeout_multiplier" && !ParseNumber(where, key, value, &out->timeout_multiplier, err))
      return false;
    if (key == "timeout_constant" && !ParseNumber(where, key, value, &out->timeout_constant, err))
      return false;
  }
  return true;
}

// Python's repr(float): the shortest digits that round-trip, fixed notation
// when the decimal exponent is in [-4, 16), else "d.ddde±XX"; integral values
// in fixed notation get ".0".
std::string PythonFloatRepr(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // "-d.ddde+XX"
  std::string sign;
  if (!sci.empty() && sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int exp10 = std::stoi(sci.substr(e + 1));
  int decpt = exp10 + 1;  // value = 0.DIGITS × 10^decpt
  if (decpt > -4 && decpt <= 16) {
    std::string out;
    if (decpt <= 0) {
      out = "0." + std::string(-decpt, '0') + digits;
    } else if (static_cast<size_t>(decpt) >= digits.size()) {
      out = digits + std::string(decpt - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, decpt) + "." + digits.substr(decpt);
    }
    return sign + out;
  }
  std::string mant = digits.substr(0, 1);
  if (digits.size() > 1) mant += "." + digits.substr(1);
  char ebuf[16];
  std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
  return sign + mant + ebuf;
}

// Python's json string encoding with ensure_ascii=True.
void PythonJsonString(const std::string& s, std::string* out) {
  out->push_back('"');
  size_t i = 0;
  auto hex4 = [out](unsigned v) {
    char b[16];
    std::snprintf(b, sizeof b, "\\u%04x", v & 0xffffu);
    out->append(b);
  };
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        case '\b': out->append("\\b"); break;
        case '\f': out->append("\\f"); break;
        default:
          // Python escapes everything outside ' '..'~', DEL included.
          if (c < 0x20 || c == 0x7f) hex4(c);
          else out->push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    // nlohmann has validated the UTF-8 while parsing.
    int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    uint32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (int k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      hex4(0xD800 + (cp >> 10));
      hex4(0xDC00 + (cp & 0x3FF));
    } else {
      hex4(cp);
    }
  }
  out->push_back('"');
}

// json.dump(obj, f, indent=4) byte for byte (mutmut's writer), so a rewrite
// changes nothing but the values mutcell sets.
void PythonJsonDump(const ojson& j, int level, std::string* out) {
  const std::string pad(4 * (level + 1), ' ');
  const std::string close_pad(4 * level, ' ');
  switch (j.type()) {
    case ojson::value_t::object: {
      if (j.empty()) {
        out->append("{}");
        return;
      }
      out->append("{\n");
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out->append(",\n");
        first = false;
        out->append(pad);
        PythonJsonString(it.key(), out);
        out->append(": ");
        PythonJsonDump(it.value(), level + 1, out);
      }
      out->append("\n" + close_pad + "}");
      return;
    }
    case ojson::value_t::array: {
      if (j.empty()) {
        out->append("[]");
        return;
      }
      out->append("[\n");
      for (size_t k = 0; k < j.size(); ++k) {
        if (k) out->append(",\n");
        out->append(pad);
        PythonJsonDump(j[k], level + 1, out);
      }
      out->append("\n" + close_pad + "]");
      return;
    }
    case ojson::value_t::string: PythonJsonString(j.get_ref<const std::string&>(), out); return;
    case ojson::value_t::number_float: out->append(PythonFloatRepr(j.get<double>())); return;
    default: out->append(j.dump()); return;  // integers, booleans, null
  }
}

}  // namespace

std::string MutmutStatus(std::optional<int> exit_code) {
  if (!exit_code) return "not checked";
  switch (*exit_code) {
    case 0: return "survived";
    case 1:
    case 3: return "killed";
    case 2: return "check was interrupted by user";
    case 5:
    case 33: return "no tests";
    case 34: return "skipped";
    case 35: return "suspicious";
    case 36:
    case 24:
    case -24:
    case 152:
    case 255: return "timeout";
    case 37: return "caught by type check";
    case -11:
    case -9: return "segfault";
    default: return "suspicious";
  }
}

bool LoadMutmutTimeouts(const std::string& project_dir, MutmutTimeouts* out, std::string* err) {
  *out = MutmutTimeouts{};
  std::string pyproject = project_dir + "/pyproject.toml";
  std::error_code ec;
  if (fs::exists(pyproject, ec)) {
    std::string text;
    if (!ReadWholeFile(pyproject, &text, err)) return false;
    toml::table doc;
    try {
      doc = toml::parse(text, pyproject);
    } catch (const toml::parse_error& e) {
      *err = pyproject + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description());
      return false;
    }
    if (const toml::table* t = doc["tool"]["mutmut"].as_table()) {
      for (const char* key : {"timeout_multiplier", "timeout_constant"}) {
        const toml::node* n = t->get(key);
        if (!n) continue;
        std::optional<double> v = n->value<double>();
        if (!(n->is_number()) || !v) {
          *err = pyproject + ":" + std::to_string(n->source().begin.line) + ": [tool.mutmut] " + key +
                 ": expected a number";
          return false;
        }
        (std::string(key) == "timeout_multiplier" ? out->timeout_multiplier : out->timeout_constant) = *v;
      }
      return true;
    }
  }
  return LoadSetupCfg(project_dir + "/setup.cfg", out, err);
}

bool LoadMutmutStats(const std::string& path, MutmutStats* out, std::string* err) {
  static const std::set<std::string> kKnown = {
      "tests_by_mangled_function_name", "duration_by_test", "stats_time", "function_hashes",
      "function_dependencies", "config_fingerprint", "watched_file_hashes", "git_commit"};
  std::string text;
  if (!ReadWholeFile(path, &text, err)) return false;
  ojson j;
  if (!ParseJson(path, text, &j, err)) return false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!kKnown.count(it.key())) {
      *err = path + ": unknown key " + Quote(it.key()) + " (not written by mutmut 3.x)";
      return false;
    }
  }
  for (const char* k : {"tests_by_mangled_function_name", "duration_by_test"}) {
    if (!j.contains(k)) {
      *err = path + ": missing key " + Quote(k);
      return false;
    }
  }
  MutmutStats s;
  if (!ObjectOf(path, "duration_by_test", j["duration_by_test"], IsNumber, "a number", err)) return false;
  for (auto it = j["duration_by_test"].begin(); it != j["duration_by_test"].end(); ++it)
    s.duration_by_test[it.key()] = it.value().get<double>();
  const ojson& tbf = j["tests_by_mangled_function_name"];
  auto is_list_of_strings = [](const ojson& v) {
    return v.is_array() && std::all_of(v.begin(), v.end(), [](const ojson& x) { return x.is_string(); });
  };
  if (!ObjectOf(path, "tests_by_mangled_function_name", tbf, is_list_of_strings, "a list of strings", err))
    return false;
  for (auto it = tbf.begin(); it != tbf.end(); ++it) {
    auto& tests = s.tests_by_function[it.key()];
    for (const auto& t : it.value()) {
      std::string name = t.get<std::string>();
      if (!s.duration_by_test.count(name)) {
        // mutmut itself fails with a KeyError on such a file.
        *err = path + ": tests_by_mangled_function_name[" + Quote(it.key()) + "]: test " + Quote(name) +
               " has no entry in duration_by_test";
        return false;
      }
      tests.push_back(std::move(name));
    }
  }
  if (j.contains("config_fingerprint")) s.config_fingerprint = j["config_fingerprint"].dump();
  *out = std::move(s);
  return true;
}

bool LoadMutmutMeta(const std::string& path, MutmutMeta* out, std::string* err) {
  std::string text;
  if (!ReadWholeFile(path, &text, err)) return false;
  ojson j;
  if (!ParseJson(path, text, &j, err) || !ValidateMeta(path, j, err)) return false;
  MutmutMeta m;
  m.path = path;
  for (auto it = j["exit_code_by_key"].begin(); it != j["exit_code_by_key"].end(); ++it)
    m.exit_codes.emplace_back(it.key(), ExitCodeOf(it.value()));
  if (j.contains("hash_by_function_name"))
    for (auto it = j["hash_by_function_name"].begin(); it != j["hash_by_function_name"].end(); ++it)
      m.hash_by_function_name[it.key()] = it.value().get<std::string>();
  *out = std::move(m);
  return true;
}

std::string MangledFunctionName(const std::string& mutant) {
  size_t pos = mutant.find("__mutmut_");
  return pos == std::string::npos ? "" : mutant.substr(0, pos);
}

bool ListMutmutMetaFiles(const std::string& project_dir, std::vector<std::string>* out, std::string* err) {
  const std::string mutants_dir = project_dir + "/mutants";
  std::vector<std::string> metas;
  std::error_code ec;
  fs::recursive_directory_iterator it(mutants_dir, ec), end;
  if (ec) {
    *err = mutants_dir + ": " + ec.message();
    return false;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) {
      *err = mutants_dir + ": " + ec.message();
      return false;
    }
    const fs::path& p = it->path();
    if (p.extension() != ".meta" || !it->is_regular_file(ec)) continue;
    // mutmut walks the project's sources, so a .meta of a deleted source
    // file is not a mutant any more.
    fs::path rel = fs::relative(p, mutants_dir, ec);
    fs::path source = fs::path(project_dir) / rel;
    source.replace_extension();
    if (ec || !fs::exists(source, ec)) continue;
    metas.push_back(p.string());
  }
  std::sort(metas.begin(), metas.end());
  *out = std::move(metas);
  return true;
}

bool CheckMutmutMetaFiles(const std::string& project_dir, std::string* err) {
  std::error_code ec;
  if (!fs::is_directory(project_dir + "/mutants", ec)) return true;  // the first run: nothing stored yet
  std::vector<std::string> metas;
  if (!ListMutmutMetaFiles(project_dir, &metas, err)) return false;
  for (const std::string& path : metas) {
    MutmutMeta meta;
    if (!LoadMutmutMeta(path, &meta, err)) return false;
  }
  return true;
}

bool ListMutmutMutants(const std::string& project_dir, const MutmutTimeouts& timeouts,
                       std::vector<MutmutMutant>* out, std::string* err) {
  const std::string mutants_dir = project_dir + "/mutants";
  MutmutStats stats;
  if (!LoadMutmutStats(mutants_dir + "/mutmut-stats.json", &stats, err)) return false;
  std::vector<std::string> metas;
  if (!ListMutmutMetaFiles(project_dir, &metas, err)) return false;

  std::vector<MutmutMutant> all;
  for (const auto& path : metas) {
    MutmutMeta meta;
    if (!LoadMutmutMeta(path, &meta, err)) return false;
    for (const auto& [key, code] : meta.exit_codes) {
      MutmutMutant m;
      m.name = key;
      m.meta_path = path;
      m.exit_code = code;
      // mutmut's run loop looks tests up after dropping "__init__." (a quirk
      // that only matters for a top-level __init__.py).
      std::string lookup = key;
      for (size_t pos; (pos = lookup.find("__init__.")) != std::string::npos;) lookup.erase(pos, 9);
      auto found = stats.tests_by_function.find(MangledFunctionName(lookup));
      if (found != stats.tests_by_function.end()) {
        std::set<std::string> unique(found->second.begin(), found->second.end());
        m.tests.assign(unique.begin(), unique.end());
        std::stable_sort(m.tests.begin(), m.tests.end(), [&](const std::string& a, const std::string& b) {
          return stats.duration_by_test.at(a) < stats.duration_by_test.at(b);
        });
        for (const auto& t : m.tests) m.estimate_s += stats.duration_by_test.at(t);
      }
      m.timeout_s = (m.estimate_s + timeouts.timeout_constant) * timeouts.timeout_multiplier;
      // mutmut keys the hash by the function's mangled name without its
      // module: "x_add", "xǁClassǁmethod" (create_mutants_for_file).
      const std::string mangled = MangledFunctionName(key);
      const size_t dot = mangled.rfind('.');
      auto hash = meta.hash_by_function_name.find(dot == std::string::npos ? mangled : mangled.substr(dot + 1));
      if (hash != meta.hash_by_function_name.end()) m.function_hash = hash->second;
      m.mutmut_config = stats.config_fingerprint;
      all.push_back(std::move(m));
    }
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const MutmutMutant& a, const MutmutMutant& b) { return a.estimate_s < b.estimate_s; });
  *out = std::move(all);
  return true;
}

std::string MutmutFingerprint(const MutmutMutant& m) {
  std::string identity = m.name;
  // Each part on its own line, tagged, so no concatenation of parts is ambiguous
  // (names and hashes hold no newline; test ids are checked by mutmut).
  identity += "\n#function " + m.function_hash;
  identity += "\n#config " + m.mutmut_config;
  std::vector<std::string> covering = m.tests;
  std::sort(covering.begin(), covering.end());
  for (const std::string& t : covering) identity += "\n" + t;
  return Fingerprint(identity);
}

std::optional<Verdict> VerdictForMutmutCode(int code) {
  switch (code) {
    case 0: return Verdict::kSurvived;
    case 2: return std::nullopt;
    case 5:
    case 33: return Verdict::kNoTests;
    case 34: return Verdict::kSkipped;
    case 35: return Verdict::kCrashed;
    case 24:
    case -24:
    case 36:
    case 152:
    case 255: return Verdict::kTimeout;
    case 37: return Verdict::kKilled;
    default: return code < 0 ? Verdict::kCrashed : Verdict::kKilled;
  }
}

bool MutantSelected(const std::string& name, const std::vector<std::string>& patterns) {
  if (patterns.empty()) return true;
  for (const auto& p : patterns) {
    // Python's fnmatch has no escapes and no special leading dot or slash.
    if (p == name || fnmatch(p.c_str(), name.c_str(), FNM_NOESCAPE) == 0) return true;
  }
  return false;
}

std::optional<int> MutmutExitCodeFor(Verdict v, std::optional<int> exit_code, std::optional<int> signal,
                                     int oom_code) {
  switch (v) {
    case Verdict::kKilled: return exit_code && *exit_code != 0 ? *exit_code : mutmut_code::kKilled;
    case Verdict::kSurvived: return mutmut_code::kSurvived;
    case Verdict::kTimeout: return mutmut_code::kTimeout;
    case Verdict::kOom: return oom_code;
    case Verdict::kCrashed: return signal ? -*signal : mutmut_code::kSuspicious;
    case Verdict::kNoTests: return mutmut_code::kNoTests;
    case Verdict::kSkipped: return mutmut_code::kSkipped;
    case Verdict::kError: return std::nullopt;
  }
  return std::nullopt;
}

bool WriteMutmutResults(const std::string& path, const std::vector<MutmutResult>& results,
                        std::string* err) {
  std::string text;
  if (!ReadWholeFile(path, &text, err)) return false;
  ojson j;
  if (!ParseJson(path, text, &j, err) || !ValidateMeta(path, j, err)) return false;
  for (const auto& r : results) {
    if (!j["exit_code_by_key"].contains(r.key)) {
      *err = path + ": exit_code_by_key has no mutant " + Quote(r.key) + "; nothing written";
      return false;
    }
    if (!std::isfinite(r.duration_s) || (r.estimate_s && !std::isfinite(*r.estimate_s))) {
      *err = path + ": " + Quote(r.key) + ": duration is not a finite number; nothing written";
      return false;
    }
  }
  for (const auto& r : results) {
    j["exit_code_by_key"][r.key] = r.exit_code;
    j["durations_by_key"][r.key] = r.duration_s;
    if (r.estimate_s) j["estimated_durations_by_key"][r.key] = *r.estimate_s;
  }
  std::string content;
  PythonJsonDump(j, 0, &content);
  return WriteFileAtomically(path, content, err);
}

bool WriteResultsToMeta(const std::vector<ResultRecord>& results, const std::vector<MutmutMutant>& mutants,
                        int oom_code, size_t* written, size_t* files, std::string* missing, std::string* err) {
  std::map<std::string, const MutmutMutant*> by_name;
  for (const MutmutMutant& m : mutants) by_name[m.name] = &m;
  std::map<std::string, std::vector<MutmutResult>> by_file;
  *written = 0;
  for (const ResultRecord& r : results) {
    auto it = by_name.find(r.id);
    if (it == by_name.end()) {
      *missing = r.id;
      return false;
    }
    if (r.origin == "mutmut") continue;  // mutmut's own result: already there, with its duration
    std::optional<int> code = MutmutExitCodeFor(r.verdict, r.exit_code, r.signal, oom_code);
    if (!code) continue;  // error: stays "not checked", so the next run tries it again
    MutmutResult res;
    res.key = r.id;
    res.exit_code = *code;
    res.duration_s = r.duration_s;
    res.estimate_s = it->second->estimate_s;
    by_file[it->second->meta_path].push_back(res);
    ++*written;
  }
  for (const auto& [path, file_results] : by_file)
    if (!WriteMutmutResults(path, file_results, err)) return false;
  *files = by_file.size();
  return true;
}

}  // namespace mutcell
