#include "executor/report/report_html.h"

#include "executor/state/gates.h"
#include "executor/common/install_paths.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <numeric>
#include <optional>

#include "executor/common/atomic_file.h"
#include "executor/report/report_schema.h"
#include "limits/size.h"

namespace mutcell {
namespace {

// Chart geometry in SVG user units (the SVG scales to the page width).
constexpr int kWidth = 1000;
constexpr int kHeight = 340;
constexpr int kLeft = 78;
constexpr int kRight = 16;
constexpr int kTop = 22;
constexpr int kBottom = 44;
constexpr int kPlotW = kWidth - kLeft - kRight;
constexpr int kPlotH = kHeight - kTop - kBottom;
/// More mutants than this share a column: the column shows the group's highest peak.
constexpr size_t kMaxColumns = kPlotW;
/// Survivors whose diff is printed below the chart (the page stays small).
constexpr size_t kMaxSurvivorDiffs = 200;

const char* VerdictColor(Verdict v) {
  switch (v) {
    case Verdict::kKilled: return "#3b7dd8";
    case Verdict::kSurvived: return "#e39b1b";
    case Verdict::kOom: return "#d62728";
    case Verdict::kTimeout: return "#8e44ad";
    case Verdict::kCrashed: return "#7f4f24";
    case Verdict::kNoTests:
    case Verdict::kSkipped: return "#b0b0b0";
    case Verdict::kError: return "#555555";
  }
  return "#555555";
}

std::string Num(double v, const char* fmt = "%.1f") {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// Appends one UTF-8 sequence starting at s[i] if valid; returns its length,
// or 0 when the bytes there are not valid UTF-8.
size_t ValidUtf8Length(const std::string& s, size_t i) {
  auto cont = [&](size_t k) {
    return k < s.size() && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80;
  };
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 >= 0xA0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
    if (c == 0xF0 && c1 < 0x90) return 0;
    if (c == 0xF4 && c1 >= 0x90) return 0;
    return 4;
  }
  return 0;
}

// Powers of two from `lo` to `hi` (both powers of two), every `factor`-th so
// at most ~7 ticks are drawn.
std::vector<uint64_t> LogTicks(uint64_t lo, uint64_t hi) {
  uint64_t factor = 2;
  while (true) {
    size_t n = 0;
    for (uint64_t t = lo; t <= hi && t != 0; t *= factor) ++n;
    if (n <= 7) break;
    factor *= 2;
  }
  std::vector<uint64_t> ticks;
  for (uint64_t t = lo; t <= hi && t != 0; t *= factor) ticks.push_back(t);
  return ticks;
}

uint64_t PowerOfTwoAtMost(uint64_t v) {
  uint64_t p = 1;
  while (p <= v / 2) p *= 2;
  return p;
}

uint64_t PowerOfTwoAtLeast(uint64_t v) {
  uint64_t p = 1;
  while (p < v && p < (uint64_t{1} << 62)) p *= 2;
  return p;
}

struct Column {
  size_t first = 0, last = 0;  // positions in run order, inclusive
  size_t top = 0;              // position of the highest peak
  size_t ooms = 0, timeouts = 0;
  size_t first_oom = 0, first_timeout = 0;
  uint64_t cell_limit = 0;                // highest in the column
  std::optional<uint64_t> zygote_memory;  // highest in the column
};

class Page {
 public:
  Page(const std::vector<ResultRecord>& results, const HtmlReportOptions& options)
      : r_(results), options_(options) {
    order_.resize(r_.size());
    std::iota(order_.begin(), order_.end(), size_t{0});
    std::stable_sort(order_.begin(), order_.end(),
                     [&](size_t a, size_t b) { return r_[a].seq < r_[b].seq; });
  }

  std::string Render() {
    s_.reserve(r_.size() * 420 + 16384);
    Head();
    Summary();
    Chart();
    Elements();
    Survivors();
    Table();
    Script();
    s_ += "</body>\n</html>\n";
    return std::move(s_);
  }

