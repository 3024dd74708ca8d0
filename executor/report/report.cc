#include "executor/report/report.h"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "executor/common/printable.h"
#include "executor/report/report_markdown.h"
#include "executor/report/report_schema.h"
#include "limits/size.h"

namespace mutcell {
namespace {

constexpr Verdict kAllVerdicts[] = {Verdict::kKilled,  Verdict::kSurvived, Verdict::kTimeout,
                                    Verdict::kOom,     Verdict::kCrashed,  Verdict::kNoTests,
                                    Verdict::kSkipped, Verdict::kError};

// Display width: UTF-8 continuation bytes take no column.
size_t Width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s)
    if ((c & 0xc0) != 0x80) ++w;
  return w;
}

std::string SignalText(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::to_string(sig) + " (SIG" + abbrev + ")" : std::to_string(sig);
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fs", s);
  return buf;
}

void WriteTable(const std::vector<ResultRecord>& results, std::ostream& out) {
  const std::vector<std::string> head = {"ID",       "VERDICT",     "EXIT",     "SIGNAL",
                                         "DURATION", "PEAK MEMORY", "ATTEMPTS", "SOURCE"};
  std::vector<std::vector<std::string>> rows;
  rows.reserve(results.size());
  for (const ResultRecord& r : results) {
    rows.push_back({Printable(r.id), std::string(VerdictName(r.verdict)),
                    r.exit_code ? std::to_string(*r.exit_code) : "-", r.signal ? SignalText(*r.signal) : "-",
                    Seconds(r.duration_s), FormatSize(r.peak_memory_bytes), std::to_string(r.attempts),
                    r.source.empty() ? "-" : r.source});
  }
  std::vector<size_t> width(head.size());
  for (size_t c = 0; c < head.size(); ++c) width[c] = head[c].size();
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], Width(row[c]));
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      bool last = c + 1 == row.size();
      // Numbers right-aligned, text left-aligned.
      bool right = c >= 2 && c + 1 < head.size();
      std::string pad(width[c] - Width(row[c]), ' ');
      line += right ? pad + row[c] : (last ? row[c] : row[c] + pad);
      if (!last) line += "  ";
    }
    out << line << '\n';
  };
  print(head);
  for (const auto& row : rows) print(row);

  std::map<Verdict, size_t> counts;
  for (const ResultRecord& r : results) ++counts[r.verdict];
  out << '\n' << results.size() << (results.size() == 1 ? " mutant" : " mutants");
  bool first = true;
  for (Verdict v : kAllVerdicts) {
    auto it = counts.find(v);
    if (it == counts.end()) continue;
    out << (first ? ": " : ", ") << VerdictName(v) << ' ' << it->second;
    first = false;
  }
  out << '\n';
}

void WriteJson(const std::vector<ResultRecord>& results, std::ostream& out) {
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const ResultRecord& r : results) {
    nlohmann::ordered_json j;
    j["id"] = r.id;
    j["verdict"] = std::string(VerdictName(r.verdict));
    j["exit_code"] = r.exit_code ? nlohmann::ordered_json(*r.exit_code) : nullptr;
    j["signal"] = r.signal ? nlohmann::ordered_json(*r.signal) : nullptr;
    j["duration_s"] = r.duration_s;
    j["peak_memory_bytes"] = r.peak_memory_bytes;
    j["cell_limit_bytes"] = r.cell_limit_bytes;
    j["attempts"] = r.attempts;
    j["backend"] = r.backend;
    j["error"] = r.error.empty() ? nullptr : nlohmann::ordered_json(r.error);
    j["zygote_generation"] = r.zygote_generation ? nlohmann::ordered_json(*r.zygote_generation) : nullptr;
    j["zygote_memory_bytes"] = r.zygote_memory_bytes ? nlohmann::ordered_json(*r.zygote_memory_bytes) : nullptr;
    j["seq"] = r.seq;
    if (r.pids_max_hits) j["pids_max_hits"] = r.pids_max_hits;
    if (r.left_behind_bytes) j["left_behind_bytes"] = r.left_behind_bytes;
    j["source"] = r.source.empty() ? nullptr : nlohmann::ordered_json(r.source);
    arr.push_back(std::move(j));
  }
  out << arr.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
}

// RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled.
std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + '"';
}

void WriteCsv(const std::vector<ResultRecord>& results, std::ostream& out) {
  // RFC 4180 lines end in CRLF.
  out << "id,verdict,exit_code,signal,duration_s,peak_memory_bytes,cell_limit_bytes,attempts,backend,error,source\r\n";
  for (const ResultRecord& r : results) {
    char dur[32];
    std::snprintf(dur, sizeof dur, "%.3f", r.duration_s);
    out << CsvField(r.id) << ',' << VerdictName(r.verdict) << ','
        << (r.exit_code ? std::to_string(*r.exit_code) : "") << ','
        << (r.signal ? std::to_string(*r.signal) : "") << ',' << dur << ',' << r.peak_memory_bytes << ','
        << r.cell_limit_bytes << ',' << r.attempts << ',' << CsvField(r.backend) << ',' << CsvField(r.error)
        << ',' << CsvField(r.source) << "\r\n";
  }
}

}  // namespace

bool ParseReportFormat(const std::string& s, ReportFormat* out, std::string* err) {
  if (s == "table") *out = ReportFormat::kTable;
  else if (s == "json") *out = ReportFormat::kJson;
  else if (s == "csv") *out = ReportFormat::kCsv;
  else if (s == "mutation-testing-json") *out = ReportFormat::kMutationTestingJson;
  else if (s == "markdown") *out = ReportFormat::kMarkdown;
  else {
    *err = "unknown report format '" + Printable(s) + "' (use table, json, csv, mutation-testing-json or markdown)";
    return false;
  }
  return true;
}

std::string SourceOf(const ResultRecord& r, size_t latest_session) {
  if (r.origin == "mutmut") return "mutmut";
  if (!r.origin.empty() || r.session < latest_session) return "earlier mutcell run";
  return "this run";
}

void WriteReport(const std::vector<ResultRecord>& results, ReportFormat format, std::ostream& out) {
  switch (format) {
    case ReportFormat::kTable: WriteTable(results, out); break;
    case ReportFormat::kJson: WriteJson(results, out); break;
    case ReportFormat::kCsv: WriteCsv(results, out); break;
    case ReportFormat::kMutationTestingJson: WriteSchemaReport(results, SourceIndex(), out); break;
    case ReportFormat::kMarkdown: WriteMarkdownReport(results, SourceIndex(), out); break;
  }
}

}  // namespace mutcell
