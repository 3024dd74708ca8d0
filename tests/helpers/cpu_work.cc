// Test helper: a task that needs a fixed amount of CPU. Waits (asleep, up to
// 10 s) until argv[2] exists (the neighbour is spinning), writes its own
// /proc/self/cgroup and the content of <argv[4]><its cgroup path for
// hierarchy argv[6]>/<argv[5]> (the cell's CPU cap file) to argv[3], spins
// until it has used argv[1] seconds of CPU, then creates argv[7] and exits 0.
// argv[6] is "v2" (the unified line 0::) or a v1 controller name ("cpu").
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace {

double CpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The path of our cgroup in `hierarchy` from /proc/self/cgroup text.
std::string OwnPath(const std::string& text, const std::string& hierarchy) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string id = line.substr(0, a), ctrls = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (hierarchy == "v2" && id == "0" && ctrls.empty()) return path;
    std::istringstream cs(ctrls);
    for (std::string c; std::getline(cs, c, ',');)
      if (c == hierarchy) return path;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) return 2;
  const double need = std::atof(argv[1]);
  for (int i = 0; i < 1000 && access(argv[2], F_OK) != 0; ++i) usleep(10000);
  const std::string cgroup = Slurp("/proc/self/cgroup");
  const std::string path = OwnPath(cgroup, argv[6]);
  {
    std::ofstream out(argv[3]);
    out << cgroup << "path " << path << "\ncap " << Slurp(std::string(argv[4]) + path + "/" + argv[5]);
  }
  const double start = CpuSeconds();
  while (CpuSeconds() - start < need) {
  }
  close(open(argv[7], O_WRONLY | O_CREAT, 0644));
  return 0;
}
