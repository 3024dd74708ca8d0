#include "executor/plan/plan.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <set>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "executor/common/fast_json.h"
#include "executor/common/fingerprint.h"
#include "executor/common/printable.h"

namespace mutcell {
namespace {

using nlohmann::json;

// A deadline beyond this is a typo, and would overflow the scheduler's
// nanosecond arithmetic long before it mattered.
constexpr double kMaxTimeoutS = 1e7;

// Untrusted text in an error message: JSON-quoted (so control characters and
// terminal escapes are inert) and cut short (so a 1 MiB id stays readable).
std::string Quote(const std::string& s) {
  constexpr size_t kMax = 120;
  std::string q = json(s.size() > kMax ? s.substr(0, kMax) : s)
                      .dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > kMax) q += "...";
  return q;
}

// ---- plan lines --------------------------------------------------------

// Tracks keys per open object while nlohmann parses, because nlohmann keeps
// only one value of a repeated key and a plan with {"id":"a","id":"b"} is
// ambiguous, not a choice we may make silently.
struct RepeatedKeyFinder {
  std::vector<std::set<std::string>> open;
  std::string repeated;

  bool operator()(int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: open.emplace_back(); break;
      case json::parse_event_t::object_end:
        if (!open.empty()) open.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open.empty() && parsed.is_string() && !open.back().insert(parsed.get<std::string>()).second &&
            repeated.empty())
          repeated = parsed.get<std::string>();
        break;
      default: break;
    }
    return true;
  }
};

// nlohmann's messages start with "[json.exception.parse_error.101] parse
// error at line 1, column 5: ..."; the bracketed tag means nothing to users
// and "line 1" is wrong in a multi-line file.
std::string CleanJsonError(const std::string& what) {
  std::string s = what;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find("] ");
    if (close != std::string::npos) s = s.substr(close + 2);
  }
  const std::string line1 = "at line 1, column ";
  size_t at = s.find(line1);
  if (at != std::string::npos) s.replace(at, line1.size(), "at column ");
  // The "last read" part quotes the input: control and non-ASCII bytes are
  // shown as \xNN, and a long token is cut.
  return PrintableAscii(s, 240);
}

bool HasNul(const std::string& s) { return s.find('\0') != std::string::npos; }

bool GetString(const json& v, const std::string& where, const std::string& key, std::string* out,
               std::string* err) {
  if (!v.is_string()) {
    *err = where + ": \"" + key + "\" must be a string, not " + v.type_name();
    return false;
  }
  *out = v.get<std::string>();
  if (HasNul(*out)) {
    *err = where + ": \"" + key + "\" contains a NUL character";
    return false;
  }
  return true;
}

bool GetStringArray(const json& v, const std::string& where, const std::string& key,
                    std::vector<std::string>* out, std::string* err) {
  if (!v.is_array()) {
    *err = where + ": \"" + key + "\" must be an array of strings, not " + v.type_name();
    return false;
  }
  out->clear();
  for (size_t i = 0; i < v.size(); ++i) {
    if (!GetString(v[i], where, key + "[" + std::to_string(i) + "]", &out->emplace_back(), err))
      return false;
  }
  return true;
}

bool GetSeconds(const json& v, const std::string& where, const std::string& key, bool zero_ok,
                double* out, std::string* err) {
  if (!v.is_number()) {
    *err = where + ": \"" + key + "\" must be a number of seconds, not " + v.type_name();
    return false;
  }
  double d = v.get<double>();
  if (!std::isfinite(d) || d < 0 || (!zero_ok && d == 0) || d > kMaxTimeoutS) {
    *err = where + ": \"" + key + "\" is " + v.dump() + "; it must be " +
           (zero_ok ? "at least 0" : "greater than 0") + " and at most " +
           std::to_string(static_cast<long>(kMaxTimeoutS));
    return false;
  }
  *out = d;
  return true;
}

