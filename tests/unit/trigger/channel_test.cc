#include "trigger/channel.h"

#include <dirent.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "common/deferred_close.h"
#include "shim/app.h"

namespace shim::trigger {
namespace {

using ::testing::HasSubstr;

int OpenFdCount() {
  int count = 0;
  DIR* d = opendir("/proc/self/fd");
  while (dirent* e = readdir(d)) count += e->d_name[0] != '.';
  closedir(d);
  return count;
}

TEST(Channel, AMessageOfExactlyTheLimitPassesWhole) {
  absl::StatusOr<Channel> ch = CreateChannel();
  ASSERT_TRUE(ch.ok()) << ch.status();
  std::string big(kMaxMessageBytes, 'x');
  big.front() = '<';
  big.back() = '>';
  ASSERT_EQ(shim_send_message(ch->tx.get(), big.data(), big.size()), 0) << strerror(errno);
  absl::StatusOr<std::string> got = ReceiveMessage(ch->rx.get());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, big);
}

TEST(Channel, AWriteOverTheLimitFailsForTheSenderAndIsNeverSplit) {
  absl::StatusOr<Channel> ch = CreateChannel();
  ASSERT_TRUE(ch.ok());
  std::string too_big(kMaxMessageBytes + 1, 'y');
  // The raw kernel path, not only the library's own check, refuses it.
  EXPECT_EQ(send(ch->tx.get(), too_big.data(), too_big.size(), MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EMSGSIZE);
  EXPECT_EQ(shim_send_message(ch->tx.get(), too_big.data(), too_big.size()), -1);
  EXPECT_EQ(errno, EMSGSIZE);
  // Nothing at all was queued.
  char probe;
  EXPECT_EQ(recv(ch->rx.get(), &probe, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST(Channel, EveryWriteIsOneMessageWithExactBoundaries) {
  absl::StatusOr<Channel> ch = CreateChannel();
  ASSERT_TRUE(ch.ok());
  std::mt19937 rng(42);
  std::uniform_int_distribution<size_t> size(0, 3000);
  std::vector<std::string> sent;
  for (int i = 0; i < 500; ++i) {
    std::string m(size(rng), static_cast<char>('a' + i % 26));
    if (!m.empty()) m[0] = static_cast<char>('0' + i % 10);
    ASSERT_EQ(send(ch->tx.get(), m.data(), m.size(), MSG_DONTWAIT), static_cast<ssize_t>(m.size()))
        << "message " << i;
    sent.push_back(std::move(m));
    // Drain as we go so the bounded queue never blocks the test.
    if (i % 8 == 7) {
      for (size_t k = sent.size() - 8; k < sent.size(); ++k) {
        absl::StatusOr<std::string> got = ReceiveMessage(ch->rx.get());
        ASSERT_TRUE(got.ok());
        EXPECT_EQ(*got, sent[k]) << "message " << k;
      }
    }
  }
}

TEST(Channel, AnEmptyWriteIsAnEmptyMessage) {
  absl::StatusOr<Channel> ch = CreateChannel();
  ASSERT_TRUE(ch.ok());
  ASSERT_EQ(send(ch->tx.get(), "", 0, 0), 0);
  ASSERT_EQ(send(ch->tx.get(), "z", 1, 0), 1);
  absl::StatusOr<std::string> first = ReceiveMessage(ch->rx.get());
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, "");
  absl::StatusOr<std::string> second = ReceiveMessage(ch->rx.get());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, "z");
}

TEST(Channel, AnOversizedMessageFromASenderThatRaisedItsBufferIsRefusedAndTheChannelGoesOn) {
  absl::StatusOr<Channel> ch = CreateChannel();
  ASSERT_TRUE(ch.ok());
  int bigger = 1 << 20;
  ASSERT_EQ(setsockopt(ch->tx.get(), SOL_SOCKET, SO_SNDBUF, &bigger, sizeof(bigger)), 0);
  std::string sneaky(kMaxMessageBytes + 100, 's');
  ASSERT_EQ(send(ch->tx.get(), sneaky.data(), sneaky.size(), 0),
            static_cast<ssize_t>(sneaky.size()));
  ASSERT_EQ(send(ch->tx.get(), "next", 4, 0), 4);
  absl::StatusOr<std::string> refused = ReceiveMessage(ch->rx.get());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("over the limit"));
  absl::StatusOr<std::string> next = ReceiveMessage(ch->rx.get());
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, "next");
}

TEST(Channel, EndsAreOneDirectional) {
  absl::StatusOr<Channel> ch = CreateChannel();
  ASSERT_TRUE(ch.ok());
  EXPECT_EQ(send(ch->rx.get(), "back", 4, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE);
}

TEST(CheckArgvWord, RefusesNulBytesAndNamesTheOffset) {
  EXPECT_TRUE(CheckArgvWord("hello world").ok());
  EXPECT_TRUE(CheckArgvWord("").ok());
  absl::Status s = CheckArgvWord(absl::string_view("ab\0cd", 5));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("offset 2"));
}

TEST(SealedMemfd, HoldsTheBytesReadOnlyAndSealed) {
  std::string bytes("bin\0ary\xff", 8);
  absl::StatusOr<UniqueFd> fd = SealedMemfd(bytes);
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(fcntl(fd->get(), F_GETFL) & O_ACCMODE, O_RDONLY);
  char buf[16] = {};
  ASSERT_EQ(read(fd->get(), buf, sizeof(buf)), 8);
  EXPECT_EQ(std::string(buf, 8), bytes);
  EXPECT_EQ(write(fd->get(), "x", 1), -1);
  int seals = fcntl(fd->get(), F_GET_SEALS);
  EXPECT_EQ(seals & (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL),
            F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
  // Even a new writable open of the same memfd cannot change it.
  std::string path = "/proc/self/fd/" + std::to_string(fd->get());
  UniqueFd rw(open(path.c_str(), O_RDWR));
  ASSERT_TRUE(rw.valid()) << strerror(errno);
  EXPECT_EQ(write(rw.get(), "x", 1), -1);
  EXPECT_EQ(errno, EPERM);
}

TEST(FdBatch, DeliversExactlyTheSentFdsAndNothingElse) {
  absl::StatusOr<Channel> ch = CreateChannel();
  ASSERT_TRUE(ch.ok());
  UniqueFd a(open("/dev/null", O_RDONLY | O_CLOEXEC));
  UniqueFd b(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  int fds[2] = {a.get(), b.get()};
  ASSERT_EQ(shim_send_fds(ch->tx.get(), fds, 2), 0) << strerror(errno);
  absl::StatusOr<std::vector<UniqueFd>> got = ReceiveFdBatch(ch->rx.get());
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  for (int i = 0; i < 2; ++i) {
    struct stat want {
    }, have{};
    fstat(fds[i], &want);
    fstat((*got)[i].get(), &have);
    EXPECT_EQ(want.st_ino, have.st_ino);
    EXPECT_EQ(want.st_dev, have.st_dev);
    // Received fds are close-on-exec in the supervisor: they reach only the chosen handler.
    EXPECT_TRUE(fcntl((*got)[i].get(), F_GETFD) & FD_CLOEXEC);
  }
}

TEST(FdBatch, AMessageWithoutFdsIsRefused) {
  absl::StatusOr<Channel> ch = CreateChannel();
  ASSERT_TRUE(ch.ok());
  ASSERT_EQ(send(ch->tx.get(), "data", 4, 0), 4);
  absl::StatusOr<std::vector<UniqueFd>> got = ReceiveFdBatch(ch->rx.get());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(got.status().message(), HasSubstr("carries no fds"));
}

TEST(FdBatch, AnOversizedBatchIsRefusedAndLeaksNoFd) {
  absl::StatusOr<Channel> ch = CreateChannel();
  ASSERT_TRUE(ch.ok());
  constexpr int kTooMany = static_cast<int>(kMaxFdsPerBatch) + 10;
  std::vector<int> fds(kTooMany, -1);
  UniqueFd null_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  for (int& fd : fds) fd = null_fd.get();
  // Send by hand: the library refuses batches this large on the sending side.
  char byte = 'F';
  iovec iov{&byte, 1};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kTooMany));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * kTooMany);
  memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * kTooMany);
  ASSERT_EQ(sendmsg(ch->tx.get(), &msg, 0), 1) << strerror(errno);

  const int before = OpenFdCount();
  absl::StatusOr<std::vector<UniqueFd>> got = ReceiveFdBatch(ch->rx.get());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  FlushDeferredCloses();  // a refused batch is closed on the closing thread
  EXPECT_EQ(OpenFdCount(), before);
  int batch[1] = {null_fd.get()};
  EXPECT_EQ(shim_send_fds(ch->tx.get(), batch, 0), -1);
  EXPECT_EQ(errno, EINVAL);
}

