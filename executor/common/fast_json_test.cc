#include "executor/common/fast_json.h"

#include <cmath>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace mutcell {
namespace {

using nlohmann::json;

std::string NlohmannDump(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Appended(const std::string& s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

TEST(AppendJsonStringTest, WritesWhatNlohmannWritesForEveryByte) {
  for (int c = 0; c < 256; ++c) {
    const std::string s = "a" + std::string(1, static_cast<char>(c)) + "b";
    EXPECT_EQ(Appended(s), NlohmannDump(s)) << "byte " << c;
  }
  for (const std::string s : {"", "plain", "quote\"back\\slash/", "tab\tnl\ncr\r\b\f\x01\x1f\x7f", "é ü 日本 🙂",
                              "bad \xff utf8", "cut \xe6\x97", "\xc0\xaf overlong", "\xed\xa0\x80 surrogate"})
    EXPECT_EQ(Appended(s), NlohmannDump(s)) << s;
}

TEST(AppendJsonStringTest, WritesWhatNlohmannWritesForRandomBytes) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 12, '\0');
    // Mostly ASCII with some high bytes, so both paths are taken.
    for (char& c : s) c = static_cast<char>(rng() % 4 == 0 ? rng() % 256 : 0x20 + rng() % 0x60);
    ASSERT_EQ(Appended(s), NlohmannDump(s)) << "case " << i;
  }
}

// What the scanner makes of `text` as a string value, or nullopt.
std::optional<std::string> ScanString(const std::string& text) {
  JsonScanner s(text);
  std::string out;
  if (!s.String(&out) || !s.AtEnd()) return std::nullopt;
  return out;
}

TEST(JsonScannerTest, StringsItAcceptsMeanWhatNlohmannReads) {
  std::mt19937 rng(11);
  size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 10, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 8 == 0 ? rng() % 256 : 0x20 + rng() % 0x60);
    for (const std::string& text : {NlohmannDump(s), json(s).dump(-1, ' ', true, json::error_handler_t::replace)}) {
      std::optional<std::string> got = ScanString(text);
      if (!got) continue;
      ++accepted;
      ASSERT_EQ(*got, json::parse(text).get<std::string>()) << text;
    }
  }
  EXPECT_GT(accepted, 10000u);
}

TEST(JsonScannerTest, DecodesTheShortEscapes) {
  EXPECT_EQ(ScanString(R"("a\"b\\c\/d\be\ff\ng\rh\ti")"), std::string("a\"b\\c/d\be\ff\ng\rh\ti"));
  EXPECT_EQ(ScanString(R"( "x" )"), std::string("x"));
}

TEST(JsonScannerTest, GivesUpOnWhatItDoesNotRead) {
  // Valid JSON outside the subset, and invalid JSON: false either way.
  for (const std::string text : {R"("\u0041")", "\"\xc3\xa9\"", "\"\x7f\"", R"("\x")", "\"a\tb\"", R"("open)",
                                 R"(x)", R"("a"")"})
    EXPECT_EQ(ScanString(text), std::nullopt) << text;
}

TEST(JsonScannerTest, NumbersItAcceptsMeanWhatNlohmannReads) {
  const std::vector<std::string> texts = {
      "0", "-0", "1", "-1", "42", "123456789012345678", "-123456789012345678", "2147483647", "-2147483648",
      "0.5", "-0.0", "1e3", "1E+3", "1e-3", "2.5e10", "0.001", "1.7976931348623157e308", "5e-324", "3.14159",
      "1234567890123456789", "99999999999999999999", "1e400", "01", "1.", ".5", "-", "+1", "1e", "1x", "0x10",
      "Infinity", "NaN", "--1", "1.5.2"};
  for (const std::string& t : texts) {
    const std::string text = "[" + t + "]";
    JsonScanner s(text);
    JsonNumber n;
    const bool ok = s.Expect('[') && s.Number(&n) && s.Expect(']') && s.AtEnd();
    json j = json::parse(text, nullptr, false);
    if (!ok) continue;  // giving up is always allowed
    ASSERT_FALSE(j.is_discarded()) << t << " accepted but is not JSON";
    const json& v = j[0];
    EXPECT_EQ(n.integer, v.is_number_integer()) << t;
    EXPECT_EQ(n.integer && !n.negative, v.is_number_unsigned()) << t;
    EXPECT_EQ(n.value, v.get<double>()) << t;
    EXPECT_EQ(std::signbit(n.value), std::signbit(v.get<double>())) << t;
    if (n.integer) {
      const int64_t as_int = n.negative ? -static_cast<int64_t>(n.magnitude) : static_cast<int64_t>(n.magnitude);
      EXPECT_EQ(as_int, v.get<int64_t>()) << t;
    }
  }
  for (const std::string t : {"01", "1.", ".5", "-", "+1", "1e", "1x", "0x10", "1e400", "99999999999999999999"}) {
    JsonScanner s(t);
    JsonNumber n;
    EXPECT_FALSE(s.Number(&n) && s.AtEnd()) << t;
  }
}

TEST(JsonScannerTest, WalksAnObject) {
  JsonScanner s(R"( { "a" : [ "x" , "y" ] , "b":null ,"c":true,"d":-2.5 } )");
  std::string_view key;
  std::string v;
  JsonNumber n;
  ASSERT_TRUE(s.Expect('{'));
  ASSERT_TRUE(s.Key(&key));
  EXPECT_EQ(key, "a");
  ASSERT_TRUE(s.Expect('['));
  ASSERT_TRUE(s.String(&v));
  EXPECT_EQ(v, "x");
  ASSERT_TRUE(s.Accept(','));
  ASSERT_TRUE(s.String(&v));
  EXPECT_FALSE(s.Accept(','));
  ASSERT_TRUE(s.Expect(']'));
  ASSERT_TRUE(s.Accept(','));
  ASSERT_TRUE(s.Key(&key));
  EXPECT_EQ(key, "b");
  EXPECT_TRUE(s.AcceptNull());
  ASSERT_TRUE(s.Accept(','));
  ASSERT_TRUE(s.Key(&key));
  EXPECT_FALSE(s.AcceptNull());
  EXPECT_TRUE(s.SkipScalar());
  ASSERT_TRUE(s.Accept(','));
  ASSERT_TRUE(s.Key(&key));
  ASSERT_TRUE(s.Number(&n));
  EXPECT_EQ(n.value, -2.5);
  EXPECT_FALSE(s.AtEnd());
  ASSERT_TRUE(s.Expect('}'));
  EXPECT_TRUE(s.AtEnd());
}

TEST(JsonScannerTest, KeyViewGivesUpOnEscapes) {
  std::string_view key;
  JsonScanner plain(R"("id":1)");
  EXPECT_TRUE(plain.Key(&key));
  EXPECT_EQ(key, "id");
  JsonScanner escaped(R"("i\"d":1)");
  EXPECT_FALSE(escaped.Key(&key));
  JsonScanner no_colon(R"("id" 1)");
  EXPECT_FALSE(no_colon.Key(&key));
}

TEST(JsonScannerTest, LiteralsNeedAnEnd) {
  JsonScanner s("nullx");
  EXPECT_FALSE(s.AcceptNull());
  JsonScanner t("[truex]");
  ASSERT_TRUE(t.Expect('['));
  EXPECT_FALSE(t.SkipScalar());
}

}  // namespace
}  // namespace mutcell
