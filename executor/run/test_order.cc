#include "executor/run/test_order.h"

#include <algorithm>

namespace mutcell {

void TestOrder::RecordKill(const std::string& id, const std::string& test) {
  const std::string g = group_(id);
  if (g.empty() || test.empty()) return;
  Killer& k = killers_[g][test];
  k.count++;
  k.last = ++kills_;
}

std::vector<std::string> TestOrder::Order(const std::string& id, const std::vector<std::string>& tests) const {
  const std::string g = group_(id);
  auto found = g.empty() ? killers_.end() : killers_.find(g);
  if (found == killers_.end()) return tests;
  const std::map<std::string, Killer>& known = found->second;
  std::vector<std::string> out = tests;
  // stable: non-killers (rank 0) keep the planned fastest-first order.
  std::stable_sort(out.begin(), out.end(), [&](const std::string& a, const std::string& b) {
    auto ka = known.find(a), kb = known.find(b);
    const bool is_a = ka != known.end(), is_b = kb != known.end();
    if (is_a != is_b) return is_a;
    if (!is_a) return false;
    if (ka->second.count != kb->second.count) return ka->second.count > kb->second.count;
    return ka->second.last > kb->second.last;
  });
  return out;
}

}  // namespace mutcell
