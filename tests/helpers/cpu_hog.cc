// Test helper: a CPU hog. Forks argv[1] processes that, once all exist, spin
// (one access(2) of the stop file per turn) until argv[2] exists or argv[3]
// seconds have passed; creates argv[4] ("all spinning") and waits for them. Writes its own
// /proc/self/cgroup to argv[5]. Exits 1 when stopped by the file, 2 on misuse.
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>

namespace {

double Now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

void CopyFile(const char* from, const char* to) {
  char buf[4096];
  int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ssize_t n;
  while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, static_cast<size_t>(n)) != n) break;
  if (in >= 0) close(in);
  if (out >= 0) close(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) return 2;
  const long n = std::atol(argv[1]);
  const char* stop = argv[2];
  const double end = Now() + std::atof(argv[3]);
  CopyFile("/proc/self/cgroup", argv[5]);
  // The children wait until all exist: spinning at once, they would leave
  // the forking parent 1/k of its capped cell and make the forks quadratic
  // (seconds under the VM's emulated CPUs).
  int go[2];
  if (pipe(go) != 0) return 2;
  for (long i = 0; i < n; ++i) {
    pid_t p = fork();
    if (p < 0) return 2;
    if (p == 0) {
      close(go[1]);
      char c;
      while (read(go[0], &c, 1) < 0) {
      }
      while (access(stop, F_OK) != 0 && Now() < end) {
      }
      _exit(0);
    }
  }
  close(go[1]);  // EOF: every child starts spinning
  close(open(argv[4], O_WRONLY | O_CREAT, 0644));
  while (wait(nullptr) > 0) {
  }
  return access(stop, F_OK) == 0 ? 1 : 0;
}
