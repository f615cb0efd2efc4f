// Tests that need root or BPF call SHIM_REQUIRE_PRIVILEGED() first. Outside CI they skip with a
// reason; with SHIM_REQUIRE_PRIVILEGED=1 (set by scripts/test.sh under CI) a missing privilege is
// a failure, so a CI run can never count a skipped privileged test as a pass.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "common/privilege.h"

namespace shim::testing {

inline bool PrivilegeRequired() {
  const char* v = std::getenv("SHIM_REQUIRE_PRIVILEGED");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

}  // namespace shim::testing

#define SHIM_REQUIRE_PRIVILEGED()                                                         \
  do {                                                                                    \
    ::absl::Status _priv = ::shim::CheckSupervisorPrivileges();                           \
    if (!_priv.ok()) {                                                                    \
      if (::shim::testing::PrivilegeRequired()) FAIL() << _priv.message();                \
      GTEST_SKIP() << "needs privilege (SHIM_REQUIRE_PRIVILEGED): " << _priv.message(); \
    }                                                                                     \
  } while (0)
