#include "sandbox/run_as.h"

#include <gtest/gtest.h>

#include <map>

namespace mutcell {
namespace {

std::function<const char*(const char*)> Env(std::map<std::string, std::string> vars) {
  auto held = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [held](const char* n) -> const char* {
    auto it = held->find(n);
    return it == held->end() ? nullptr : it->second.c_str();
  };
}

TEST(ResolveRunAs, RootUnderSudoRunsAsTheInvokingUser) {
  RunAs ra;
  std::string err;
  ASSERT_TRUE(ResolveRunAs(0, false, Env({{"SUDO_UID", "65534"}, {"SUDO_GID", "65534"}}), &ra, &err)) << err;
  EXPECT_TRUE(ra.active);
  EXPECT_EQ(ra.uid, 65534u);
  EXPECT_EQ(ra.gid, 65534u);
  ASSERT_FALSE(ra.groups.empty());
  EXPECT_EQ(ra.groups[0], 65534u);
  EXPECT_FALSE(ra.user.empty());
  EXPECT_FALSE(ra.home.empty());
}

TEST(ResolveRunAs, NotRootOrAsRootOrSudoFromRootChangesNothing) {
  RunAs ra;
  std::string err;
  auto env = Env({{"SUDO_UID", "1000"}, {"SUDO_GID", "1000"}});
  ASSERT_TRUE(ResolveRunAs(1000, false, env, &ra, &err));
  EXPECT_FALSE(ra.active);
  ASSERT_TRUE(ResolveRunAs(0, true, env, &ra, &err));
  EXPECT_FALSE(ra.active);
  ASSERT_TRUE(ResolveRunAs(0, false, Env({{"SUDO_UID", "0"}, {"SUDO_GID", "0"}}), &ra, &err));
  EXPECT_FALSE(ra.active);
  ASSERT_TRUE(ResolveRunAs(0, false, Env({}), &ra, &err));
  EXPECT_FALSE(ra.active);
}

TEST(ResolveRunAs, AMalformedIdIsAnErrorNamingTheVariable) {
  RunAs ra;
  std::string err;
  EXPECT_FALSE(ResolveRunAs(0, false, Env({{"SUDO_UID", "12x"}, {"SUDO_GID", "1"}}), &ra, &err));
  EXPECT_NE(err.find("SUDO_UID='12x'"), std::string::npos) << err;
  EXPECT_FALSE(ResolveRunAs(0, false, Env({{"SUDO_UID", "1000"}, {"SUDO_GID", "-1"}}), &ra, &err));
  EXPECT_NE(err.find("SUDO_GID"), std::string::npos) << err;
  EXPECT_FALSE(ra.active);
}

TEST(ResolveRunAs, AUidWithoutPasswdEntryKeepsItsNumbers) {
  RunAs ra;
  std::string err;
  ASSERT_TRUE(ResolveRunAs(0, false, Env({{"SUDO_UID", "54321"}, {"SUDO_GID", "54322"}}), &ra, &err)) << err;
  EXPECT_TRUE(ra.active);
  EXPECT_EQ(ra.user, "54321");
  EXPECT_EQ(ra.home, "/");
}

}  // namespace
}  // namespace mutcell
