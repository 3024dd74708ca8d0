#include "limits/size.h"

#include <gtest/gtest.h>

namespace mutcell {
namespace {

uint64_t Parse(const char* s) {
  uint64_t v = 0;
  std::string err;
  EXPECT_TRUE(ParseSize(s, &v, &err)) << s << ": " << err;
  return v;
}

TEST(SizeTest, ParsesPlainBytesAndBinaryUnits) {
  EXPECT_EQ(Parse("0"), 0u);
  EXPECT_EQ(Parse("4096"), 4096u);
  EXPECT_EQ(Parse("1K"), 1024u);
  EXPECT_EQ(Parse("256M"), 256ull << 20);
  EXPECT_EQ(Parse("256MiB"), 256ull << 20);
  EXPECT_EQ(Parse("256mb"), 256ull << 20);
  EXPECT_EQ(Parse("2G"), 2ull << 30);
  EXPECT_EQ(Parse("1.5GiB"), 3ull << 29);
  EXPECT_EQ(Parse(" 64 M "), 64ull << 20);
  EXPECT_EQ(Parse("1T"), 1ull << 40);
}

TEST(SizeTest, RejectsGarbageUnitsAndOverflowWithAMessage) {
  for (const char* bad : {"", "M", "12XB", "-1M", "1.2.3G", "abc", "99999999999999999999", "9000000T"}) {
    uint64_t v = 7;
    std::string err;
    EXPECT_FALSE(ParseSize(bad, &v, &err)) << bad;
    EXPECT_NE(err.find('\''), std::string::npos) << "message quotes the input: " << err;
    EXPECT_EQ(v, 7u) << "output untouched on error";
  }
}

TEST(SizeTest, FormatsForPeople) {
  EXPECT_EQ(FormatSize(0), "0 B");
  EXPECT_EQ(FormatSize(512), "512 B");
  EXPECT_EQ(FormatSize(1536), "1.5 KiB");
  EXPECT_EQ(FormatSize(256ull << 20), "256 MiB");
  EXPECT_EQ(FormatSize(3ull << 29), "1.5 GiB");
}

TEST(SizeTest, FormatThenParseRoundTripsWholeUnits) {
  for (uint64_t v : {1ull << 10, 3ull << 20, 5ull << 30, 7ull << 40}) {
    EXPECT_EQ(Parse(FormatSize(v).c_str()), v);
  }
}

}  // namespace
}  // namespace mutcell
