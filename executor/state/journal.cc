#include "executor/state/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <limits>
#include <string_view>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "executor/common/atomic_file.h"
#include "executor/common/fast_json.h"

namespace mutcell {
namespace {

// ordered_json keeps "type" first, which makes the file readable by eye.
using ojson = nlohmann::ordered_json;
using json = nlohmann::json;

std::string Dump(const ojson& j) { return j.dump(-1, ' ', false, ojson::error_handler_t::replace); }

// Typed field access for loading: a record with a field of the wrong type is
// a bad record, not a default value, since it means the file is not ours.
class Fields {
 public:
  explicit Fields(const json& j) : j_(j) {}
  std::string problem;

  bool String(const char* key, std::string* out, bool required = false) {
    auto it = j_.find(key);
    if (it == j_.end()) return !required || Fail(key, "is missing");
    if (!it->is_string()) return Fail(key, "is not a string");
    *out = it->get<std::string>();
    return true;
  }
  bool Unsigned(const char* key, uint64_t* out) {
    auto it = j_.find(key);
    if (it == j_.end()) return true;
    if (!it->is_number_unsigned()) return Fail(key, "is not a non-negative integer");
    *out = it->get<uint64_t>();
    return true;
  }
  bool Int(const char* key, int* out) {
    auto it = j_.find(key);
    if (it == j_.end()) return true;
    if (!it->is_number_integer() || it->get<int64_t>() < std::numeric_limits<int>::min() ||
        it->get<int64_t>() > std::numeric_limits<int>::max())
      return Fail(key, "is not an integer");
    *out = static_cast<int>(it->get<int64_t>());
    return true;
  }
  template <typename T>
  bool Optional(const char* key, std::optional<T>* out) {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return true;
    if constexpr (std::is_same_v<T, int>) {
      int v = 0;
      if (!Int(key, &v)) return false;
      *out = v;
    } else if constexpr (std::is_same_v<T, double>) {
      double v = 0;
      if (!Double(key, &v)) return false;
      *out = v;
    } else {
      uint64_t v = 0;
      if (!Unsigned(key, &v)) return false;
      *out = v;
    }
    return true;
  }
  bool Double(const char* key, double* out) {
    auto it = j_.find(key);
    if (it == j_.end()) return true;
    if (!it->is_number()) return Fail(key, "is not a number");
    *out = it->get<double>();
    return true;
  }

 private:
  bool Fail(const char* key, const char* what) {
    problem = std::string("\"") + key + "\" " + what;
    return false;
  }
  const json& j_;
};

enum class Kind { kHeader, kResult, kComplete };

struct Parsed {
  Kind kind = Kind::kResult;
  int version = 0;
  JournalHeader header;
  ResultRecord result;
};

// Parses one line; false with *problem (no location) when it is not a record.
bool ParseRecord(std::string_view line, Parsed* p, std::string* problem) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    *problem = "not a JSON record";
    return false;
  }
  if (!j.is_object()) {
    *problem = "not a JSON object";
    return false;
  }
  Fields f(j);
  std::string type;
  if (!f.String("type", &type, true)) {
    *problem = f.problem;
    return false;
  }
  if (type == "header") {
    p->kind = Kind::kHeader;
    JournalHeader& h = p->header;
    auto v = j.find("version");
    if (v == j.end() || !v->is_number_integer() || v->get<int64_t>() < 1 || v->get<int64_t>() > 1000000) {
      *problem = "header without a valid \"version\"";
      return false;
    }
    p->version = static_cast<int>(v->get<int64_t>());
    if (p->version > kJournalVersion) return true;  // the caller refuses it; other fields may differ
    if (!f.String("plan_fingerprint", &h.plan_fingerprint) ||
        !f.String("config_fingerprint", &h.config_fingerprint) ||
        !f.String("mutcell_version", &h.mutcell_version) || !f.String("backend", &h.backend) ||
        !f.Unsigned("cell_memory_bytes", &h.cell_memory_bytes) ||
        !f.Unsigned("mutant_count", &h.mutant_count) || !f.String("started_at", &h.started_at) ||
        !f.Unsigned("budget_bytes", &h.budget_bytes) ||
        !f.Unsigned("effective_limit_bytes", &h.effective_limit_bytes) || !f.String("memory", &h.memory) ||
        !f.Unsigned("clean_run_peak_bytes", &h.clean_run_peak_bytes) ||
        !f.Optional("oom_exit_code", &h.oom_exit_code)) {
      *problem = "header: " + f.problem;
      return false;
    }
    return true;
  }
  if (type == "result") {
    p->kind = Kind::kResult;
    ResultRecord& r = p->result;
    std::string verdict;
    if (!f.String("id", &r.id, true) || !f.String("fingerprint", &r.fingerprint) ||
        !f.String("verdict", &verdict, true) || !f.Optional("exit_code", &r.exit_code) ||
        !f.Optional("signal", &r.signal) || !f.Double("duration_s", &r.duration_s) ||
        !f.Unsigned("peak_memory_bytes", &r.peak_memory_bytes) ||
        !f.Unsigned("cell_limit_bytes", &r.cell_limit_bytes) || !f.String("backend", &r.backend) ||
        !f.Int("attempts", &r.attempts) || !f.String("error", &r.error) ||
        !f.Optional("zygote_generation", &r.zygote_generation) ||
        !f.Optional("zygote_memory_bytes", &r.zygote_memory_bytes) || !f.Unsigned("seq", &r.seq) ||
        !f.Unsigned("pids_max_hits", &r.pids_max_hits) || !f.Unsigned("left_behind_bytes", &r.left_behind_bytes) ||
        !f.String("origin", &r.origin) || !f.Optional("timeout_limit_s", &r.timeout_limit_s) ||
        !f.Optional("pids_limit", &r.pids_limit)) {
      *problem = "result: " + f.problem;
      return false;
    }
    if (r.id.empty()) {
      *problem = "result: \"id\" is empty";
      return false;
    }
    if (!ParseVerdict(verdict, &r.verdict)) {
      *problem = "result: unknown verdict \"" + verdict.substr(0, 40) + "\"";
      return false;
    }
    return true;
  }
  if (type == "complete") {
    p->kind = Kind::kComplete;
    return true;
  }
  *problem = "unknown record type \"" + type.substr(0, 40) + "\"";
  return false;
}

