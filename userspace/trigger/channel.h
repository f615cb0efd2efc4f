// Named channels between entrypoints (Pipe and FileSocket in the spec), and the messages and fd
// batches that travel on them. Both kinds are AF_UNIX SOCK_SEQPACKET socket pairs: one write is
// one message is one handler, never a byte stream split on read boundaries (the prototype's bug).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace shim::trigger {

// The largest message a Pipe carries. A larger write fails for the sender with EMSGSIZE; it is
// never split. (The receiving end re-checks, since a sender may raise its own SO_SNDBUF.)
inline constexpr size_t kMaxMessageBytes = 64 * 1024;

// The most fds one FileSocket batch may carry. A larger batch is refused and its fds closed.
inline constexpr size_t kMaxFdsPerBatch = 64;

struct Channel {
  UniqueFd rx;  // read end: the supervisor (for triggers) or an Rx arg; cannot be written
  UniqueFd tx;  // write end: a Tx arg; cannot be read
};

// Creates a one-directional packet channel whose Tx end refuses messages over kMaxMessageBytes.
absl::StatusOr<Channel> CreateChannel();

// On SEQPACKET an empty message and a closed peer both read as 0 bytes. The supervisor holds both
// ends of every trigger channel for the whole run, so a trigger channel never ends while the run
// lives and a 0-byte read is always an empty message.

// Reads one message (possibly empty). A message over kMaxMessageBytes is consumed and reported as
// InvalidArgument; the channel stays usable.
absl::StatusOr<std::string> ReceiveMessage(int rx_fd);

// Reads one batch of fds sent with SCM_RIGHTS; any payload bytes are discarded so that only fds
// travel. A message without fds, or with more than kMaxFdsPerBatch (the kernel truncates the
// control data), is refused and whatever fds arrived are closed; so is a batch this process has
// no free fds for (ResourceExhausted, saying so: the kernel closes what it cannot install).
absl::StatusOr<std::vector<UniqueFd>> ReceiveFdBatch(int rx_fd);

// A message becomes one argv word, so it must not contain NUL bytes.
absl::Status CheckArgvWord(absl::string_view message);

// The bytes of a message in a sealed memfd (no write, grow or shrink, ever), reopened read-only:
// how a handler receives binary data that cannot be an argv word.
absl::StatusOr<UniqueFd> SealedMemfd(absl::string_view bytes);

}  // namespace shim::trigger
