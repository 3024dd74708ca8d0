#include <cstdio>
#include <ctime>
#include <chrono>
#include <string>
#include <vector>
#include "executor/mutmut/mutmut_files.h"
int main(int argc, char** argv) {
  std::string root = argv[1]; int files = atoi(argv[2]), per = atoi(argv[3]);
  auto t = std::chrono::steady_clock::now();
  std::string err;
  for (int f = 0; f < files; ++f) {
    std::vector<mutcell::MutmutResult> rs;
    for (int i = 0; i < per; ++i) {
      mutcell::MutmutResult r;
      r.key = "pkg.mod" + std::to_string(f) + ".x_func_" + std::to_string(i / 10) + "__mutmut_" + std::to_string(i % 10 + 1);
      r.exit_code = i % 3 == 0 ? 0 : 1; r.duration_s = 0.123 + i * 1e-3; r.estimate_s = 0.1 + i * 1e-4;
      rs.push_back(r);
    }
    if (!mutcell::WriteMutmutResults(root + "/mutants/src/pkg/mod" + std::to_string(f) + ".py.meta", rs, &err)) { puts(err.c_str()); return 1; }
  }
  printf("C++ WriteMutmutResults: %d files x %d mutants: %.4f s wall\n", files, per,
         std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
}