// The common record without a DOM: a "result" or "complete" record as
// JournalLine writes it ("type" first, each field once, plain values).
// False when the line is anything else or has any problem: ParseRecord then
// decides, and words the problem. *p is left partly filled then.
bool ParseRecordFast(std::string_view line, Parsed* p) {
  JsonScanner s(line);
  std::string_view key;
  std::string type;
  if (!s.Expect('{') || !s.Key(&key) || key != "type" || !s.String(&type)) return false;
  if (type == "complete") {
    p->kind = Kind::kComplete;
    while (s.Accept(',')) {
      if (!s.Key(&key) || key == "type" || !s.SkipScalar()) return false;
    }
    return s.Expect('}') && s.AtEnd();
  }
  if (type != "result") return false;
  p->kind = Kind::kResult;
  ResultRecord& r = p->result;
  JsonNumber n;
  auto is_int = [&] {
    return s.Number(&n) && n.integer && n.magnitude <= (n.negative ? uint64_t{1} << 31 : (uint64_t{1} << 31) - 1);
  };
  auto is_unsigned = [&] { return s.Number(&n) && n.integer && !n.negative; };
  auto as_int = [&] { return static_cast<int>(n.negative ? -static_cast<int64_t>(n.magnitude) : static_cast<int64_t>(n.magnitude)); };
  std::string verdict;
  uint32_t seen = 0;
  while (s.Accept(',')) {
    if (!s.Key(&key)) return false;
    int bit = -1;
    bool ok = false;
    if (key == "id") {
      bit = 0;
      ok = s.String(&r.id) && !r.id.empty();
    } else if (key == "fingerprint") {
      bit = 1;
      ok = s.String(&r.fingerprint);
    } else if (key == "verdict") {
      bit = 2;
      ok = s.String(&verdict) && ParseVerdict(verdict, &r.verdict);
    } else if (key == "exit_code" || key == "signal" || key == "zygote_generation") {
      std::optional<int>* out = key == "exit_code" ? &r.exit_code : key == "signal" ? &r.signal : &r.zygote_generation;
      bit = key == "exit_code" ? 3 : key == "signal" ? 4 : 5;
      ok = s.AcceptNull() || (is_int() && (*out = as_int(), true));
    } else if (key == "duration_s") {
      bit = 6;
      ok = s.Number(&n);
      r.duration_s = n.value;
    } else if (key == "peak_memory_bytes" || key == "cell_limit_bytes" || key == "seq") {
      uint64_t* out = key == "seq" ? &r.seq : key == "peak_memory_bytes" ? &r.peak_memory_bytes : &r.cell_limit_bytes;
      bit = key == "seq" ? 7 : key == "peak_memory_bytes" ? 8 : 9;
      ok = is_unsigned();
      *out = n.magnitude;
    } else if (key == "pids_max_hits" || key == "left_behind_bytes") {
      uint64_t* out = key == "pids_max_hits" ? &r.pids_max_hits : &r.left_behind_bytes;
      bit = key == "pids_max_hits" ? 14 : 15;
      ok = is_unsigned();
      *out = n.magnitude;
    } else if (key == "backend") {
      bit = 10;
      ok = s.String(&r.backend);
    } else if (key == "attempts") {
      bit = 11;
      ok = is_int();
      r.attempts = as_int();
    } else if (key == "error") {
      bit = 12;
      ok = s.String(&r.error);
    } else if (key == "zygote_memory_bytes") {
      bit = 13;
      ok = s.AcceptNull() || (is_unsigned() && (r.zygote_memory_bytes = n.magnitude, true));
    } else if (key == "origin") {
      bit = 16;
      ok = s.String(&r.origin);
    } else if (key == "timeout_limit_s") {
      bit = 17;
      ok = s.Number(&n);
      r.timeout_limit_s = n.value;
    } else if (key == "pids_limit") {
      bit = 18;
      ok = is_unsigned() && (r.pids_limit = n.magnitude, true);
    } else if (key == "type") {
      return false;
    } else {
      ok = s.SkipScalar();  // an unknown field, as ParseRecord ignores it
    }
    if (!ok) return false;
    if (bit >= 0) {
      if (seen & (1u << bit)) return false;  // repeated: nlohmann decides which counts
      seen |= 1u << bit;
    }
  }
  return (seen & 1u) && (seen & 4u) && s.Expect('}') && s.AtEnd();
}

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return false;
    if (w == 0) {
      errno = EIO;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::string UtcTimestamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string JournalLine(const JournalHeader& h) {
  ojson j;
  j["type"] = "header";
  j["version"] = kJournalVersion;
  j["plan_fingerprint"] = h.plan_fingerprint;
  j["config_fingerprint"] = h.config_fingerprint;
  j["mutcell_version"] = h.mutcell_version;
  j["backend"] = h.backend;
  j["cell_memory_bytes"] = h.cell_memory_bytes;
  j["mutant_count"] = h.mutant_count;
  j["started_at"] = h.started_at;
  j["budget_bytes"] = h.budget_bytes;
  j["effective_limit_bytes"] = h.effective_limit_bytes;
  j["memory"] = h.memory;
  if (h.clean_run_peak_bytes) j["clean_run_peak_bytes"] = h.clean_run_peak_bytes;
  if (h.oom_exit_code) j["oom_exit_code"] = *h.oom_exit_code;
  return Dump(j);
}

std::string JournalLine(const ResultRecord& r) {
  // The bytes an ordered_json of these fields dumps, written directly: one
  // DOM per record was most of an append's cost.
  auto optional_int = [](std::string* out, const auto& v) {
    if (v) *out += std::to_string(*v);
    else *out += "null";
  };
  std::string j = "{\"type\":\"result\",\"id\":";
  AppendJsonString(&j, r.id);
  j += ",\"fingerprint\":";
  AppendJsonString(&j, r.fingerprint);
  j += ",\"verdict\":";
  AppendJsonString(&j, VerdictName(r.verdict));
  j += ",\"exit_code\":";
  optional_int(&j, r.exit_code);
  j += ",\"signal\":";
  optional_int(&j, r.signal);
  j += ",\"duration_s\":";
  j += ojson(r.duration_s).dump();  // nlohmann's shortest round-trip form
  j += ",\"peak_memory_bytes\":";
  j += std::to_string(r.peak_memory_bytes);
  j += ",\"cell_limit_bytes\":";
  j += std::to_string(r.cell_limit_bytes);
  j += ",\"backend\":";
  AppendJsonString(&j, r.backend);
  j += ",\"attempts\":";
  j += std::to_string(r.attempts);
  j += ",\"error\":";
  AppendJsonString(&j, r.error);
  j += ",\"zygote_generation\":";
  optional_int(&j, r.zygote_generation);
  j += ",\"zygote_memory_bytes\":";
  optional_int(&j, r.zygote_memory_bytes);
  j += ",\"seq\":";
  j += std::to_string(r.seq);
  // Optional facts, only when they happened: old journals and readers stay as they were.
  if (r.pids_max_hits) {
    j += ",\"pids_max_hits\":";
    j += std::to_string(r.pids_max_hits);
  }
  if (r.left_behind_bytes) {
    j += ",\"left_behind_bytes\":";
    j += std::to_string(r.left_behind_bytes);
  }
  if (!r.origin.empty()) {
    j += ",\"origin\":";
    AppendJsonString(&j, r.origin);
  }
  if (r.timeout_limit_s) {
    j += ",\"timeout_limit_s\":";
    j += ojson(*r.timeout_limit_s).dump();
  }
  if (r.pids_limit) {
    j += ",\"pids_limit\":";
    j += std::to_string(*r.pids_limit);
  }
  if (r.log_dropped_bytes > 0) {
    j += ",\"log_dropped_bytes\":";
    j += std::to_string(r.log_dropped_bytes);
  }
  j += '}';
  return j;
}

bool LoadJournal(const std::string& path, JournalContents* out, std::string* err) {
  *out = JournalContents{};
  std::string text;
  if (!ReadWholeFile(path, &text, err)) {
    if (errno == ENOENT) return true;
    *err = path + ": cannot read the journal: " + std::strerror(errno);
    return false;
  }
  // A result record is over 200 bytes: room for all without regrowing.
  out->results.reserve(std::min<size_t>(text.size() / 200 + 1, size_t{1} << 20));

  // One pass over the lines; an unterminated tail is a line too (a record
  // cut just before its newline is whole and kept). A line that is not a
  // record is judged when the next record is known: it is ignored if it is
  // the last, or directly before a header; otherwise it is the error.
  auto where = [&](size_t number) { return path + ":" + std::to_string(number); };
  bool seen_header = false;
  size_t bad_number = 0;  // a line not yet judged (0: none)
  std::string bad_problem, problem;
  Parsed p;
  size_t start = 0, number = 1;
  for (; start < text.size(); ++number) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string::npos ? text.size() : nl;
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    p.kind = Kind::kResult;
    p.result = ResultRecord{};
    bool ok = ParseRecordFast(line, &p);
    if (!ok) {
      p = Parsed{};
      problem.clear();
      ok = ParseRecord(line, &p, &problem);
    }
    if (bad_number != 0) {
      if (!(ok && p.kind == Kind::kHeader)) {
        *err = where(bad_number) + ": " + bad_problem +
               "; the journal is damaged before its last record (nothing was changed; move it away or "
               "start over with --fresh)";
        return false;
      }
      out->warnings.push_back(where(bad_number) + ": torn record at the end of a session ignored (" + bad_problem +
                              ")");
      bad_number = 0;
    }
    if (ok && p.kind == Kind::kResult && !seen_header) {
      ok = false;
      problem = "result record before any header";
    }
    if (!ok) {
      bad_number = number;
      bad_problem = problem;
      continue;
    }
    switch (p.kind) {
      case Kind::kHeader:
        if (p.version > kJournalVersion) {
          *err = where(number) + ": journal format version " + std::to_string(p.version) +
                 " is newer than this mutcell supports (" + std::to_string(kJournalVersion) +
                 "); use a newer mutcell or start over with --fresh";
          return false;
        }
        seen_header = true;
        out->headers.push_back(std::move(p.header));
        out->complete = false;
        break;
      case Kind::kResult:
        p.result.session = out->headers.empty() ? 0 : out->headers.size() - 1;
        out->results.push_back(std::move(p.result));
        break;
      case Kind::kComplete: out->complete = true; break;
    }
  }
  if (bad_number != 0)
    out->warnings.push_back(where(bad_number) + ": torn or unreadable last record ignored (" + bad_problem + ")");
  return true;
}