 private:
  const ResultRecord& At(size_t pos) const { return r_[order_[pos]]; }

  void Head() {
    s_ +=
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        // Everything is inline; forbid any fetch so an untrusted id can never
        // make the page reach the network.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>mutcell: memory per mutant</title>\n<style>\n"
        "body{font:14px/1.4 system-ui,sans-serif;margin:20px;color:#222;background:#fff}\n"
        "h1{font-size:20px;margin:0 0 6px}\n"
        ".summary{margin:0 0 12px;color:#444}\n"
        ".summary b{color:#222}\n"
        "figure{margin:0 0 18px;max-width:1100px}\n"
        "#chart{width:100%;height:auto;border:1px solid #ddd;background:#fcfcfc}\n"
        "#chart .bar:hover{opacity:.6}\n"
        ".legend svg{vertical-align:middle;margin-right:4px}\n"
        ".legend{font-size:13px;color:#444;margin-top:4px}\n"
        ".legend span{display:inline-block;margin-right:14px}\n"
        ".sw{display:inline-block;width:12px;height:12px;vertical-align:-1px;margin-right:4px}\n"
        "table{border-collapse:collapse;font-size:13px}\n"
        "th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;white-space:nowrap}\n"
        "td.n,th.n{text-align:right}\n"
        "th{cursor:pointer;background:#f3f3f3;position:sticky;top:0;user-select:none}\n"
        "th[aria-sort=ascending]::after{content:' \\25B2'}\n"
        "th[aria-sort=descending]::after{content:' \\25BC'}\n"
        "td.id{white-space:normal;word-break:break-all;max-width:520px;font-family:monospace}\n"
        "tr.v-oom td.v{color:#d62728;font-weight:bold}\n"
        "tr.v-timeout td.v{color:#8e44ad;font-weight:bold}\n"
        "h2{font-size:16px;margin:18px 0 6px}\n"
        "#survivors pre{background:#f7f7f7;border:1px solid #e4e4e4;padding:6px 8px;margin:4px 0 10px;"
        "font-size:12px;overflow:auto}\n"
        "#survivors .add{color:#1a7f37}#survivors .del{color:#cf222e}#survivors .hunk{color:#8250df}\n"
        "#survivors h3{font-size:13px;margin:8px 0 0;font-family:monospace;font-weight:normal}\n"
        "</style>\n</head>\n<body>\n";
  }

  void Summary() {
    std::map<std::string, size_t> counts;
    size_t top = 0;
    for (size_t i = 0; i < r_.size(); ++i) {
      ++counts[std::string(VerdictName(r_[i].verdict))];
      if (r_[i].peak_memory_bytes > r_[top].peak_memory_bytes) top = i;
    }
    s_ += "<h1>mutcell: memory per mutant</h1>\n<p class=\"summary\" id=\"summary\"><b>" +
          std::to_string(r_.size()) + "</b> mutant" + (r_.size() == 1 ? "" : "s");
    for (const auto& [name, n] : counts) {
      s_ += " &middot; " + name + " <b>" + std::to_string(n) + "</b>";
    }
    if (std::optional<double> score = TallyResults(r_, r_.size()).score()) {
      s_ += " &middot; mutation score <b id=\"score\">" + Num(*score, "%.1f") + "%</b>";
    }
    if (!r_.empty()) {
      s_ += " &middot; highest peak <b>" + FormatSize(r_[top].peak_memory_bytes) + "</b> (" +
            HtmlEscape(r_[top].id) + ")";
    }
    s_ += "</p>\n";
  }

  // Log scale: a run whose mutants all stay small still shows their
  // differences, and a limit far above them stays on the chart.
  double Y(uint64_t bytes) const {
    double lo = std::log2(static_cast<double>(ymin_)), hi = std::log2(static_cast<double>(ymax_));
    double v = (std::log2(static_cast<double>(std::max(bytes, ymin_))) - lo) / (hi - lo);
    return kTop + kPlotH * (1.0 - std::min(v, 1.0));
  }

