#include "common/errno_status.h"

#include <string.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace shim {
namespace {

absl::StatusCode CodeFor(int err) {
  switch (err) {
    case EPERM:
    case EACCES:
      return absl::StatusCode::kPermissionDenied;
    case ENOENT:
    case ESRCH:
      return absl::StatusCode::kNotFound;
    case EEXIST:
      return absl::StatusCode::kAlreadyExists;
    case EINVAL:
    case E2BIG:
    case ENAMETOOLONG:
      return absl::StatusCode::kInvalidArgument;
    case ENOSYS:
    case EOPNOTSUPP:
      return absl::StatusCode::kUnimplemented;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case ENOSPC:
    case EAGAIN:
      return absl::StatusCode::kResourceExhausted;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status ErrnoStatus(absl::string_view what, int err) {
  const char* name = strerrorname_np(err);
  return absl::Status(CodeFor(err), absl::StrCat(what, ": ", strerrordesc_np(err), " (",
                                                 name != nullptr ? name : "?", ")"));
}

absl::Status ErrnoStatus(absl::string_view what) { return ErrnoStatus(what, errno); }

}  // namespace shim