JournalWriter::~JournalWriter() {
  std::string ignored;
  Close(&ignored);
}

bool JournalWriter::Open(const std::string& path, const JournalHeader& header, std::string* err) {
  if (fd_ >= 0) {
    *err = path + ": journal writer is already open on " + path_;
    return false;
  }
  bool existed = access(path.c_str(), F_OK) == 0;
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    *err = path + ": cannot open the journal: " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    *err = path + ": fstat: " + std::strerror(errno);
    close(fd);
    return false;
  }
  fd_ = fd;
  path_ = path;
  size_ = static_cast<uint64_t>(st.st_size);
  dirty_ = false;
  broken_ = false;
  std::string line = JournalLine(header) + "\n";
  if (size_ > 0) {
    char last = 0;
    if (pread(fd_, &last, 1, static_cast<off_t>(size_ - 1)) != 1) {
      *err = path + ": cannot read the journal's end: " + std::strerror(errno);
      close(fd_);
      fd_ = -1;
      return false;
    }
    // A crash cut the last record; closing its line keeps our header (and
    // the next session's records) whole. LoadJournal ignores the torn line.
    if (last != '\n') line.insert(line.begin(), '\n');
  }
  if (!AppendLine(line, [] { return std::string("the session header"); }, err) || !Sync(err)) {
    close(fd_);
    fd_ = -1;
    return false;
  }
  if (!existed) {
    // The new directory entry must survive a crash as well as the header.
    int dfd = open(DirOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      fsync(dfd);
      close(dfd);
    }
  }
  return true;
}