bool GetEnv(const json& v, const std::string& where, std::map<std::string, std::string>* out,
            std::string* err) {
  if (!v.is_object()) {
    *err = where + ": \"env\" must be an object of strings, not " + v.type_name();
    return false;
  }
  for (const auto& [name, value] : v.items()) {
    if (name.empty() || name.find('=') != std::string::npos || HasNul(name)) {
      *err = where + ": \"env\" has an invalid variable name " + Quote(name) +
             " (it must be non-empty and contain no '=' or NUL)";
      return false;
    }
    if (!GetString(value, where, "env." + name, &(*out)[name], err)) return false;
  }
  return true;
}

// Reads `path` line by line without ever holding more than kMaxPlanLineBytes
// of one line, so an absurd line is refused before it is parsed or stored.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}

  enum Result { kLine, kEnd, kTooLong, kReadError };

  Result Next(std::string* line) {
    line->clear();
    while (true) {
      if (pos_ == len_) {
        ssize_t n = read(fd_, buf_, sizeof buf_);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return kReadError;
        if (n == 0) {
          if (!pending_) return kEnd;
          pending_ = false;
          return kLine;
        }
        pos_ = 0;
        len_ = static_cast<size_t>(n);
      }
      pending_ = true;
      const char* start = buf_ + pos_;
      const void* nl = std::memchr(start, '\n', len_ - pos_);
      size_t take = nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) : len_ - pos_;
      if (line->size() + take > kMaxPlanLineBytes) return kTooLong;
      line->append(start, take);
      pos_ += take;
      if (nl) {
        ++pos_;
        pending_ = false;
        return kLine;
      }
    }
  }

 private:
  int fd_;
  char buf_[65536];
  size_t pos_ = 0, len_ = 0;
  bool pending_ = false;  // bytes of an unfinished last line were read
};

}  // namespace

std::string MutantFingerprint(const Mutant& m) {
  // The canonical JSON of the fields, as nlohmann's dump() of an object (a
  // std::map) writes it: sorted keys, no whitespace, shortest round-trip
  // numbers. Built directly: a DOM per mutant was most of a plan's load.
  std::string j = "{\"argv\":[";
  for (size_t i = 0; i < m.argv.size(); ++i) {
    if (i) j += ',';
    AppendJsonString(&j, m.argv[i]);
  }
  j += "],\"cwd\":";
  AppendJsonString(&j, m.cwd);
  j += ",\"env\":{";
  bool first = true;
  for (const auto& [name, value] : m.env) {
    if (!first) j += ',';
    first = false;
    AppendJsonString(&j, name);
    j += ':';
    AppendJsonString(&j, value);
  }
  j += "},\"id\":";
  AppendJsonString(&j, m.id);
  j += ",\"tests\":[";
  for (size_t i = 0; i < m.tests.size(); ++i) {
    if (i) j += ',';
    AppendJsonString(&j, m.tests[i]);
  }
  j += "],\"timeout_s\":";
  j += m.timeout_s ? json(*m.timeout_s).dump() : std::string("null");
  j += '}';
  return Fingerprint(j);
}

