#include "executor/common/printable.h"

#include <gtest/gtest.h>

namespace mutcell {
namespace {

TEST(PrintableTest, ControlCharactersAndBackslashesAreShownEscaped) {
  EXPECT_EQ(Printable("m.x__mutmut_1"), "m.x__mutmut_1");
  EXPECT_EQ(Printable("a\nkilled    b"), "a\\x0akilled    b");
  EXPECT_EQ(Printable("\x1b[2K\rc"), "\\x1b[2K\\x0dc");
  EXPECT_EQ(Printable("a\\x1b"), "a\\\\x1b");  // an escape cannot be faked either
  EXPECT_EQ(Printable("\x7f"), "\\x7f");
  EXPECT_EQ(Printable("xǁKlasseǁmethode"), "xǁKlasseǁmethode");  // UTF-8 stays readable
}

TEST(PrintableAsciiTest, NonAsciiIsEscapedTooABackslashPassesAndLongTextIsCut) {
  EXPECT_EQ(PrintableAscii("a\n\xc3\xa9\x7f\\b", 240), "a\\x0a\\xc3\\xa9\\x7f\\b");
  const std::string cut = PrintableAscii(std::string(300, 'x'), 240);
  EXPECT_EQ(cut, std::string(241, 'x') + "...");
  EXPECT_EQ(PrintableAscii(std::string(241, 'x'), 240), std::string(241, 'x'));
}

}  // namespace
}  // namespace mutcell
