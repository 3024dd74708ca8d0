#include "executor/report/report_schema.h"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "limits/size.h"
#include "version.h"

namespace mutcell {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kUnknownFile = "(unknown location)";

Json Position(int line, int column) {
  return Json{{"line", line}, {"column", column}};
}

std::string Reason(const ResultRecord& r) {
  char buf[64];
  switch (r.verdict) {
    case Verdict::kKilled:
      return r.exit_code ? "tests failed (exit " + std::to_string(*r.exit_code) + ")" : "tests failed";
    case Verdict::kSurvived:
      return "tests passed";
    case Verdict::kTimeout:
      std::snprintf(buf, sizeof buf, "%.2f", r.duration_s);
      return std::string("timeout: the cell was killed after ") + buf + " s";
    case Verdict::kOom:
      return "oom: peak " + FormatSize(r.peak_memory_bytes) + " reached the cell limit " +
             FormatSize(r.cell_limit_bytes);
    case Verdict::kCrashed:
      return r.signal ? "crashed: signal " + std::to_string(*r.signal) : "crashed";
    case Verdict::kNoTests:
      return "no test covers this mutant";
    case Verdict::kSkipped:
      return "skipped";
    case Verdict::kError:
      return "mutcell error (not a verdict on the mutant): " + r.error;
  }
  return "";
}

Json Facts(const ResultRecord& r, const MutantSource* src) {
  Json m;
  m["verdict"] = std::string(VerdictName(r.verdict));
  m["peakMemoryBytes"] = r.peak_memory_bytes;
  m["cellLimitBytes"] = r.cell_limit_bytes;
  m["durationSeconds"] = r.duration_s;
  m["attempts"] = r.attempts;
  m["exitCode"] = r.exit_code ? Json(*r.exit_code) : Json(nullptr);
  m["signal"] = r.signal ? Json(*r.signal) : Json(nullptr);
  m["backend"] = r.backend;
  m["error"] = r.error.empty() ? Json(nullptr) : Json(r.error);
  m["zygoteGeneration"] = r.zygote_generation ? Json(*r.zygote_generation) : Json(nullptr);
  m["zygoteMemoryBytes"] = r.zygote_memory_bytes ? Json(*r.zygote_memory_bytes) : Json(nullptr);
  m["seq"] = r.seq;
  m["diff"] = src && !src->diff.empty() ? Json(src->diff) : Json(nullptr);
  return m;
}

Json Document(const std::vector<ResultRecord>& results, const SourceIndex& sources) {
  Json doc;
  doc["schemaVersion"] = "2";
  doc["thresholds"] = Json{{"high", 80}, {"low", 60}};
  doc["projectRoot"] = ".";
  std::map<std::string, size_t> counts;
  for (const ResultRecord& r : results) ++counts[std::string(VerdictName(r.verdict))];
  Json verdicts = Json::object();
  for (const auto& [name, n] : counts) verdicts[name] = n;
  doc["config"] =
      Json{{"mutcell", Json{{"version", MUTCELL_VERSION}, {"mutants", results.size()}, {"verdicts", verdicts}}}};
  doc["framework"] = Json{{"name", "mutcell"}, {"version", MUTCELL_VERSION}};

  // Files in path order, mutants in run order within a file.
  std::map<std::string, Json> mutants_by_file;
  std::vector<const ResultRecord*> ordered;
  for (const ResultRecord& r : results) ordered.push_back(&r);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const ResultRecord* a, const ResultRecord* b) { return a->seq < b->seq; });
  for (const ResultRecord* r : ordered) {
    auto it = sources.mutants.find(r->id);
    const MutantSource* src = it == sources.mutants.end() ? nullptr : &it->second;
    // Placed only inside its file's source (a plan's line may be outside).
    auto file = src ? sources.files.find(src->file) : sources.files.end();
    const bool placed =
        file != sources.files.end() && src->end_line <= 1 + std::count(file->second.begin(), file->second.end(), '\n');
    Json m;
    m["id"] = r->id;
    m["mutatorName"] = src && !src->mutator.empty() ? src->mutator : "mutmut";
    if (src) m["replacement"] = src->replacement;
    if (placed) {
      m["location"] = Json{{"start", Position(src->line, src->column)},
                           {"end", Position(src->end_line, std::max(src->end_column, 1))}};
    } else {
      m["location"] = Json{{"start", Position(1, 1)}, {"end", Position(1, 1)}};
    }
    m["status"] = SchemaStatus(r->verdict);
    m["statusReason"] = Reason(*r);
    m["duration"] = static_cast<int64_t>(r->duration_s * 1000 + 0.5);
    m["mutcell"] = Facts(*r, src);
    Json& list = mutants_by_file[placed ? src->file : kUnknownFile];
    if (list.is_null()) list = Json::array();
    list.push_back(std::move(m));
  }
  Json files = Json::object();
  for (auto& [file, list] : mutants_by_file) {
    auto src = sources.files.find(file);
    files[file] = Json{{"language", "python"},
                       {"source", src == sources.files.end() ? std::string() : src->second},
                       {"mutants", std::move(list)}};
  }
  doc["files"] = std::move(files);
  return doc;
}

std::string Dump(const Json& doc, int indent) {
  return doc.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

const char* SchemaStatus(Verdict v) {
  switch (v) {
    case Verdict::kKilled:
      return "Killed";
    case Verdict::kSurvived:
      return "Survived";
    case Verdict::kTimeout:
    case Verdict::kOom:
      return "Timeout";
    case Verdict::kCrashed:
      return "RuntimeError";
    case Verdict::kNoTests:
      return "NoCoverage";
    case Verdict::kSkipped:
      return "Ignored";
    case Verdict::kError:
      return "RuntimeError";
  }
  return "RuntimeError";
}

void WriteSchemaReport(const std::vector<ResultRecord>& results, const SourceIndex& sources, std::ostream& out) {
  out << Dump(Document(results, sources), 2) << '\n';
}

std::string SchemaReportForHtml(const std::vector<ResultRecord>& results, const SourceIndex& sources) {
  std::string text = Dump(Document(results, sources), -1);
  // '<' occurs only inside JSON strings, where \u003c means the same.
  std::string out;
  out.reserve(text.size() + 64);
  for (char c : text) {
    if (c == '<')
      out += "\\u003c";
    else
      out += c;
  }
  return out;
}

}  // namespace mutcell