namespace {

// What one plan line says, before defaults are applied.
struct LineFields {
  Mutant m;
  bool has_argv = false, has_cwd = false;
  std::map<std::string, std::string> env;
};

// The common plan line without a DOM: false when the line is anything but
// plainly valid (the slow path then decides, and words the error).
bool ParseFieldsFast(std::string_view line, LineFields* f) {
  JsonScanner s(line);
  if (!s.Expect('{')) return false;
  if (s.Accept('}')) return false;  // no "id": the slow path says so
  enum : unsigned {
    kId = 1, kArgv = 2, kEnv = 4, kCwd = 8, kTimeout = 16, kEstimate = 32, kTests = 64, kFile = 128, kLine = 256
  };
  unsigned seen = 0;
  std::string_view key;
  std::string name, value;
  auto strings = [&](std::vector<std::string>* out) {
    if (!s.Expect('[')) return false;
    if (s.Accept(']')) return true;
    do {
      if (!s.String(&out->emplace_back())) return false;
    } while (s.Accept(','));
    return s.Expect(']');
  };
  auto seconds = [&](bool zero_ok, std::optional<double>* out) {
    JsonNumber n;
    if (!s.Number(&n)) return false;
    if (n.value < 0 || (!zero_ok && n.value == 0) || n.value > kMaxTimeoutS) return false;
    *out = n.value;
    return true;
  };
  do {
    if (!s.Key(&key)) return false;
    unsigned bit = 0;
    bool ok = false;
    if (key == "id") {
      bit = kId;
      ok = s.String(&f->m.id) && !f->m.id.empty();
    } else if (key == "argv") {
      bit = kArgv;
      ok = strings(&f->m.argv);
      f->has_argv = true;
    } else if (key == "env") {
      bit = kEnv;
      ok = s.Expect('{');
      if (ok && !s.Accept('}')) {
        do {
          ok = s.Key(&name) && !name.empty() && name.find('=') == std::string::npos && s.String(&value) &&
               f->env.emplace(name, value).second;  // a repeated name is the slow path's error
        } while (ok && s.Accept(','));
        ok = ok && s.Expect('}');
      }
    } else if (key == "cwd") {
      bit = kCwd;
      ok = s.String(&f->m.cwd);
      f->has_cwd = true;
    } else if (key == "timeout_s") {
      bit = kTimeout;
      ok = seconds(false, &f->m.timeout_s);
    } else if (key == "estimate_s") {
      bit = kEstimate;
      ok = seconds(true, &f->m.estimate_s);
    } else if (key == "tests") {
      bit = kTests;
      ok = strings(&f->m.tests);
    } else if (key == "file") {
      bit = kFile;
      ok = s.String(&f->m.file);
    } else if (key == "line") {
      bit = kLine;
      JsonNumber n;
      ok = s.Number(&n) && n.integer && !n.negative && n.magnitude >= 1 && n.magnitude <= 1u << 30;
      f->m.line = static_cast<int>(n.magnitude);
    }
    if (!ok || (seen & bit)) return false;  // unknown or repeated keys included
    seen |= bit;
  } while (s.Accept(','));
  return (seen & kId) && s.Expect('}') && s.AtEnd();
}

// The exact parse: nlohmann::json, every problem named.
bool ParseFieldsSlow(const std::string& line, const std::string& where, LineFields* f, std::string* err) {
  RepeatedKeyFinder finder;
  json j;
  try {
    j = json::parse(line, std::ref(finder));
  } catch (const json::exception& e) {
    *err = where + ": not JSON: " + CleanJsonError(e.what());
    return false;
  }
  if (!j.is_object()) {
    *err = where + ": expected a JSON object, not " + std::string(j.type_name());
    return false;
  }
  if (!finder.repeated.empty()) {
    *err = where + ": key " + Quote(finder.repeated) + " appears more than once";
    return false;
  }
  Mutant& m = f->m;
  if (!j.contains("id")) {
    *err = where + ": missing \"id\"";
    return false;
  }
  for (const auto& [key, v] : j.items()) {
    bool ok = true;
    if (key == "id") {
      ok = GetString(v, where, key, &m.id, err);
      if (ok && m.id.empty()) {
        *err = where + ": \"id\" is empty";
        ok = false;
      }
    } else if (key == "argv") {
      ok = GetStringArray(v, where, key, &m.argv, err);
      f->has_argv = true;
    } else if (key == "env") {
      ok = GetEnv(v, where, &f->env, err);
    } else if (key == "cwd") {
      ok = GetString(v, where, key, &m.cwd, err);
      f->has_cwd = true;
    } else if (key == "timeout_s") {
      double d = 0;
      ok = GetSeconds(v, where, key, false, &d, err);
      m.timeout_s = d;
    } else if (key == "estimate_s") {
      double d = 0;
      ok = GetSeconds(v, where, key, true, &d, err);
      m.estimate_s = d;
    } else if (key == "tests") {
      ok = GetStringArray(v, where, key, &m.tests, err);
    } else if (key == "file") {
      ok = GetString(v, where, key, &m.file, err);
    } else if (key == "line") {
      if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > (int64_t{1} << 30)) {
        *err = where + ": \"line\" must be an integer >= 1";
        ok = false;
      } else {
        m.line = static_cast<int>(v.get<int64_t>());
      }
    } else {
      *err = where + ": unknown key " + Quote(key) +
             " (known: id, argv, env, cwd, timeout_s, estimate_s, tests, file, line)";
      ok = false;
    }
    if (!ok) return false;
  }
  return true;
}

