// libshim_app as an application uses it: dispatch, fd parsing and the listener loop with a real
// TCP client over loopback.
#include "shim/app.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "shim/app.hpp"
#include "support/privileged.h"
#include "trigger/channel.h"

namespace {

int Hello(int, char**) { return 7; }
int Count(int argc, char**) { return argc; }

const shim_entrypoint kEntrypoints[] = {
    {"hello", Hello, ""},
    {"count", Count, "WORDS..."},
};

TEST(Dispatch, RunsTheNamedEntrypointAndReturnsItsCode) {
  char bin[] = "app", hello[] = "hello", count[] = "count", x[] = "x";
  char* argv1[] = {bin, hello, nullptr};
  EXPECT_EQ(shim_dispatch(2, argv1, kEntrypoints, 2), 7);
  char* argv2[] = {bin, count, x, x, nullptr};
  EXPECT_EQ(shim_dispatch(4, argv2, kEntrypoints, 2), 4);
}

TEST(Dispatch, UnknownOrMissingEntrypointIsAUsageErrorListingEntrypoints) {
  char bin[] = "app", nope[] = "nope";
  char* argv[] = {bin, nope, nullptr};
  testing::internal::CaptureStderr();
  EXPECT_EQ(shim_dispatch(2, argv, kEntrypoints, 2), 2);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("unknown entrypoint 'nope'"), std::string::npos) << err;
  EXPECT_NE(err.find("count WORDS..."), std::string::npos) << err;
  testing::internal::CaptureStderr();
  EXPECT_EQ(shim_dispatch(1, argv, kEntrypoints, 2), 2);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("no entrypoint"), std::string::npos);
}

TEST(ParseFd, AcceptsOpenFdsOnly) {
  EXPECT_EQ(shim_parse_fd("0"), 0);
  EXPECT_EQ(shim_parse_fd("12x"), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(shim_parse_fd("-3"), -1);
  EXPECT_EQ(shim_parse_fd(""), -1);
  EXPECT_EQ(shim_parse_fd("99999999999"), -1);
  EXPECT_EQ(shim_parse_fd("1000"), -1);
  EXPECT_EQ(errno, EBADF);
  char bin[] = "app", zero[] = "0", bad[] = "x";
  char* argv[] = {bin, zero, bad};
  shim::app::Args args(3, argv);
  EXPECT_EQ(args.fd(1), 0);
  EXPECT_EQ(args.fd(2), std::nullopt);
  EXPECT_EQ(args.word(5), std::nullopt);
}

int listener_for_stop_test = -1;
int tx_for_stop_test = -1;
int ServeForStopTest(int, char**) {
  return shim_serve_listener(listener_for_stop_test, tx_for_stop_test) == 0 ? 0 : 1;
}

TEST(ServeListener, SigtermStopsItCleanlyThroughDispatchsHandlers) {
  listener_for_stop_test = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener_for_stop_test, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener_for_stop_test, 16), 0);
  absl::StatusOr<shim::trigger::Channel> ch = shim::trigger::CreateChannel();
  ASSERT_TRUE(ch.ok());
  tx_for_stop_test = ch->tx.get();
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t server = fork();
  if (server == 0) {
    static const shim_entrypoint kTable[] = {{"listen", ServeForStopTest, ""}};
    char name[] = "app", entry[] = "listen";
    char* argv[] = {name, entry, nullptr};
    // Readiness is signalled just before shim_dispatch; the parent then waits for the child to
    // reach accept() (SIGTERM before the handlers exist would kill it: the test would fail).
    close(ready[0]);
    (void)!write(ready[1], "x", 1);
    _exit(shim_dispatch(2, argv, kTable, 1));
  }
  close(ready[1]);
  char byte;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  usleep(200 * 1000);  // let the child reach accept() inside shim_serve_listener
  kill(server, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(server, &status, 0), server);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  close(listener_for_stop_test);
}

