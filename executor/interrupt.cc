#include "executor/interrupt.h"

#include <atomic>
#include <cstring>

namespace mutcell {
namespace {

volatile sig_atomic_t g_count = 0;
volatile sig_atomic_t g_last = 0;

void OnInterrupt(int sig) {
  g_count = g_count + 1;
  g_last = sig;
}

// SIGCHLD only needs to wake ppoll; its default disposition would be ignored.
void OnChild(int) {}

}  // namespace

sigset_t InstallInterruptHandlers() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = OnInterrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  sa.sa_handler = OnChild;
  sa.sa_flags = SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, nullptr);

  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  sigaddset(&block, SIGCHLD);
  sigprocmask(SIG_BLOCK, &block, &old);
  sigdelset(&old, SIGINT);
  sigdelset(&old, SIGTERM);
  sigdelset(&old, SIGHUP);
  sigdelset(&old, SIGCHLD);
  return old;
}

int InterruptCount() { return g_count; }
int LastInterruptSignal() { return g_last; }

}  // namespace mutcell