// `where` is built only for an error: a plan has many lines and few errors.
template <typename Where>
bool ParseLine(const std::string& line, const Where& where, const PlanDefaults& defaults, Mutant* out,
               std::string* err) {
  if (line.size() > kMaxPlanLineBytes) {
    *err = where() + ": line is longer than " + std::to_string(kMaxPlanLineBytes) + " bytes";
    return false;
  }
  LineFields f;
  if (!ParseFieldsFast(line, &f)) {
    f = LineFields{};
    if (!ParseFieldsSlow(line, where(), &f, err)) return false;
  }
  Mutant& m = f.m;
  if (!f.has_argv) m.argv = defaults.argv;
  if (m.argv.empty()) {
    *err = where() + (f.has_argv ? ": \"argv\" is empty"
                                 : ": no \"argv\" and no default command (set argv in the config)");
    return false;
  }
  if (m.argv[0].empty()) {
    *err = where() + ": \"argv[0]\" is empty";
    return false;
  }
  if (!f.has_cwd) m.cwd = defaults.cwd;
  if (f.env.empty()) {
    m.env = defaults.env;
  } else {
    m.env = defaults.env;
    for (auto& [name, value] : f.env) m.env[name] = std::move(value);
  }
  m.fingerprint = MutantFingerprint(m);
  *out = std::move(m);
  return true;
}

}  // namespace

bool ParsePlanLine(const std::string& line, const std::string& where, const PlanDefaults& defaults,
                   Mutant* out, std::string* err) {
  return ParseLine(line, [&] { return where; }, defaults, out, err);
}

bool LoadPlan(const std::string& path, const PlanDefaults& defaults, Plan* out, std::string* err) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = path + ": cannot open the plan: " + std::strerror(errno);
    return false;
  }
  Plan plan;
  plan.path = path;
  std::unordered_map<std::string, size_t> first_line;  // id -> line number
  // Room for as many mutants as short lines would hold, so that neither the
  // vector nor the map grows (moving every mutant) while loading; pages
  // never written are never touched.
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_size > 0) {
    const size_t guess = std::min<size_t>(static_cast<size_t>(st.st_size) / 32 + 1, size_t{1} << 20);
    plan.mutants.reserve(guess);
    first_line.reserve(guess);
  }
  LineReader reader(fd);
  std::string line, all_fingerprints;
  bool ok = true;
  for (size_t lineno = 1;; ++lineno) {
    auto where = [&] { return path + ":" + std::to_string(lineno); };
    LineReader::Result r = reader.Next(&line);
    if (r == LineReader::kEnd) break;
    if (r == LineReader::kReadError) {
      *err = where() + ": read error: " + std::strerror(errno);
      ok = false;
      break;
    }
    if (r == LineReader::kTooLong) {
      *err = where() + ": line is longer than " + std::to_string(kMaxPlanLineBytes) + " bytes";
      ok = false;
      break;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    Mutant m;
    if (!ParseLine(line, where, defaults, &m, err)) {
      ok = false;
      break;
    }
    auto [it, inserted] = first_line.emplace(m.id, lineno);
    if (!inserted) {
      *err = where() + ": duplicate id " + Quote(m.id) + " (first on line " + std::to_string(it->second) + ")";
      ok = false;
      break;
    }
    all_fingerprints += m.fingerprint;
    all_fingerprints += '\n';
    plan.mutants.push_back(std::move(m));
  }
  close(fd);
  if (!ok) return false;
  if (plan.mutants.empty()) {
    *err = path + ": the plan has no mutants";
    return false;
  }
  plan.fingerprint = Fingerprint(all_fingerprints);
  *out = std::move(plan);
  return true;
}

}  // namespace mutcell
