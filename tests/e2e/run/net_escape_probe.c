// Ways around a network grant, tried from inside a void that `shim-bpf run` started with
//   outbound: 127.0.0.2/32, TCP port T and UDP port U; no inbound grant
// Prints "PASS <name>" or "FAIL <name>: <what happened>" per attempt; the test counts them.
//   net_escape_probe <entrypoint> T U
// T and U must be listening on 127.0.0.2 (TCP) and bound on 127.0.0.2 (UDP): the allowed
// controls connect and send there, so a denial cannot pass for a network that is merely broken.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static int failures = 0;

static void report(const char* name, int ok, const char* what) {
  if (ok) {
    printf("PASS %s\n", name);
  } else {
    printf("FAIL %s: %s\n", name, what);
    ++failures;
  }
}

// 0 on success, else errno.
static int result(long rc) { return rc < 0 ? errno : 0; }

static void expect(const char* name, int got, int want) {
  char what[96];
  snprintf(what, sizeof what, "got %s, want %s", got ? strerror(got) : "success",
           want ? strerror(want) : "success");
  report(name, got == want, what);
}

static struct sockaddr_in v4(const char* ip, int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

static struct sockaddr_in6 v6(const char* ip, int port) {
  struct sockaddr_in6 a;
  memset(&a, 0, sizeof a);
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  inet_pton(AF_INET6, ip, &a.sin6_addr);
  return a;
}

// connect() on a new socket of `family`/`type` to `addr`; 0 or errno (of socket or connect).
static int connect_to(int family, int type, const void* addr, socklen_t len) {
  int fd = socket(family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int err = result(connect(fd, addr, len));
  close(fd);
  return err;
}

static int connect4(int type, const char* ip, int port) {
  struct sockaddr_in a = v4(ip, port);
  return connect_to(AF_INET, type, &a, sizeof a);
}

static int connect6(int type, const char* ip, int port) {
  struct sockaddr_in6 a = v6(ip, port);
  return connect_to(AF_INET6, type, &a, sizeof a);
}

static int sendto_on(int fd, const void* addr, socklen_t len) {
  return sendto(fd, "x", 1, 0, addr, len) == 1 ? 0 : errno;
}

static int sendto4_on(int fd, const char* ip, int port) {
  struct sockaddr_in a = v4(ip, port);
  return sendto_on(fd, &a, sizeof a);
}

// A socket of this kind: 0 or errno.
static int socket_of(int family, int type, int protocol) {
  int fd = socket(family, type | SOCK_CLOEXEC, protocol);
  if (fd < 0) return errno;
  close(fd);
  return 0;
}

// Sockets the policy never grants: EPERM from seccomp or the BPF sock_create hook, EACCES where
// the kernel refuses first (ping sockets outside net.ipv4.ping_group_range), or no such protocol
// in this kernel at all (then there is nothing to get around either).
static void expect_no_socket(const char* name, int family, int type, int protocol) {
  int err = socket_of(family, type, protocol);
  char what[96];
  snprintf(what, sizeof what, "got %s, want EPERM", err ? strerror(err) : "a socket");
  report(name, err == EPERM || err == EACCES || err == EPROTONOSUPPORT || err == ESOCKTNOSUPPORT,
         what);
}

// Asks NETLINK_ROUTE to add an address (an empty request: refused before it is parsed without
// CAP_NET_ADMIN over the network namespace); 0, or the errno of the answer or of the calls.
static int netlink_route_change(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return errno;
  struct {
    struct nlmsghdr header;
    struct ifaddrmsg body;
  } request;
  memset(&request, 0, sizeof request);
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof request.body);
  request.header.nlmsg_type = RTM_NEWADDR;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  request.body.ifa_family = AF_INET;
  int err = 0;
  char answer[512];
  if (send(fd, &request, request.header.nlmsg_len, 0) < 0) {
    err = errno;
  } else {
    ssize_t n = recv(fd, answer, sizeof answer, 0);
    const struct nlmsghdr* h = (const struct nlmsghdr*)answer;
    if (n < 0) {
      err = errno;
    } else if (n >= (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) &&
               h->nlmsg_type == NLMSG_ERROR) {
      err = -((const struct nlmsgerr*)NLMSG_DATA(h))->error;
    } else {
      err = EPROTO;
    }
  }
  close(fd);
  return err;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: net_escape_probe ENTRYPOINT TCP_PORT UDP_PORT\n");
    return 2;
  }
  const int tcp = atoi(argv[2]), udp = atoi(argv[3]);

  // Controls: what the grant allows works.
  expect("tcp_granted_control", connect4(SOCK_STREAM, "127.0.0.2", tcp), 0);
  expect("tcp_v4_mapped_granted_control", connect6(SOCK_STREAM, "::ffff:127.0.0.2", tcp), 0);
  int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  expect("udp_granted_control", u < 0 ? errno : sendto4_on(u, "127.0.0.2", udp), 0);

  // TCP to anything else.
  expect("tcp_other_port", connect4(SOCK_STREAM, "127.0.0.2", tcp + 1), EPERM);
  expect("tcp_other_host", connect4(SOCK_STREAM, "127.0.0.3", tcp), EPERM);
  expect("tcp_host_loopback", connect4(SOCK_STREAM, "127.0.0.1", tcp), EPERM);
  expect("tcp_any_address_is_this_host", connect4(SOCK_STREAM, "0.0.0.0", tcp), EPERM);
  expect("tcp_v4_mapped_other_host", connect6(SOCK_STREAM, "::ffff:127.0.0.3", tcp), EPERM);
  expect("tcp_v6_loopback", connect6(SOCK_STREAM, "::1", tcp), EPERM);
  expect("tcp_v6_any_address", connect6(SOCK_STREAM, "::", tcp), EPERM);
  {
    struct sockaddr_in a = v4("127.0.0.3", tcp);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int err =
        fd < 0 ? errno : (sendto(fd, "x", 1, MSG_FASTOPEN, (void*)&a, sizeof a) < 0 ? errno : 0);
    if (fd >= 0) close(fd);
    expect("tcp_fast_open_other_host", err, EPERM);
  }
  {
    // An IPv4 address on an IPv6 TCP socket, padded to an IPv6 address's length, with an
    // allowed v4-mapped address where the connect6 hook reads sin6_addr: the hook judges the
    // padding, so the kernel must refuse the IPv4 family here rather than connect to 127.0.0.3.
    struct sockaddr_in6 padded = v6("::ffff:127.0.0.2", tcp);
    struct sockaddr_in real = v4("127.0.0.3", tcp);
    memcpy(&padded, &real, sizeof real);
    int err = connect_to(AF_INET6, SOCK_STREAM, &padded, sizeof padded);
    char what[64];
    snprintf(what, sizeof what, "got %s, want a refusal", err ? strerror(err) : "success");
    report("tcp_v4_address_padded_on_v6_socket", err != 0, what);
  }

  // UDP to anything else, including after an allowed datagram on the same socket (the policy
  // caches a socket's last allowed destination).
  expect("udp_other_host", sendto4_on(u, "127.0.0.3", udp), EPERM);
  expect("udp_other_port_after_allowed", sendto4_on(u, "127.0.0.2", udp + 1), EPERM);
  expect("udp_granted_again", sendto4_on(u, "127.0.0.2", udp), 0);
  {
    struct sockaddr_in ok = v4("127.0.0.2", udp), denied = v4("127.0.0.3", udp);
    struct iovec iov = {.iov_base = "x", .iov_len = 1};
    struct mmsghdr m[2];
    memset(m, 0, sizeof m);
    m[0].msg_hdr = (struct msghdr){
        .msg_name = &ok, .msg_namelen = sizeof ok, .msg_iov = &iov, .msg_iovlen = 1};
    m[1].msg_hdr = (struct msghdr){
        .msg_name = &denied, .msg_namelen = sizeof denied, .msg_iov = &iov, .msg_iovlen = 1};
    int sent = sendmmsg(u, m, 2, 0);
    char what[64];
    snprintf(what, sizeof what, "sendmmsg sent %d of 2 (want 1: the second denied)", sent);
    report("udp_sendmmsg_second_destination", sent == 1, what);
  }
  expect("udp_connect_other_host", connect4(SOCK_DGRAM, "127.0.0.3", udp), EPERM);
  {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = v4("127.0.0.2", udp);
    int err = fd < 0 ? errno : result(connect(fd, (void*)&a, sizeof a));
    expect("udp_connect_granted_control", err, 0);
    expect("udp_sendto_other_on_connected_socket",
           fd < 0 ? errno : sendto4_on(fd, "127.0.0.3", udp), EPERM);
    if (fd >= 0) close(fd);
  }
  {
    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in6 mapped = v6("::ffff:127.0.0.3", udp);
    struct sockaddr_in plain = v4("127.0.0.3", udp);
    expect("udp_v4_mapped_other_host", fd < 0 ? errno : sendto_on(fd, &mapped, sizeof mapped),
           EPERM);
    expect("udp_v4_address_on_v6_socket", fd < 0 ? errno : sendto_on(fd, &plain, sizeof plain),
           EPERM);
    if (fd >= 0) close(fd);
  }
  if (u >= 0) close(u);

  // Inbound: no port is granted.
  {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = v4("127.0.0.2", tcp + 2);
    expect("bind_ungranted_port", fd < 0 ? errno : result(bind(fd, (void*)&a, sizeof a)), EPERM);
    if (fd >= 0) close(fd);
  }

  // Socket kinds the policy never grants.
  expect_no_socket("raw_ip_socket", AF_INET, SOCK_RAW, IPPROTO_RAW);
  expect_no_socket("raw_ipv6_socket", AF_INET6, SOCK_RAW, IPPROTO_RAW);
  expect_no_socket("icmp_ping_socket", AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  expect_no_socket("icmpv6_ping_socket", AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
  expect_no_socket("packet_socket", AF_PACKET, SOCK_RAW, 0);
  expect_no_socket("sctp_socket", AF_INET, SOCK_STREAM, IPPROTO_SCTP);
  expect_no_socket("sctp_seqpacket_socket", AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
  expect_no_socket("mptcp_socket", AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
  expect_no_socket("udplite_socket", AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
  expect_no_socket("netlink_sock_diag_socket", AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG);
  expect_no_socket("netlink_uevent_socket", AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT);
  // NETLINK_ROUTE stays open to a networked void (getaddrinfo asks it which address families
  // are configured); it reads, it changes nothing.
  expect("netlink_route_change_refused", netlink_route_change(), EPERM);
  expect("io_uring_setup", result(syscall(SYS_io_uring_setup, 1, NULL)), EPERM);

  printf("%s: %d failed\n", argv[1], failures);
  return failures == 0 ? 0 : 1;
}
