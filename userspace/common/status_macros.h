// Error propagation for absl::Status / absl::StatusOr (Abseil 20220623 ships no macros).
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SHIM_CONCAT_INNER(a, b) a##b
#define SHIM_CONCAT(a, b) SHIM_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define RETURN_IF_ERROR(expr)                                  \
  do {                                                         \
    if (::absl::Status _shim_status = (expr); !_shim_status.ok()) { \
      return _shim_status;                                     \
    }                                                          \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, Foo());` binds the value of a StatusOr or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  SHIM_ASSIGN_OR_RETURN_IMPL(SHIM_CONCAT(_shim_statusor_, __LINE__), lhs, expr)
#define SHIM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return std::move(tmp).status();   \
  lhs = std::move(tmp).value()
