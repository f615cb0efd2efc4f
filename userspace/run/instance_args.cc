#include "run/instance_args.h"

#include <fcntl.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/overloaded.h"
#include "common/status_macros.h"
#include "trigger/channel.h"

namespace shim::run {
namespace {

constexpr int kFirstGrantedFd = 3;

}  // namespace

absl::StatusOr<InstanceArgs> BuildInstanceArgs(const spec::Entrypoint& entrypoint,
                                               const RunResources& resources,
                                               const std::vector<std::string>& trailing,
                                               trigger::Delivery* delivery) {
  InstanceArgs out;
  // What the trigger delivered, owned by the result from here on (args and stdio use them).
  std::vector<int> delivered;
  if (delivery != nullptr) {
    for (UniqueFd& fd : delivery->fds) {
      delivered.push_back(fd.get());
      out.owned.push_back(std::move(fd));
    }
    delivery->fds.clear();
  }
  const std::string argv0 = entrypoint.argv0.value_or(
      std::filesystem::path(entrypoint.binary_path).filename().string());
  // Passes a host fd into the void and returns the argv word naming it there.
  auto pass_fd = [&out](int host_fd) {
    out.fds.push_back(host_fd);
    return std::to_string(kFirstGrantedFd + static_cast<int>(out.fds.size()) - 1);
  };
  auto take_owned = [&out, &pass_fd](UniqueFd fd) {
    std::string word = pass_fd(fd.get());
    out.owned.push_back(std::move(fd));
    return word;
  };
  for (const spec::Arg& arg : entrypoint.args) {
    absl::Status status =
        std::visit(Overloaded{
                       [&](const spec::ArgBinaryName&) -> absl::Status {
                         out.argv.push_back(argv0);
                         return absl::OkStatus();
                       },
                       [&](const spec::ArgEntrypoint&) -> absl::Status {
                         out.argv.push_back(entrypoint.name);
                         return absl::OkStatus();
                       },
                       [&](const spec::ArgLiteral& literal) -> absl::Status {
                         out.argv.push_back(literal.text);
                         return absl::OkStatus();
                       },
                       [&](const spec::ArgTrailing&) -> absl::Status {
                         out.argv.insert(out.argv.end(), trailing.begin(), trailing.end());
                         return absl::OkStatus();
                       },
                       [&](const spec::ArgTrigger&) -> absl::Status {
                         if (delivery == nullptr)
                           return absl::InternalError("Trigger arg without a trigger");
                         if (!delivered.empty()) {
                           for (int fd : delivered) out.argv.push_back(pass_fd(fd));
                           return absl::OkStatus();
                         }
                         RETURN_IF_ERROR(trigger::CheckArgvWord(delivery->message));
                         out.argv.push_back(delivery->message);
                         return absl::OkStatus();
                       },
                       [&](const spec::ArgTriggerFd&) -> absl::Status {
                         if (delivery == nullptr)
                           return absl::InternalError("TriggerFd arg without a trigger");
                         ASSIGN_OR_RETURN(UniqueFd memfd, trigger::SealedMemfd(delivery->message));
                         out.argv.push_back(take_owned(std::move(memfd)));
                         return absl::OkStatus();
                       },
                       [&](const spec::ArgFile&) -> absl::Status {
                         ASSIGN_OR_RETURN(UniqueFd fd, resources.OpenFile(arg.pointer));
                         out.argv.push_back(take_owned(std::move(fd)));
                         return absl::OkStatus();
                       },
                       [&](const spec::ArgPipe& pipe) -> absl::Status {
                         out.argv.push_back(pass_fd(resources.ChannelFd(pipe)));
                         return absl::OkStatus();
                       },
                       [&](const spec::ArgFileSocket& socket) -> absl::Status {
                         out.argv.push_back(pass_fd(resources.ChannelFd(socket)));
                         return absl::OkStatus();
                       },
                       [&](const spec::ArgTcpListener&) -> absl::Status {
                         out.argv.push_back(pass_fd(resources.listeners.at(arg.pointer).get()));
                         return absl::OkStatus();
                       },
                   },
                   arg.kind);
    RETURN_IF_ERROR(status);
  }
  if (out.argv.empty()) out.argv.push_back(argv0);  // execve needs an argv[0]
  for (size_t stream = 0; stream < entrypoint.stdio.size(); ++stream) {
    const spec::StdioStream& source = entrypoint.stdio[stream];
    int& target = out.stdio[stream];
    absl::Status status = std::visit(
        Overloaded{
            [&](const spec::StdioNull&) -> absl::Status { return absl::OkStatus(); },
            [&](const spec::StdioInherit&) -> absl::Status {
              target = static_cast<int>(stream);
              return absl::OkStatus();
            },
            [&](const spec::StdioTrigger&) -> absl::Status {
              if (delivery == nullptr) return absl::InternalError("Trigger stdio without a trigger");
              if (!delivered.empty()) {
                target = delivered.front();  // the connection, or the batch's first fd
                return absl::OkStatus();
              }
              // A pipe message: read from a sealed memfd of its own (its own offset).
              ASSIGN_OR_RETURN(UniqueFd memfd, trigger::SealedMemfd(delivery->message));
              target = memfd.get();
              out.owned.push_back(std::move(memfd));
              return absl::OkStatus();
            },
            [&](const spec::ArgPipe& pipe) -> absl::Status {
              target = resources.ChannelFd(pipe);
              return absl::OkStatus();
            },
            [&](const spec::ArgFileSocket& socket) -> absl::Status {
              target = resources.ChannelFd(socket);
              return absl::OkStatus();
            },
            [&](const spec::StdioFile&) -> absl::Status {
              ASSIGN_OR_RETURN(UniqueFd fd, resources.OpenFile(source.pointer));
              target = fd.get();
              out.owned.push_back(std::move(fd));
              return absl::OkStatus();
            },
        },
        source.kind);
    RETURN_IF_ERROR(status);
  }
  return out;
}

}  // namespace shim::run
