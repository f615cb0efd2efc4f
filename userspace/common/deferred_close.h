// Closing fds that a void handed to the supervisor, off the supervisor's loop. The last close of
// a file can block: a TCP socket with SO_LINGER and unsent data waits up to its linger time, a
// terminal drains its output. A void chooses those settings, so the supervisor never closes
// such an fd on a thread that must keep serving (timeouts, reaping, signals): it hands it here.
#pragma once

#include <vector>

#include "common/unique_fd.h"

namespace shim {

// Queues `fd` for closing on a background thread of its own (started on first use, alive until
// the process exits). Never blocks the caller beyond taking a mutex.
void CloseLater(UniqueFd fd);
void CloseLater(std::vector<UniqueFd>& fds);  // empties `fds`

// For fds refused from a void: a socket's SO_LINGER is switched off first (its close then never
// waits for unsent data, so a hostile batch cannot hold even the closing thread), then CloseLater.
void DiscardForeign(std::vector<UniqueFd>& fds);

// Blocks until everything queued before this call is closed (for tests that count fds).
void FlushDeferredCloses();

}  // namespace shim
