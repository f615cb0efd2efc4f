#include "run/run_resources.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/host_path.h"
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

absl::StatusOr<UniqueFd> RunResources::ResolveFile(const std::string& path,
                                                   const std::string& pointer) {
  auto at = [&pointer](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(pointer, ": File ", s.message()));
  };
  absl::StatusOr<std::string> canonical = CanonicalTrustedPath(path);
  if (!canonical.ok()) return at(canonical.status());
  absl::StatusOr<UniqueFd> fd = OpenNoSymlinks(*canonical, O_PATH);
  if (!fd.ok()) return at(fd.status());
  struct stat st;
  if (fstat(fd->get(), &st) != 0) return at(ErrnoStatus(absl::StrCat("stat ", *canonical)));
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(pointer, ": File ", path, " is a ",
                                                      FileTypeName(st.st_mode),
                                                      "; a File arg must be a regular file"));
  }
  if (OnPseudoFilesystem(fd->get())) {
    return absl::FailedPreconditionError(absl::StrCat(
        pointer, ": File ", path,
        " is on a kernel pseudo filesystem (proc, sysfs, ...): the supervisor would hand over "
        "its own view of it"));
  }
  return fd;
}

absl::StatusOr<UniqueFd> RunResources::OpenFile(const std::string& pointer) const {
  auto it = files.find(pointer);
  if (it == files.end()) return absl::InternalError(absl::StrCat(pointer, ": File not resolved"));
  // Through the kept inode (a magic link of our own /proc/self), never the path again. O_NONBLOCK
  // only for the open (a regular file never blocks; belt and braces), cleared for the void.
  const std::string self = absl::StrCat("/proc/self/fd/", it->second.get());
  UniqueFd fd(open(self.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) return ErrnoStatus(absl::StrCat(pointer, ": reopen File"));
  if (fcntl(fd.get(), F_SETFL, 0) != 0) return ErrnoStatus(absl::StrCat(pointer, ": File flags"));
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
    } else if (const auto* socket =
                   std::get_if<spec::TriggerFileSocket>(&entrypoint.trigger.kind)) {
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
      } else if (const auto* file = std::get_if<spec::ArgFile>(&arg.kind)) {
        ASSIGN_OR_RETURN(UniqueFd fd, ResolveFile(file->path, arg.pointer));
        resources.files.emplace(arg.pointer, std::move(fd));
      }
    }
  }
  for (const auto* channels : {&resources.pipes, &resources.file_sockets}) {
    for (const auto& [name, channel] : *channels) {
      for (int fd : {channel.rx.get(), channel.tx.get()}) {
        struct stat st;
        if (fstat(fd, &st) != 0) return ErrnoStatus(absl::StrCat("stat channel ", name));
        resources.channel_inodes.emplace_back(st.st_dev, st.st_ino);
      }
    }
  }
  return resources;
}

absl::Status RunResources::CheckNoChannelEnds(const std::vector<UniqueFd>& fds) const {
  for (size_t i = 0; i < fds.size(); ++i) {
    struct stat st;
    if (fstat(fds[i].get(), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    for (const auto& [dev, ino] : channel_inodes) {
      if (st.st_dev == dev && st.st_ino == ino) {
        return absl::PermissionDeniedError(absl::StrCat(
            "fd batch refused: fd ", i + 1, " of ", fds.size(),
            " is one of the run's own channel ends (Pipe or FileSocket); channels are granted "
            "by the spec, never passed"));
      }
    }
  }
  return absl::OkStatus();
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
