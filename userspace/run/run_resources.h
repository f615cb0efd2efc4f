// The kernel objects a run creates once from its spec and hands to instances: one packet channel
// per Pipe and FileSocket name, and one bound, listening socket per TcpListener arg.
#pragma once

#include <functional>
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

  // Makes the listening socket of one TcpListener arg of `entrypoint`.
  using ListenerFactory = std::function<absl::StatusOr<UniqueFd>(
      const spec::Entrypoint& entrypoint, const spec::Arg& arg, const spec::SocketAddress&)>;

  // Creates every channel named in the spec and every listener (through `make_listener`; by
  // default bound here, SO_REUSEADDR, backlog SOMAXCONN). Errors name the arg's pointer.
  static absl::StatusOr<RunResources> Create(const spec::Spec& spec,
                                             const ListenerFactory& make_listener = {});

  // The default listener factory: a socket of the calling process, bound and listening.
  static absl::StatusOr<UniqueFd> BindListenerHere(const spec::SocketAddress& address,
                                                   const std::string& pointer);

  // The host fd an arg of this kind refers to, or -1.
  int ChannelFd(const spec::ArgPipe& arg) const;
  int ChannelFd(const spec::ArgFileSocket& arg) const;
};

}  // namespace shim::run
