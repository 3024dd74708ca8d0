// Test helper: a zygote that runs away. Speaks just enough of the zygote
// protocol (docs/zygote-protocol.md) to say `ready` on its socket (fd from
// --fd, default 3), then allocates and touches 1 MiB per iteration until it
// is stopped, so its own cell's memory limit is what must catch it. Native,
// so the test also runs in the cgroup v2 guest, which has no Python.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  int fd = 3;
  long generation = 0;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--fd") == 0) fd = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--generation") == 0) generation = std::atol(argv[i + 1]);
  }
  const std::string body = "{\"type\": \"ready\", \"protocol\": 1, \"pid\": " + std::to_string(getpid()) +
                           ", \"generation\": " + std::to_string(generation) +
                           ", \"rss_bytes\": 1048576, \"strategy\": \"balloon\"}";
  const uint32_t n = static_cast<uint32_t>(body.size());
  const unsigned char len[4] = {static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
                                static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
  if (write(fd, len, 4) != 4 || write(fd, body.data(), body.size()) != static_cast<ssize_t>(body.size())) return 1;
  // Bounded, so a broken limit fails the test instead of the machine.
  for (long mib = 0; mib < 8192; ++mib) {
    char* p = static_cast<char*>(std::malloc(1 << 20));
    if (p != nullptr) std::memset(p, 0x5a, 1 << 20);
  }
  pause();
  return 0;
}
