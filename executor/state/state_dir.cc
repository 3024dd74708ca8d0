#include "executor/state/state_dir.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "executor/common/atomic_file.h"
#include "executor/common/fast_json.h"

namespace mutcell {

StatePaths::StatePaths(std::string d)
    : dir(d), journal(d + "/journal.jsonl"), plan_index(d + "/plan.json"), logs(d + "/logs") {}

namespace {

bool MakeDir(const std::string& dir, std::string* err) {
  if (mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) return true;
  *err = "cannot create state directory " + dir + ": " + std::strerror(errno);
  return false;
}

}  // namespace

bool EnsureStateDir(const StatePaths& paths, std::string* err) {
  return MakeDir(paths.dir, err) && MakeDir(paths.logs, err);
}

bool KeepAsBackup(const std::string& path, const std::string& stamp, std::string* backup, std::string* err) {
  backup->clear();
  for (int n = 1; n < 10000; ++n) {
    const std::string name = path + ".bak-" + stamp + (n == 1 ? "" : "-" + std::to_string(n));
    int rc = renameat2(AT_FDCWD, path.c_str(), AT_FDCWD, name.c_str(), RENAME_NOREPLACE);
    if (rc != 0 && errno == EINVAL) {
      // A file system without RENAME_NOREPLACE: the state lock keeps other
      // mutcells out, so a check before the rename is enough.
      struct stat st;
      if (lstat(name.c_str(), &st) == 0) continue;
      rc = std::rename(path.c_str(), name.c_str());
    }
    if (rc == 0) {
      *backup = name;
      return true;
    }
    if (errno == ENOENT) return true;  // nothing to keep
    if (errno != EEXIST) break;
  }
  *err = "cannot keep " + path + " as a backup: " + std::strerror(errno);
  return false;
}

bool WritePlanIndex(const StatePaths& paths, const Plan& plan, std::string* err) {
  // The bytes nlohmann's dump() of {"plan", "fingerprint", "mutants"} wrote
  // (sorted keys), built without a DOM of the whole plan.
  std::string text = "{\"fingerprint\":";
  AppendJsonString(&text, plan.fingerprint);
  text += ",\"mutants\":[";
  for (size_t i = 0; i < plan.mutants.size(); ++i) {
    const Mutant& m = plan.mutants[i];
    text += i ? ",{" : "{";
    if (!m.file.empty()) {  // only when given: older indexes stay byte-identical
      text += "\"file\":";
      AppendJsonString(&text, m.file);
      text += ',';
    }
    text += "\"fingerprint\":";
    AppendJsonString(&text, m.fingerprint);
    text += ",\"id\":";
    AppendJsonString(&text, m.id);
    if (m.line > 0) text += ",\"line\":" + std::to_string(m.line);
    text += '}';
  }
  text += "],\"plan\":";
  AppendJsonString(&text, plan.path);
  text += "}\n";
  // The same plan resumed: the index is already there (and was synced when
  // it was written).
  std::string existing, ignored;
  if (ReadWholeFile(paths.plan_index, &existing, &ignored) && existing == text) return true;
  return WriteFileAtomically(paths.plan_index, text, err);
}

bool ReadPlanIndex(const StatePaths& paths, std::vector<PlanEntry>* out, std::string* err, std::string* plan_path) {
  std::string text;
  if (!ReadWholeFile(paths.plan_index, &text, err)) return false;
  try {
    nlohmann::json doc = nlohmann::json::parse(text);
    out->clear();
    if (plan_path) *plan_path = doc.value("plan", "");
    for (const auto& m : doc.at("mutants")) {
      PlanEntry e;
      e.id = m.at("id").get<std::string>();
      e.fingerprint = m.at("fingerprint").get<std::string>();
      e.file = m.value("file", "");
      e.line = m.value("line", 0);
      out->push_back(std::move(e));
    }
  } catch (const std::exception& e) {
    *err = paths.plan_index + ": malformed plan index: " + e.what();
    return false;
  }
  return true;
}

namespace {

// The latest record per (id, fingerprint): an open-addressing table of
// indices into journal.results (no string and no node per record; 100,000
// records are looked up on every resume).
template <typename Entries>
std::vector<const ResultRecord*> Latest(const JournalContents& journal, const Entries& plan) {
  const std::vector<ResultRecord>& results = journal.results;
  size_t size = 16;
  while (size < 2 * results.size()) size *= 2;
  const size_t mask = size - 1;
  std::vector<uint32_t> slots(size, 0);  // index + 1 into results; 0 = empty
  const std::hash<std::string_view> hash;
  auto find = [&](std::string_view id, std::string_view fingerprint) {
    size_t i = hash(id) & mask;
    while (slots[i] != 0) {
      const ResultRecord& r = results[slots[i] - 1];
      if (r.id == id && r.fingerprint == fingerprint) break;
      i = (i + 1) & mask;
    }
    return i;
  };
  for (size_t k = 0; k < results.size(); ++k)
    slots[find(results[k].id, results[k].fingerprint)] = static_cast<uint32_t>(k + 1);  // later wins
  std::vector<const ResultRecord*> out;
  out.reserve(plan.size());
  for (const auto& e : plan) {
    const uint32_t slot = slots[find(e.id, e.fingerprint)];
    out.push_back(slot ? &results[slot - 1] : nullptr);
  }
  return out;
}

std::vector<ResultRecord> Copies(const std::vector<const ResultRecord*>& latest) {
  std::vector<ResultRecord> out;
  out.reserve(latest.size());
  for (const ResultRecord* r : latest)
    if (r) out.push_back(*r);
  return out;
}

}  // namespace

std::vector<ResultRecord> CurrentResults(const JournalContents& journal,
                                         const std::vector<PlanEntry>& plan) {
  return Copies(Latest(journal, plan));
}

std::vector<ResultRecord> CurrentResults(const JournalContents& journal, const std::vector<Mutant>& plan) {
  return Copies(Latest(journal, plan));
}

std::vector<const ResultRecord*> LatestResults(const JournalContents& journal, const std::vector<Mutant>& plan) {
  return Latest(journal, plan);
}

bool IsFinal(const ResultRecord& r) { return r.verdict != Verdict::kError; }

}  // namespace mutcell