  std::vector<Column> Columns() const {
    std::vector<Column> cols;
    const size_t n = r_.size();
    const size_t ncols = std::min(n, kMaxColumns);
    cols.reserve(ncols);
    for (size_t c = 0; c < ncols; ++c) {
      Column col;
      col.first = c * n / ncols;
      col.last = (c + 1) * n / ncols - 1;
      col.top = col.first;
      for (size_t p = col.first; p <= col.last; ++p) {
        const ResultRecord& rec = At(p);
        if (rec.peak_memory_bytes > At(col.top).peak_memory_bytes) col.top = p;
        if (rec.verdict == Verdict::kOom && col.ooms++ == 0) col.first_oom = p;
        if (rec.verdict == Verdict::kTimeout && col.timeouts++ == 0) col.first_timeout = p;
        col.cell_limit = std::max(col.cell_limit, rec.cell_limit_bytes);
        if (rec.zygote_memory_bytes) {
          col.zygote_memory = std::max(col.zygote_memory.value_or(0), *rec.zygote_memory_bytes);
        }
      }
      cols.push_back(col);
    }
    return cols;
  }

  // A step line through the columns' values; gaps where a value is absent.
  std::string StepPath(const std::vector<Column>& cols, double colw,
                       std::optional<uint64_t> (*value)(const Column&)) const {
    std::string d;
    std::optional<uint64_t> prev;
    for (size_t c = 0; c < cols.size(); ++c) {
      std::optional<uint64_t> v = value(cols[c]);
      double x0 = kLeft + colw * static_cast<double>(c), x1 = x0 + colw;
      if (!v) {
        prev.reset();
        continue;
      }
      if (!prev) d += "M" + Num(x0) + " " + Num(Y(*v));
      else if (*prev != *v) d += "L" + Num(x0) + " " + Num(Y(*v));
      if (c + 1 == cols.size() || !value(cols[c + 1]) || *value(cols[c + 1]) != *v) {
        d += "L" + Num(x1) + " " + Num(Y(*v));
      }
      prev = v;
    }
    return d;
  }

