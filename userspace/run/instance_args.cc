#include "run/instance_args.h"

#include <fcntl.h>

#include <cerrno>

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
                         out.argv.push_back(entrypoint.binary_path);
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
                         if (!delivery->fds.empty()) {
                           for (UniqueFd& fd : delivery->fds)
                             out.argv.push_back(take_owned(std::move(fd)));
                           delivery->fds.clear();
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
  if (out.argv.empty()) out.argv.push_back(entrypoint.binary_path);  // execve needs an argv[0]
  return out;
}

}  // namespace shim::run
