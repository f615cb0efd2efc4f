// The kernel objects a run creates once from its spec and hands to instances: one packet channel
// per Pipe and FileSocket name, and one bound, listening socket per TcpListener arg.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "spec/model.h"
#include "trigger/channel.h"

namespace shim::run {

struct RunResources {
  std::map<std::string, trigger::Channel> pipes;
  std::map<std::string, trigger::Channel> file_sockets;
  std::map<std::string, UniqueFd> listeners;  // keyed by the arg's JSON pointer

  // Creates every channel named in the spec and binds every listener (SO_REUSEADDR, backlog
  // SOMAXCONN). An address in use is an error naming the arg's pointer.
  static absl::StatusOr<RunResources> Create(const spec::Spec& spec);

  // The host fd an arg of this kind refers to, or -1.
  int ChannelFd(const spec::ArgPipe& arg) const;
  int ChannelFd(const spec::ArgFileSocket& arg) const;
};

}  // namespace shim::run