bool JournalWriter::EnsureInPlace(std::string* err) {
  struct stat fst, pst;
  if (fstat(fd_, &fst) != 0) {
    *err = path_ + ": fstat: " + std::strerror(errno);
    return false;
  }
  if (fst.st_nlink > 0 && stat(path_.c_str(), &pst) == 0 && pst.st_dev == fst.st_dev && pst.st_ino == fst.st_ino)
    return true;
  spdlog::warn("{}: the journal was {} under the run; rewriting it from the open file ({} bytes)", path_,
               fst.st_nlink == 0 ? "deleted" : "replaced", size_);
  std::error_code ec;
  std::filesystem::create_directories(DirOf(path_), ec);
  const std::string tmp = path_ + ".restore-" + std::to_string(getpid());
  int out = open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    *err = tmp + ": cannot restore the journal: " + std::strerror(errno);
    return false;
  }
  char buf[1 << 16];
  uint64_t off = 0;
  bool ok = true;
  while (ok && off < size_) {
    ssize_t n = pread(fd_, buf, std::min<uint64_t>(sizeof buf, size_ - off), static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0 && WriteAll(out, buf, static_cast<size_t>(n));
    if (ok) off += static_cast<uint64_t>(n);
  }
  ok = ok && fsync(out) == 0 && std::rename(tmp.c_str(), path_.c_str()) == 0;
  if (!ok) {
    *err = path_ + ": cannot restore the journal: " + std::strerror(errno);
    close(out);
    unlink(tmp.c_str());
    return false;
  }
  int dfd = open(DirOf(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  // O_APPEND like the original descriptor; the new one points at the same file.
  fcntl(out, F_SETFL, fcntl(out, F_GETFL) | O_APPEND);
  close(fd_);
  fd_ = out;
  dirty_ = false;
  restores_++;
  if (on_restore_) on_restore_();
  return true;
}

bool JournalWriter::AppendLine(const std::string& line, const std::function<std::string()>& what,
                               std::string* err) {
  if (fd_ < 0) {
    *err = "journal is not open; " + what() + " was not recorded";
    return false;
  }
  if (!EnsureInPlace(err)) {
    *err += "; " + what() + " was not recorded";
    return false;
  }
  if (broken_) {
    *err = path_ + ": an earlier write to the journal failed and could not be undone; " + what() +
           " was not recorded";
    return false;
  }
  // One write() for the whole line: a crash leaves at most one torn record,
  // at the end. A short write (disk full) is finished or cut off again.
  if (WriteAll(fd_, line.data(), line.size())) {
    size_ += line.size();
    dirty_ = true;
    return true;
  }
  int saved = errno;
  *err = path_ + ": cannot append to the journal: " + std::strerror(saved) + "; " + what() +
         " was not recorded";
  if (ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
    broken_ = true;
    *err += " (and the partial record could not be removed: " + std::string(std::strerror(errno)) + ")";
  }
  return false;
}

bool JournalWriter::Append(const ResultRecord& r, std::string* err) {
  return AppendLine(JournalLine(r) + "\n", [&r] {
    std::string id = r.id.size() > 80 ? r.id.substr(0, 80) + "..." : r.id;
    return "the result of mutant " + json(id).dump(-1, ' ', false, json::error_handler_t::replace);
  }, err);
}

bool JournalWriter::MarkComplete(std::string* err) {
  ojson j;
  j["type"] = "complete";
  j["at"] = UtcTimestamp();
  return AppendLine(Dump(j) + "\n", [] { return std::string("the completion record"); }, err) && Sync(err);
}

bool JournalWriter::Sync(std::string* err) {
  if (fd_ >= 0 && !EnsureInPlace(err)) return false;
  if (fd_ < 0 || !dirty_) return true;
  if (fdatasync(fd_) != 0) {
    *err = path_ + ": cannot sync the journal: " + std::strerror(errno);
    return false;
  }
  dirty_ = false;
  return true;
}

bool JournalWriter::Close(std::string* err) {
  if (fd_ < 0) return true;
  bool ok = Sync(err);
  if (close(fd_) != 0 && ok) {
    *err = path_ + ": cannot close the journal: " + std::strerror(errno);
    ok = false;
  }
  fd_ = -1;
  return ok;
}

}  // namespace mutcell