  void Chart() {
    std::vector<Column> cols = Columns();
    uint64_t top = 1 << 20, bottom = UINT64_MAX;
    for (const ResultRecord& rec : r_) {
      top = std::max({top, rec.peak_memory_bytes, rec.cell_limit_bytes,
                      rec.zygote_memory_bytes.value_or(0)});
      for (uint64_t v : {rec.peak_memory_bytes, rec.cell_limit_bytes, rec.zygote_memory_bytes.value_or(0)})
        if (v > 0) bottom = std::min(bottom, v);
    }
    if (bottom == UINT64_MAX) bottom = 1 << 20;
    ymax_ = PowerOfTwoAtLeast(top + top / 8);
    ymin_ = std::max<uint64_t>(4096, std::min(PowerOfTwoAtMost(bottom / 2), ymax_ / 4));
    const double colw = cols.empty() ? kPlotW : static_cast<double>(kPlotW) / cols.size();
    const bool grouped = r_.size() > cols.size();

    s_ += "<figure>\n<svg id=\"chart\" viewBox=\"0 0 " + std::to_string(kWidth) + " " +
          std::to_string(kHeight) +
          "\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"chart-title\">\n"
          "<title id=\"chart-title\">Peak memory per mutant in run order</title>\n";
    // Grid and y axis.
    for (uint64_t t : LogTicks(ymin_, ymax_)) {
      std::string y = Num(Y(t));
      s_ += "<line x1=\"" + std::to_string(kLeft) + "\" x2=\"" + std::to_string(kLeft + kPlotW) +
            "\" y1=\"" + y + "\" y2=\"" + y + "\" stroke=\"#e4e4e4\"/>"
            "<text x=\"" + std::to_string(kLeft - 6) + "\" y=\"" + Num(Y(t) + 4) +
            "\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">" + FormatSize(t) + "</text>\n";
    }
    s_ += "<text x=\"" + std::to_string(kLeft + kPlotW / 2) + "\" y=\"" +
          std::to_string(kHeight - 8) +
          "\" font-size=\"12\" text-anchor=\"middle\" fill=\"#444\">mutants in run order (1&#8211;" +
          std::to_string(r_.size()) + ")" +
          (grouped ? ", " + std::to_string(r_.size()) + " mutants in " + std::to_string(cols.size()) +
                         " columns: each shows its highest peak"
                   : std::string()) +
          "</text>\n<text transform=\"translate(14 " + std::to_string(kTop + kPlotH / 2) +
          ") rotate(-90)\" font-size=\"12\" text-anchor=\"middle\" fill=\"#444\">peak memory (log scale)</text>\n";

    // Bars.
    s_ += "<g id=\"bars\">\n";
    for (size_t c = 0; c < cols.size(); ++c) {
      const Column& col = cols[c];
      const ResultRecord& rec = At(col.top);
      // Few mutants: keep bars narrow and centred in their column.
      double w = std::min(colw > 3 ? colw - 1 : colw, 36.0);
      double x = kLeft + colw * static_cast<double>(c) + (colw - w) / 2;
      double y = Y(rec.peak_memory_bytes);
      double h = kTop + kPlotH - y;
      if (h < 0.8 && rec.peak_memory_bytes > 0) h = 0.8, y = kTop + kPlotH - h;
      s_ += "<rect class=\"bar\" data-verdict=\"" + std::string(VerdictName(rec.verdict)) + "\" x=\"" + Num(x, "%.2f") + "\" y=\"" + Num(y, "%.2f") +
            "\" width=\"" + Num(w, "%.2f") + "\" height=\"" + Num(h, "%.2f") + "\" fill=\"" +
            VerdictColor(rec.verdict) + "\"><title>#" + std::to_string(col.top + 1) + " " +
            HtmlEscape(rec.id) + "\n" + std::string(VerdictName(rec.verdict)) + ", peak " +
            FormatSize(rec.peak_memory_bytes) +
            (rec.cell_limit_bytes ? " of " + FormatSize(rec.cell_limit_bytes) : std::string()) +
            (col.last > col.first ? "\nhighest of #" + std::to_string(col.first + 1) + "&#8211;#" +
                                        std::to_string(col.last + 1)
                                  : std::string()) +
            "</title></rect>\n";
    }
    s_ += "</g>\n";

    // Limit and zygote lines.
    std::string limit_path = StepPath(cols, colw, [](const Column& c) -> std::optional<uint64_t> {
      if (c.cell_limit == 0) return std::nullopt;
      return c.cell_limit;
    });
    if (!limit_path.empty()) {
      s_ += "<path id=\"cell-limit\" d=\"" + limit_path +
            "\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\">"
            "<title>cell memory limit</title></path>\n";
    }
    std::string zygote_path = StepPath(cols, colw, [](const Column& c) { return c.zygote_memory; });
    if (!zygote_path.empty()) {
      s_ += "<path id=\"zygote-memory\" d=\"" + zygote_path +
            "\" fill=\"none\" stroke=\"#2ca02c\" stroke-width=\"1.5\">"
            "<title>zygote memory at fork time</title></path>\n";
    }

    // Markers above oom and timeout bars.
    s_ += "<g id=\"markers\">\n";
    for (size_t c = 0; c < cols.size(); ++c) {
      const Column& col = cols[c];
      double cx = kLeft + colw * (static_cast<double>(c) + 0.5);
      double ybar = Y(At(col.top).peak_memory_bytes);
      if (col.ooms > 0) {
        double y = std::max(ybar - 4, kTop + 2.0);
        s_ += "<path class=\"oom\" d=\"M" + Num(cx - 5) + " " + Num(y - 9) + "L" + Num(cx + 5) +
              " " + Num(y - 9) + "L" + Num(cx) + " " + Num(y) +
              "Z\" fill=\"#d62728\" stroke=\"#fff\" stroke-width=\"0.8\"><title>oom: #" +
              std::to_string(col.first_oom + 1) + " " + HtmlEscape(At(col.first_oom).id) +
              (col.ooms > 1 ? " and " + std::to_string(col.ooms - 1) + " more" : std::string()) +
              "</title></path>\n";
      }
      if (col.timeouts > 0) {
        double y = std::max(ybar - (col.ooms > 0 ? 18 : 6), kTop + 6.0);
        s_ += "<circle class=\"timeout\" cx=\"" + Num(cx) + "\" cy=\"" + Num(y - 4) +
              "\" r=\"4.5\" fill=\"#8e44ad\" stroke=\"#fff\" stroke-width=\"0.8\"><title>timeout: #" +
              std::to_string(col.first_timeout + 1) + " " + HtmlEscape(At(col.first_timeout).id) +
              (col.timeouts > 1 ? " and " + std::to_string(col.timeouts - 1) + " more"
                                : std::string()) +
              "</title></circle>\n";
      }
    }
    s_ += "</g>\n";
    s_ += "<rect x=\"" + std::to_string(kLeft) + "\" y=\"" + std::to_string(kTop) + "\" width=\"" +
          std::to_string(kPlotW) + "\" height=\"" + std::to_string(kPlotH) +
          "\" fill=\"none\" stroke=\"#999\"/>\n</svg>\n";

    // Legend.
    s_ += "<figcaption class=\"legend\">";
    for (Verdict v : {Verdict::kKilled, Verdict::kSurvived, Verdict::kOom, Verdict::kTimeout,
                      Verdict::kCrashed, Verdict::kError}) {
      s_ += std::string("<span><i class=\"sw\" style=\"background:") + VerdictColor(v) + "\"></i>" +
            std::string(VerdictName(v)) + "</span>";
    }
    s_ +=
        "<span><svg width=\"22\" height=\"10\"><line x1=\"0\" "
        "y1=\"5\" x2=\"22\" y2=\"5\" stroke=\"#d62728\" stroke-width=\"2\" "
        "stroke-dasharray=\"5 3\"/></svg> cell limit</span>"
        "<span><svg width=\"22\" height=\"10\"><line x1=\"0\" "
        "y1=\"5\" x2=\"22\" y2=\"5\" stroke=\"#2ca02c\" stroke-width=\"2\"/></svg> zygote memory at "
        "fork</span>"
        "<span>&#9660; oom &nbsp; &#9679; timeout (marks above the bar)</span>"
        "</figcaption>\n</figure>\n";
  }

