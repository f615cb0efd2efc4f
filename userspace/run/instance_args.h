// Turns an entrypoint's `args` into one instance's argv and the fds it receives, exactly like the
// prototype: every fd arg becomes the decimal number the fd will have inside the void (3, 4, ...
// in the order the args list them), so existing apps keep working.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/deferred_close.h"
#include "common/unique_fd.h"
#include "run/run_resources.h"
#include "spec/model.h"
#include "trigger/trigger_source.h"

namespace shim::run {

struct InstanceArgs {
  std::vector<std::string> argv;
  std::vector<int> fds;         // host fds; fds[i] is fd 3+i in the void
  std::array<int, 3> stdio = {-1, -1, -1};  // host fds for 0, 1, 2 (-1: /dev/null)
  std::vector<UniqueFd> owned;  // fds opened for this instance only (File, memfd, received fds)

  InstanceArgs() = default;
  InstanceArgs(InstanceArgs&&) = default;
  InstanceArgs& operator=(InstanceArgs&&) = default;
  // `owned` holds fds a void sent (a FileSocket batch): their last close may block (SO_LINGER),
  // so they are closed on the closing thread, never on the loop or a spawn worker.
  ~InstanceArgs() { CloseLater(owned); }
};

// `delivery` is what the trigger delivered (null for Startup entrypoints); its fds are moved into
// the result. Also fills `stdio` from the entrypoint's "stdio". A File that cannot be opened, or a
// message that cannot be an argv word, is an error.
absl::StatusOr<InstanceArgs> BuildInstanceArgs(const spec::Entrypoint& entrypoint,
                                               const RunResources& resources,
                                               const std::vector<std::string>& trailing,
                                               trigger::Delivery* delivery);

}  // namespace shim::run
