#include "run/run_resources.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/annotate.h"
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

UnixSocketFile::~UnixSocketFile() {
  if (!folder_) return;
  struct stat st;
  if (fstatat(folder_.get(), name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == dev_ &&
      st.st_ino == ino_) {
    unlinkat(folder_.get(), name_.c_str(), 0);
  }
}

absl::StatusOr<std::pair<UniqueFd, UnixSocketFile>> RunResources::BindUnixListener(
    const std::string& path, const std::string& pointer) {
  auto at = [&pointer, &path](const absl::Status& s) {
    return Annotate(s, absl::StrCat(pointer, ": UnixListener ", path));
  };
  const std::string::size_type slash = path.rfind('/');
  const std::string folder = slash == 0 ? "/" : path.substr(0, slash);
  const std::string name = path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") {
    return absl::InvalidArgumentError(absl::StrCat(pointer, ": UnixListener ", path,
                                                   " does not end in a file name"));
  }
  absl::StatusOr<std::string> canonical = CanonicalTrustedPath(folder);
  if (!canonical.ok()) return at(canonical.status());
  absl::StatusOr<UniqueFd> dir = OpenNoSymlinks(*canonical, O_PATH | O_DIRECTORY);
  if (!dir.ok()) return at(dir.status());
  struct stat st;
  if (fstatat(dir->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::AlreadyExistsError(absl::StrCat(pointer, ": UnixListener ", path, " exists and is a ",
                                                   FileTypeName(st.st_mode), ", not a socket"));
    }
    if (unlinkat(dir->get(), name.c_str(), 0) != 0) return at(ErrnoStatus("remove the old socket"));
  }
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return at(ErrnoStatus("socket"));
  // Bound through the folder's fd (its /proc/self/fd link is resolved by the kernel to exactly
  // that folder), so a folder swapped since it was resolved is never followed.
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string through = absl::StrCat("/proc/self/fd/", dir->get(), "/", name);
  if (through.size() >= sizeof address.sun_path) {
    return absl::InvalidArgumentError(absl::StrCat(pointer, ": UnixListener ", path, " is too long"));
  }
  memcpy(address.sun_path, through.c_str(), through.size() + 1);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return at(ErrnoStatus("bind"));
  }
  if (fstatat(dir->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return at(ErrnoStatus("stat the new socket"));
  }
  const int dir_fd = dir->get();
  UnixSocketFile file(*std::move(dir), name, st.st_dev, st.st_ino);  // removed on any error now
  if (fchmodat(dir_fd, name.c_str(), 0666, 0) != 0) return at(ErrnoStatus("chmod 0666"));
  if (listen(fd.get(), SOMAXCONN) != 0) return at(ErrnoStatus("listen"));
  return std::make_pair(std::move(fd), std::move(file));
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
  // The channel an arg or a stdio stream names (both kinds hold ArgPipe and ArgFileSocket).
  auto ensure_end = [&](const auto& kind) -> absl::Status {
    if (const auto* pipe = std::get_if<spec::ArgPipe>(&kind)) {
      return ensure(resources.pipes, pipe->name);
    }
    if (const auto* socket = std::get_if<spec::ArgFileSocket>(&kind)) {
      return ensure(resources.file_sockets, socket->name);
    }
    return absl::OkStatus();
  };
  auto make_tcp_listener = [&](const spec::Entrypoint& entrypoint, const std::string& pointer,
                               const spec::SocketAddress& address) -> absl::Status {
    absl::StatusOr<UniqueFd> fd = make_listener ? make_listener(entrypoint, pointer, address)
                                                : BindListenerHere(address, pointer);
    if (!fd.ok()) return fd.status();
    resources.listeners.emplace(pointer, *std::move(fd));
    return absl::OkStatus();
  };
  for (const spec::Entrypoint& entrypoint : spec.entrypoints) {
    if (const auto* pipe = std::get_if<spec::TriggerPipe>(&entrypoint.trigger.kind)) {
      RETURN_IF_ERROR(ensure(resources.pipes, pipe->name));
    } else if (const auto* socket =
                   std::get_if<spec::TriggerFileSocket>(&entrypoint.trigger.kind)) {
      RETURN_IF_ERROR(ensure(resources.file_sockets, socket->name));
    }
    if (const auto* listener = std::get_if<spec::TriggerTcpListener>(&entrypoint.trigger.kind)) {
      RETURN_IF_ERROR(make_tcp_listener(entrypoint, entrypoint.trigger.pointer, listener->address));
    } else if (const auto* unix_listener =
                   std::get_if<spec::TriggerUnixListener>(&entrypoint.trigger.kind)) {
      ASSIGN_OR_RETURN(auto bound, BindUnixListener(unix_listener->path, entrypoint.trigger.pointer));
      resources.listeners.emplace(entrypoint.trigger.pointer, std::move(bound.first));
      resources.unix_socket_files.push_back(std::move(bound.second));
    }
    for (const spec::StdioStream& stream : entrypoint.stdio) RETURN_IF_ERROR(ensure_end(stream.kind));
    if (const auto* file = std::get_if<spec::StdioFile>(&entrypoint.stdio[0].kind)) {
      ASSIGN_OR_RETURN(UniqueFd fd, ResolveFile(file->path, entrypoint.stdio[0].pointer));
      resources.files.emplace(entrypoint.stdio[0].pointer, std::move(fd));
    }
    for (const spec::Arg& arg : entrypoint.args) {
      RETURN_IF_ERROR(ensure_end(arg.kind));
      if (const auto* listener = std::get_if<spec::ArgTcpListener>(&arg.kind)) {
        RETURN_IF_ERROR(make_tcp_listener(entrypoint, arg.pointer, listener->address));
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
