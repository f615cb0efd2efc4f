#include "run/run_resources.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/status_macros.h"
#include "run/sockaddr.h"

namespace shim::run {

absl::StatusOr<UniqueFd> RunResources::BindListenerHere(const spec::SocketAddress& address,
                                                        const std::string& pointer) {
  const int family = address.ipv6 ? AF_INET6 : AF_INET;
  UniqueFd fd(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoStatus(absl::StrCat(pointer, ": socket for ", address.text), errno);
  const int one = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    return ErrnoStatus(absl::StrCat(pointer, ": SO_REUSEADDR"), errno);
  }
  sockaddr_storage storage{};
  const socklen_t length = ToSockaddr(address, storage);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    return ErrnoStatus(absl::StrCat(pointer, ": cannot listen on ", address.text), errno);
  }
  if (listen(fd.get(), SOMAXCONN) != 0) {
    return ErrnoStatus(absl::StrCat(pointer, ": listen on ", address.text), errno);
  }
  return fd;
}

absl::StatusOr<RunResources> RunResources::Create(const spec::Spec& spec,
                                                  const ListenerFactory& make_listener) {
  RunResources resources;
  auto ensure = [](std::map<std::string, trigger::Channel>& channels,
                   const std::string& name) -> absl::Status {
    if (channels.count(name) != 0) return absl::OkStatus();
    ASSIGN_OR_RETURN(trigger::Channel channel, trigger::CreateChannel());
    channels.emplace(name, std::move(channel));
    return absl::OkStatus();
  };
  for (const spec::Entrypoint& entrypoint : spec.entrypoints) {
    if (const auto* pipe = std::get_if<spec::TriggerPipe>(&entrypoint.trigger.kind)) {
      RETURN_IF_ERROR(ensure(resources.pipes, pipe->name));
    } else if (const auto* socket = std::get_if<spec::TriggerFileSocket>(&entrypoint.trigger.kind)) {
      RETURN_IF_ERROR(ensure(resources.file_sockets, socket->name));
    }
    for (const spec::Arg& arg : entrypoint.args) {
      if (const auto* pipe = std::get_if<spec::ArgPipe>(&arg.kind)) {
        RETURN_IF_ERROR(ensure(resources.pipes, pipe->name));
      } else if (const auto* socket = std::get_if<spec::ArgFileSocket>(&arg.kind)) {
        RETURN_IF_ERROR(ensure(resources.file_sockets, socket->name));
      } else if (const auto* listener = std::get_if<spec::ArgTcpListener>(&arg.kind)) {
        absl::StatusOr<UniqueFd> fd = make_listener
                                           ? make_listener(entrypoint, arg, listener->address)
                                           : BindListenerHere(listener->address, arg.pointer);
        if (!fd.ok()) return fd.status();
        resources.listeners.emplace(arg.pointer, *std::move(fd));
      }
    }
  }
  return resources;
}

int RunResources::ChannelFd(const spec::ArgPipe& arg) const {
  auto it = pipes.find(arg.name);
  if (it == pipes.end()) return -1;
  return arg.direction == spec::Direction::kRx ? it->second.rx.get() : it->second.tx.get();
}

int RunResources::ChannelFd(const spec::ArgFileSocket& arg) const {
  auto it = file_sockets.find(arg.name);
  if (it == file_sockets.end()) return -1;
  return arg.direction == spec::Direction::kRx ? it->second.rx.get() : it->second.tx.get();
}

}  // namespace shim::run
