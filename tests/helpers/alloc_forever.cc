// Test helper: a runaway allocator. Allocates and touches 1 MiB (or argv[1]
// MiB) per iteration, forever, so the pages are really resident. With argv[2]
// it pauses that many microseconds per iteration. Every 16 MiB it writes
// "<CLOCK_MONOTONIC ns> <MiB allocated>" to stdout, so a test can tell when
// the allocator reached its cell's limit.
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  long mib = argc > 1 ? std::atol(argv[1]) : 1;
  long pause_us = argc > 2 ? std::atol(argv[2]) : 0;
  if (mib <= 0) mib = 1;
  const size_t chunk = static_cast<size_t>(mib) << 20;
  long total = 0, next_report = 16;
  for (;;) {
    char* p = static_cast<char*>(std::malloc(chunk));
    if (p == nullptr) continue;  // keep trying: a runaway does not give up
    std::memset(p, 0x5a, chunk);
    total += mib;
    if (total >= next_report) {
      timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      char line[64];
      int n = std::snprintf(line, sizeof line, "%lld %ld\n",
                            static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec, total);
      if (write(1, line, static_cast<size_t>(n)) < 0) {
      }
      next_report = total + 16;
    }
    if (pause_us > 0) usleep(static_cast<useconds_t>(pause_us));
  }
}
