// Test helper: does nothing until killed (SIGTERM works).
#include <unistd.h>

int main() {
  for (;;) pause();
}
