// Test helper: the shape of a test that leaves a process behind. Forks a
// grandchild that ignores SIGTERM and sleeps forever, prints its pid on
// stdout, then sleeps too (ignoring SIGTERM as well).
//   --setsid        the grandchild leaves the process group (new session)
//   --parent-exits  the helper exits right away, orphaning the grandchild
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  bool new_session = false, parent_exits = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--setsid") == 0) new_session = true;
    if (std::strcmp(argv[i], "--parent-exits") == 0) parent_exits = true;
  }
  int ready[2];
  if (pipe(ready) != 0) return 1;
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    signal(SIGTERM, SIG_IGN);
    if (new_session) setsid();
    close(ready[0]);
    close(ready[1]);  // tells the parent SIGTERM is ignored from now on
    for (;;) pause();
  }
  close(ready[1]);
  char c;
  while (read(ready[0], &c, 1) > 0) {
  }
  std::printf("%d\n", static_cast<int>(child));
  std::fflush(stdout);
  if (parent_exits) return 0;
  signal(SIGTERM, SIG_IGN);
  for (;;) pause();
}
