#include "trigger/trigger_source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

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

}  // namespace
}  // namespace shim::trigger