  // The standard mutation-testing-elements view of the same results (score,
  // files, each mutant in its source). The bundle is inline: the page never
  // fetches anything. The report is JSON data in its own script element.
  void Elements() {
    if (options_.elements_js.empty()) return;
    std::string lower = options_.elements_js;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    // Would end or nest the inline script early; never seen in a release.
    if (lower.find("</script") != std::string::npos || lower.find("<script") != std::string::npos) return;
    static const SourceIndex kNone;
    s_ += "<h2>Mutants by file</h2>\n<mutation-test-report-app id=\"mte\" title-postfix=\"mutcell\">"
          "</mutation-test-report-app>\n<script type=\"application/json\" id=\"mutation-report\">" +
          SchemaReportForHtml(r_, options_.sources ? *options_.sources : kNone) + "</script>\n<script>\n";
    s_ += options_.elements_js;
    s_ +=
        "\n</script>\n<script>\n"
        "document.getElementById('mte').report="
        "JSON.parse(document.getElementById('mutation-report').textContent);\n"
        "</script>\n";
  }

  // Each survivor's diff, as mutmut shows it (`mutmut show NAME`).
  void Survivors() {
    if (!options_.sources) return;
    std::vector<size_t> shown;
    size_t total = 0;
    for (size_t p = 0; p < r_.size(); ++p) {
      if (At(p).verdict != Verdict::kSurvived) continue;
      ++total;
      if (shown.size() < kMaxSurvivorDiffs) shown.push_back(p);
    }
    if (total == 0) return;
    s_ += "<section id=\"survivors\">\n<h2>Survivors (" + std::to_string(total) + ")</h2>\n";
    for (size_t p : shown) {
      const ResultRecord& rec = At(p);
      auto it = options_.sources->mutants.find(rec.id);
      const MutantSource* src = it == options_.sources->mutants.end() ? nullptr : &it->second;
      s_ += "<div class=\"survivor\"><h3>" + HtmlEscape(rec.id) +
            (src ? " &middot; " + HtmlEscape(src->file) + ":" + std::to_string(src->line) : std::string()) +
            "</h3><pre class=\"diff\">";
      if (!src || src->diff.empty()) {
        s_ += "(no diff: the mutant's source was not found)";
      } else {
        size_t start = 0;
        while (start <= src->diff.size()) {
          size_t end = src->diff.find('\n', start);
          if (end == std::string::npos) end = src->diff.size();
          std::string line = src->diff.substr(start, end - start);
          const char* cls = line.rfind("+++", 0) == 0 || line.rfind("---", 0) == 0 ? "file"
                            : line.rfind("@@", 0) == 0                              ? "hunk"
                            : line.rfind("+", 0) == 0                               ? "add"
                            : line.rfind("-", 0) == 0                               ? "del"
                                                                                    : "ctx";
          s_ += std::string("<span class=\"") + cls + "\">" + HtmlEscape(line) + "</span>\n";
          start = end + 1;
        }
      }
      s_ += "</pre></div>\n";
    }
    if (total > shown.size())
      s_ += "<p>" + std::to_string(total - shown.size()) + " more survivors; see the report above.</p>\n";
    s_ += "</section>\n";
  }