TEST(Dispatch, SigtermOutsideTheListenerEndsTheProcessWithTheUsualStatus) {
  pid_t child = fork();
  if (child == 0) {
    static const shim_entrypoint kTable[] = {{"wait", [](int, char**) {
                                                 pause();
                                                 return 0;
                                               },
                                               ""}};
    char name[] = "app", entry[] = "wait";
    char* argv[] = {name, entry, nullptr};
    _exit(shim_dispatch(2, argv, kTable, 1));
  }
  usleep(200 * 1000);
  kill(child, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
}

TEST(ServeListener, HandsEachConnectionToTheShimAndKeepsNoCopy) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 16), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);

  absl::StatusOr<shim::trigger::Channel> ch = shim::trigger::CreateChannel();
  ASSERT_TRUE(ch.ok());
  pid_t server = fork();
  if (server == 0) _exit(shim_serve_listener(listener, ch->tx.get()) == 0 ? 0 : 1);

  constexpr int kConnections = 5;
  for (int i = 0; i < kConnections; ++i) {
    int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    absl::StatusOr<std::vector<shim::UniqueFd>> batch = shim::trigger::ReceiveFdBatch(ch->rx.get());
    ASSERT_TRUE(batch.ok()) << batch.status();
    ASSERT_EQ(batch->size(), 1u);
    // The handler side talks to the client over the received fd.
    std::string msg = "ping " + std::to_string(i);
    ASSERT_EQ(write((*batch)[0].get(), msg.data(), msg.size()), static_cast<ssize_t>(msg.size()));
    char buf[32] = {};
    ASSERT_EQ(read(client, buf, sizeof(buf)), static_cast<ssize_t>(msg.size()));
    EXPECT_EQ(std::string(buf), msg);
    // Once the handler closes its copy the client sees EOF: the listener kept no copy.
    batch->clear();
    EXPECT_EQ(read(client, buf, sizeof(buf)), 0);
    close(client);
  }
  kill(server, SIGKILL);
  waitpid(server, nullptr, 0);
  close(listener);
}

TEST(ServeListener, ReturnsEpipeWhenTheShimIsGone) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 16), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  absl::StatusOr<shim::trigger::Channel> ch = shim::trigger::CreateChannel();
  ASSERT_TRUE(ch.ok());
  ch->rx.reset();
  int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(shim_serve_listener(listener, ch->tx.get()), -1);
  EXPECT_EQ(errno, EPIPE);
  close(client);
  close(listener);
}

// Under fd pressure (the shim behind or out of fds), the kernel refuses to put more fds in flight
// than the sender's RLIMIT_NOFILE (ETOOMANYREFS, for an unprivileged sender like a void): the
// listener must drop that one connection and keep serving, not stop for good.
TEST(ServeListener, KeepsServingWhenTooManyFdsAreInFlight) {
  SHIM_REQUIRE_PRIVILEGED();  // to switch to an unprivileged uid
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 64), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  absl::StatusOr<shim::trigger::Channel> ch = shim::trigger::CreateChannel();
  ASSERT_TRUE(ch.ok());
  pid_t server = fork();
  if (server == 0) {
    // An unprivileged sender with a low fd limit; nobody receives, so fds pile up in flight.
    rlimit low{16, 16};
    if (setrlimit(RLIMIT_NOFILE, &low) != 0 || setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0) {
      _exit(10);
    }
    _exit(shim_serve_listener(listener, ch->tx.get()) == 0 ? 0 : 1);
  }
  std::vector<int> clients;
  for (int i = 0; i < 40; ++i) {
    int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    clients.push_back(client);
  }
  usleep(500 * 1000);
  int status = 0;
  EXPECT_EQ(waitpid(server, &status, WNOHANG), 0)
      << "the listener stopped: exit " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  // What got through is there to receive; the rest were closed, not lost in the listener.
  int received = 0;
  for (;;) {
    pollfd p{ch->rx.get(), POLLIN, 0};
    if (poll(&p, 1, 0) != 1) break;
    absl::StatusOr<std::vector<shim::UniqueFd>> batch = shim::trigger::ReceiveFdBatch(ch->rx.get());
    if (batch.ok()) ++received;
  }
  EXPECT_GT(received, 0);
  EXPECT_LT(received, 40) << "ETOOMANYREFS never happened; the test proves nothing";
  kill(server, SIGKILL);
  waitpid(server, nullptr, 0);
  for (int client : clients) close(client);
  close(listener);
}

}  // namespace
