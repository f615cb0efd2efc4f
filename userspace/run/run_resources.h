// The kernel objects a run creates once from its spec and hands to instances: one packet channel
// per Pipe and FileSocket name, one bound, listening socket per TcpListener arg, and the file
// each File arg names, resolved once (an O_PATH fd every instance's open starts from).
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "spec/model.h"
#include "trigger/channel.h"

namespace shim::run {

// A UnixListener's socket file: removed at the end of the run if it is still the one bound.
class UnixSocketFile {
 public:
  UnixSocketFile(UniqueFd folder, std::string name, dev_t dev, ino_t ino)
      : folder_(std::move(folder)), name_(std::move(name)), dev_(dev), ino_(ino) {}
  UnixSocketFile(UnixSocketFile&&) = default;
  UnixSocketFile& operator=(UnixSocketFile&&) = default;
  ~UnixSocketFile();

 private:
  UniqueFd folder_;
  std::string name_;
  dev_t dev_;
  ino_t ino_;
};

struct RunResources {
  std::map<std::string, trigger::Channel> pipes;
  std::map<std::string, trigger::Channel> file_sockets;
  // Listening sockets, keyed by the JSON pointer of the TcpListener arg, or of the trigger.
  std::map<std::string, UniqueFd> listeners;
  std::vector<UnixSocketFile> unix_socket_files;
  // File args and stdio Files (O_PATH), keyed by the arg's (or the stdio stream's) pointer.
  std::map<std::string, UniqueFd> files;
  std::vector<std::pair<dev_t, ino_t>> channel_inodes;  // every channel end, for batch checks

  // Makes the listening TCP socket of one TcpListener arg or trigger of `entrypoint`; `pointer`
  // names it in errors.
  using ListenerFactory = std::function<absl::StatusOr<UniqueFd>(
      const spec::Entrypoint& entrypoint, const std::string& pointer, const spec::SocketAddress&)>;

  // Creates every channel named in the spec and every listener (through `make_listener`; by
  // default bound here, SO_REUSEADDR, backlog SOMAXCONN). Errors name the arg's pointer.
  static absl::StatusOr<RunResources> Create(const spec::Spec& spec,
                                             const ListenerFactory& make_listener = {});

  // The default listener factory: a socket of the calling process, bound and listening.
  static absl::StatusOr<UniqueFd> BindListenerHere(const spec::SocketAddress& address,
                                                   const std::string& pointer);

  // Binds a listening unix stream socket at `path` (a UnixListener trigger), mode 0666 like
  // systemd's SocketMode default: the folder is resolved once (root's symlinks only) and the
  // socket made through it, never by the path again. A socket left at the path by an earlier run
  // is replaced; anything else there is an error.
  static absl::StatusOr<std::pair<UniqueFd, UnixSocketFile>> BindUnixListener(
      const std::string& path, const std::string& pointer);

  // Resolves a File arg's path once, as root, following only root's symlinks, and keeps the
  // inode: only a regular file outside the kernel's pseudo filesystems (never /proc/self/mem, a
  // FIFO that would block the supervisor, a device or a socket). Errors name the pointer.
  static absl::StatusOr<UniqueFd> ResolveFile(const std::string& path, const std::string& pointer);

  // One instance's own read-only open file description of a File arg (its own offset), reopened
  // from the kept inode: never by path, never blocking.
  absl::StatusOr<UniqueFd> OpenFile(const std::string& pointer) const;

  // Refuses a FileSocket batch that carries one of the run's own channel ends (a listener sending
  // the Tx end of its handlers' trigger, say): a handler gets what the spec grants it, never a way
  // to start more handlers or to read another entrypoint's requests.
  absl::Status CheckNoChannelEnds(const std::vector<UniqueFd>& fds) const;

  // The host fd an arg of this kind refers to, or -1.
  int ChannelFd(const spec::ArgPipe& arg) const;
  int ChannelFd(const spec::ArgFileSocket& arg) const;
};

}  // namespace shim::run