  void Table() {
    s_ +=
        "<table id=\"results\">\n<thead><tr>"
        "<th class=\"n\" data-num>#</th><th>mutant</th><th>verdict</th>"
        "<th class=\"n\" data-num>peak memory</th><th class=\"n\" data-num>cell limit</th>"
        "<th class=\"n\" data-num>% of limit</th><th class=\"n\" data-num>duration</th>"
        "<th>exit</th><th class=\"n\" data-num>zygote gen</th>"
        "<th class=\"n\" data-num>zygote memory</th><th class=\"n\" data-num>attempts</th>"
        "</tr></thead>\n<tbody>\n";
    for (size_t p = 0; p < r_.size(); ++p) {
      const ResultRecord& rec = At(p);
      const std::string verdict(VerdictName(rec.verdict));
      s_ += "<tr class=\"v-" + verdict + "\"><td class=\"n\" data-v=\"" + std::to_string(p + 1) +
            "\">" + std::to_string(p + 1) + "</td><td class=\"id\">" + HtmlEscape(rec.id) +
            "</td><td class=\"v\">" + verdict + "</td>";
      s_ += "<td class=\"n peak\" data-v=\"" + std::to_string(rec.peak_memory_bytes) + "\">" +
            FormatSize(rec.peak_memory_bytes) + "</td>";
      s_ += "<td class=\"n limit\" data-v=\"" + std::to_string(rec.cell_limit_bytes) + "\">" +
            (rec.cell_limit_bytes ? FormatSize(rec.cell_limit_bytes) : std::string("none")) + "</td>";
      if (rec.cell_limit_bytes) {
        double pct = 100.0 * static_cast<double>(rec.peak_memory_bytes) /
                     static_cast<double>(rec.cell_limit_bytes);
        s_ += "<td class=\"n\" data-v=\"" + Num(pct, "%.3f") + "\">" + Num(pct, "%.0f") + "%</td>";
      } else {
        s_ += "<td class=\"n\" data-v=\"-1\"></td>";
      }
      s_ += "<td class=\"n dur\" data-v=\"" + Num(rec.duration_s, "%.6g") + "\">" +
            Num(rec.duration_s, rec.duration_s < 10 ? "%.2f s" : "%.1f s") + "</td>";
      s_ += "<td>" +
            (rec.exit_code ? std::to_string(*rec.exit_code)
                           : rec.signal ? "signal " + std::to_string(*rec.signal) : std::string()) +
            "</td>";
      s_ += "<td class=\"n\" data-v=\"" +
            (rec.zygote_generation ? std::to_string(*rec.zygote_generation) : std::string("-1")) +
            "\">" + (rec.zygote_generation ? std::to_string(*rec.zygote_generation) : std::string()) +
            "</td>";
      s_ += "<td class=\"n zmem\" data-v=\"" +
            (rec.zygote_memory_bytes ? std::to_string(*rec.zygote_memory_bytes) : std::string("-1")) +
            "\">" + (rec.zygote_memory_bytes ? FormatSize(*rec.zygote_memory_bytes) : std::string()) +
            "</td>";
      s_ += "<td class=\"n\" data-v=\"" + std::to_string(rec.attempts) + "\">" +
            std::to_string(rec.attempts) + "</td></tr>\n";
    }
    s_ += "</tbody>\n</table>\n";
  }

