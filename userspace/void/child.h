// The part of the recipe that runs in the new child, between clone3 and execve. It must not
// allocate or take locks (the parent may have other threads): everything it reads was prepared
// by the parent before clone. A failed step is written to the report pipe as a ChildReport.
#pragma once

#include <linux/sched.h>

#include <cstdint>

#include "void/plan.h"

namespace shim::sandbox {

// One message on a child's report pipe (the child and its parent are one binary: no ABI).
struct ChildReport {
  enum class Kind : int32_t {
    kFailure = 0,         // `step` failed with `err`
    kDebugStopping = 1,   // debug_stop: about to be stopped by the parent
    kTemplateReady = 2,   // the template builder has built the root
  };
  char step[40] = {};
  int32_t err = 0;
  int32_t index = -1;  // the mount entry or landlock rule concerned, or -1
  Kind kind = Kind::kFailure;
};

// What one spawn hands to the child; all memory is owned by the parent's Spawn frame, copied into
// the child by clone (no CLONE_VM).
struct ChildContext {
  const PreparedVoid::Plan* plan = nullptr;
  const SpawnRequest* request = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  int go_read = -1;   // the parent sends one byte once the uid/gid maps are set, another once the
                      // child is in its v1 cgroups (if any), then one to end a debug stop
  int go_write = -1;  // the parent's end, closed first in the child
  int report_write = -1;  // CLOEXEC: closes on a successful execve
  int report_read = -1;
  int template_fd =
      -1;  // >= 0: cloned standing in the template (no mounts to build); set by the parent
  int* source_fds = nullptr;   // scratch, one per plan->mounts entry
  int* scratch_fds = nullptr;  // scratch, 6 + request->fds.size()
};

[[noreturn]] void RunChild(const ChildContext& context);

// Runs in a helper forked by Prepare into a new mount namespace (as the supervisor's root): builds
// the void's root once (tmpfs, binds, pivot_root, detach, read-only), reports a ChildReport with
// kind kTemplateReady when ready, then waits for go_read to close. Its mount namespace is the template
// every instance's namespace is copied from.
[[noreturn]] void RunTemplateBuilder(const ChildContext& context);

// clone3 that runs `RunChild(*context)` in the child on `args->stack` (which must be set when
// args->flags has CLONE_VM). Returns the child's pid in the parent, -1 with errno on failure.
// x86_64 only (the child must switch stacks before it touches memory); elsewhere
// kCanShareMemory is false and callers clone without CLONE_VM.
long Clone3RunChild(struct clone_args* args, const ChildContext* context);

// Not under AddressSanitizer either: its runtime tracks stacks and would see the child's switch.
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
inline constexpr bool kCanShareMemory = true;
#else
inline constexpr bool kCanShareMemory = false;
#endif

}  // namespace shim::sandbox
