#include "trigger/trigger_source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "shim/app.h"
#include "trigger/channel.h"

namespace shim::trigger {
namespace {

TEST(TriggerSource, DeliversOneMessagePerTakeAndCountsRefusals) {
  absl::StatusOr<Channel> ch = CreateChannel();
  ASSERT_TRUE(ch.ok());
  TriggerSource source("receiver", TriggerKind::kPipe, ch->rx.get(), 2);
  ASSERT_EQ(shim_send_message(ch->tx.get(), "one", 3), 0);
  ASSERT_EQ(shim_send_message(ch->tx.get(), "two", 3), 0);
  absl::StatusOr<Delivery> first = source.Take();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->message, "one");
  EXPECT_TRUE(first->fds.empty());
  absl::StatusOr<Delivery> second = source.Take();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->message, "two");

  int bigger = 1 << 20;
  setsockopt(ch->tx.get(), SOL_SOCKET, SO_SNDBUF, &bigger, sizeof(bigger));
  std::string huge(kMaxMessageBytes + 1, 'h');
  ASSERT_EQ(send(ch->tx.get(), huge.data(), huge.size(), 0), static_cast<ssize_t>(huge.size()));
  EXPECT_FALSE(source.Take().ok());
  EXPECT_EQ(source.refused(), 1u);
}

TEST(TriggerSource, IsNotReadyWhileConcurrencyHandlersAreInFlight) {
  absl::StatusOr<Channel> ch = CreateChannel();
  ASSERT_TRUE(ch.ok());
  TriggerSource source("handler", TriggerKind::kFileSocket, ch->rx.get(), 2);
  EXPECT_TRUE(source.Ready());
  source.Started();
  EXPECT_TRUE(source.Ready());
  source.Started();
  EXPECT_FALSE(source.Ready());
  EXPECT_EQ(source.in_flight(), 2u);
  source.Finished();
  EXPECT_TRUE(source.Ready());
  EXPECT_EQ(source.started(), 2u);
}

TEST(TriggerSource, UnreadChannelBlocksTheSenderInsteadOfGrowingWithoutBound) {
  absl::StatusOr<Channel> ch = CreateChannel();
  ASSERT_TRUE(ch.ok());
  TriggerSource source("handler", TriggerKind::kPipe, ch->rx.get(), 1);
  source.Started();  // the one permitted handler is busy, so nothing reads the channel
  std::string request(1024, 'r');
  int queued = 0;
  while (send(ch->tx.get(), request.data(), request.size(), MSG_DONTWAIT) > 0) {
    ASSERT_LT(++queued, 10000) << "the channel never pushed back";
  }
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_GT(queued, 0);
  // The queue is bounded by the kernel (about the send buffer), not by the supervisor.
  EXPECT_LT(queued, 200);
}

TEST(TriggerSource, ZeroConcurrencyMeansTheDefault) {
  TriggerSource source("h", TriggerKind::kPipe, -1, 0);
  for (uint32_t i = 0; i < kDefaultConcurrency; ++i) {
    ASSERT_TRUE(source.Ready());
    source.Started();
  }
  EXPECT_FALSE(source.Ready());
}

TEST(TriggerSource, FileSocketDeliversTheBatch) {
  absl::StatusOr<Channel> ch = CreateChannel();
  ASSERT_TRUE(ch.ok());
  TriggerSource source("handler", TriggerKind::kFileSocket, ch->rx.get(), 4);
  UniqueFd null_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  int fds[3] = {null_fd.get(), null_fd.get(), null_fd.get()};
  ASSERT_EQ(shim_send_fds(ch->tx.get(), fds, 3), 0);
  absl::StatusOr<Delivery> d = source.Take();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->fds.size(), 3u);
  EXPECT_TRUE(d->message.empty());
}

// A listener source accepts one connection per Take, says Unavailable when there is none (never
// blocking), and caps connections in flight per client address.
TEST(TriggerSource, ListenerAcceptsOneConnectionPerTakeAndCapsEachSource) {
  UniqueFd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  ASSERT_EQ(listen(listener.get(), 16), 0);
  TriggerSource source("web", TriggerKind::kListener, listener.get(), 8, /*max_per_source=*/2);
  EXPECT_NE(fcntl(listener.get(), F_GETFL) & O_NONBLOCK, 0) << "the loop must never block";
  EXPECT_TRUE(absl::IsUnavailable(source.Take().status())) << "no client yet";
  std::vector<UniqueFd> clients;
  auto connect_one = [&] {
    clients.emplace_back(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    return connect(clients.back().get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
  };
  for (int i = 0; i < 3; ++i) ASSERT_EQ(connect_one(), 0);
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<Delivery> d = source.Take();
    ASSERT_TRUE(d.ok()) << d.status();
    ASSERT_EQ(d->fds.size(), 1u);
    EXPECT_EQ(d->source, "127.0.0.1");
    EXPECT_EQ(fcntl(d->fds[0].get(), F_GETFL) & O_NONBLOCK, 0) << "blocking for the handler";
    source.Started(d->source);
  }
  absl::StatusOr<Delivery> third = source.Take();
  EXPECT_TRUE(absl::IsFailedPrecondition(third.status())) << third.status();
  EXPECT_NE(third.status().message().find("max_per_source 2"), std::string::npos);
  EXPECT_EQ(source.refused(), 1u);
  char byte;
  EXPECT_EQ(read(clients[2].get(), &byte, 1), 0) << "the third client was closed at once";
  source.Finished("127.0.0.1");
  ASSERT_EQ(connect_one(), 0);
  absl::StatusOr<Delivery> again = source.Take();
  EXPECT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(source.in_flight(), 1u);
}

}  // namespace
}  // namespace shim::trigger