  void Script() {
    // Sorts the table by a clicked header: numbers by data-v, text otherwise;
    // a second click reverses. Rows move as a fragment so 100,000 rows sort
    // in about a second.
    s_ +=
        "<script>\n"
        "(function(){\n"
        "var t=document.getElementById('results');\n"
        "var ths=t.tHead.rows[0].cells;\n"
        "for(var i=0;i<ths.length;i++)(function(col,th){\n"
        " th.addEventListener('click',function(){\n"
        "  var num=th.hasAttribute('data-num');\n"
        "  var asc=th.getAttribute('aria-sort')!=='ascending';\n"
        "  for(var k=0;k<ths.length;k++)ths[k].removeAttribute('aria-sort');\n"
        "  th.setAttribute('aria-sort',asc?'ascending':'descending');\n"
        "  var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);\n"
        "  var keyed=rows.map(function(r,idx){var c=r.cells[col];\n"
        "   return {r:r,i:idx,k:num?parseFloat(c.getAttribute('data-v')):c.textContent};});\n"
        "  keyed.sort(function(a,b){var d=num?a.k-b.k:(a.k<b.k?-1:a.k>b.k?1:0);\n"
        "   return (asc?d:-d)||a.i-b.i;});\n"
        "  var f=document.createDocumentFragment();\n"
        "  keyed.forEach(function(e){f.appendChild(e.r);});\n"
        "  body.appendChild(f);\n"
        " });\n"
        "})(i,ths[i]);\n"
        "})();\n"
        "</script>\n";
  }

  const std::vector<ResultRecord>& r_;
  std::vector<size_t> order_;  // positions in run order -> index in r_
  uint64_t ymax_ = 2, ymin_ = 1;
  const HtmlReportOptions& options_;
  std::string s_;
};

}  // namespace

std::string HtmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (size_t i = 0; i < text.size();) {
    size_t len = ValidUtf8Length(text, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (len > 1) {
      out.append(text, i, len);
      i += len;
      continue;
    }
    char c = text[i++];
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) out += "\xEF\xBF\xBD";
        else out += c;
    }
  }
  return out;
}

void WriteHtmlReport(const std::vector<ResultRecord>& results, const HtmlReportOptions& options,
                     std::ostream& out) {
  Page page(results, options);
  out << page.Render();
}

void WriteHtmlReport(const std::vector<ResultRecord>& results, std::ostream& out) {
  WriteHtmlReport(results, HtmlReportOptions(), out);
}

std::string ElementsBundlePath() {
  if (const char* env = std::getenv("MUTCELL_ELEMENTS_JS"); env && *env) return env;
  std::string path, err;
  if (FindScript(kElementsBundleName, &path, &err)) return path;
  return MUTCELL_ELEMENTS_JS;  // the build tree's npm install
}

bool ReadElementsBundle(std::string* js, std::string* err) {
  const std::string path = ElementsBundlePath();
  if (!ReadWholeFile(path, js, err)) {
    *err += " (the page has the memory view and the table only; ./dev build installs "
            "mutation-testing-elements with npm)";
    js->clear();
    return false;
  }
  return true;
}

}  // namespace mutcell
