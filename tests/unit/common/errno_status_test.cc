#include "common/errno_status.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace shim {
namespace {

TEST(ErrnoStatus, NamesTheStepAndTheErrno) {
  absl::Status s = ErrnoStatus("mount tmpfs root", EPERM);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "mount tmpfs root: Operation not permitted (EPERM)");
}

TEST(ErrnoStatus, MapsErrnoClassesToCodes) {
  EXPECT_EQ(ErrnoStatus("x", ENOENT).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrnoStatus("x", EMFILE).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoStatus("x", ENOSYS).code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(ErrnoStatus("x", EIO).code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace shim
