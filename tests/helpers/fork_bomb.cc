// Test helper: a fork bomb with a safety cap. Every process forks as fast as
// it can; failed forks (the pids limit) are retried. The bomb stops growing at
// argv[1] processes in total (default 300, counted in shared memory), so a
// broken limit cannot exhaust the machine's pids; capped processes wait. Each
// process ends itself after 60 s should a test fail to kill it.
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <new>

int main(int argc, char** argv) {
  long cap = argc > 1 ? std::atol(argv[1]) : 300;
  void* shared = mmap(nullptr, sizeof(std::atomic<long>), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) return 1;
  auto* made = new (shared) std::atomic<long>(1);
  alarm(60);
  for (;;) {
    if (made->fetch_add(1) >= cap) {
      made->fetch_sub(1);
      pause();
      continue;
    }
    pid_t p = fork();
    if (p == 0) alarm(60);  // alarms are not inherited
    if (p < 0) {
      made->fetch_sub(1);
      usleep(1000);
    }
  }
}
