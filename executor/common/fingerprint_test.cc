#include "executor/common/fingerprint.h"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace mutcell {
namespace {

// The same digest as every earlier mutcell (its own SHA-256 rounds): journals
// and plan indexes written before keep matching their mutants.
TEST(FingerprintTest, IsSha256OfKnownVectors) {
  EXPECT_EQ(Fingerprint(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Fingerprint("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Fingerprint("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // 55, 56 and 64 bytes straddle the padding boundary.
  EXPECT_EQ(Fingerprint(std::string(55, 'a')), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(Fingerprint(std::string(56, 'a')), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(Fingerprint(std::string(64, 'a')), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  EXPECT_EQ(Fingerprint(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(Fingerprint(std::string("a\0b", 3)), Fingerprint(std::string("a\0b", 3)));
  EXPECT_NE(Fingerprint(std::string("a\0b", 3)), Fingerprint("a"));
}

// The digest is looked up once, by whichever thread comes first.
TEST(FingerprintTest, AgreesAcrossThreads) {
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i) threads.emplace_back([&got, i] { got[i] = Fingerprint("abc"); });
  for (std::thread& t : threads) t.join();
  for (const std::string& g : got) EXPECT_EQ(g, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace mutcell
