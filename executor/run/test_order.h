#pragma once
// Killer-first test order. With pytest's -x a killed mutant stops at its first
// failing test, while a survivor runs all of its tests whatever their order;
// so running first the tests that killed other mutants of the same group (for
// mutmut: the same function) shortens killed mutants and costs survivors
// nothing. Only the order changes, never the set of tests, so the verdict is
// the one the tests give in any order (as mutmut's own, which passes them in
// set order).

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mutcell {

class TestOrder {
 public:
  /// `group` maps a mutant id to the group whose killers it shares ("" = none:
  /// such mutants keep their order).
  explicit TestOrder(std::function<std::string(const std::string&)> group) : group_(std::move(group)) {}

  /// `test` failed first in a killed attempt of mutant `id`. The caller checks
  /// that `test` is one of the mutant's tests: the report comes from the
  /// mutant's own process, so it is a hint for the order, never a verdict.
  void RecordKill(const std::string& id, const std::string& test);

  /// `tests` (fastest first, as planned) reordered: the group's killers first,
  /// most kills first (ties: the more recent kill first), then every other
  /// test in the given order. Always a permutation of `tests`.
  std::vector<std::string> Order(const std::string& id, const std::vector<std::string>& tests) const;

  /// Kills recorded so far (for the summary and tests).
  size_t kills() const { return kills_; }

 private:
  struct Killer {
    size_t count = 0;
    size_t last = 0;  ///< sequence number of its latest kill
  };
  std::function<std::string(const std::string&)> group_;
  std::map<std::string, std::map<std::string, Killer>> killers_;  ///< group → test → kills
  size_t kills_ = 0;
};

}  // namespace mutcell