// A supervisor out of file descriptors gets a truncated batch from the kernel: the refusal must
// say so, not blame the sender for sending too many fds.
TEST(FdBatch, AReceiverOutOfFdsRefusesTheBatchSayingSo) {
  absl::StatusOr<Channel> ch = CreateChannel();
  ASSERT_TRUE(ch.ok());
  UniqueFd null_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  int fds[3] = {null_fd.get(), null_fd.get(), null_fd.get()};
  ASSERT_EQ(shim_send_fds(ch->tx.get(), fds, 3), 0) << strerror(errno);
  // In a child, so the test process keeps its limit: fill every fd slot under a low limit.
  pid_t child = fork();
  if (child == 0) {
    rlimit low{64, 64};
    if (setrlimit(RLIMIT_NOFILE, &low) != 0) _exit(10);
    while (open("/dev/null", O_RDONLY) >= 0) {
    }
    absl::StatusOr<std::vector<UniqueFd>> got = ReceiveFdBatch(ch->rx.get());
    if (got.ok()) _exit(11);
    if (got.status().code() != absl::StatusCode::kResourceExhausted) _exit(12);
    const std::string message(got.status().message());
    if (message.find("out of file descriptors") == std::string::npos) _exit(13);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10 setrlimit, 11 accepted, 12 wrong code, 13 wrong text";
}

}  // namespace
}  // namespace shim::trigger
