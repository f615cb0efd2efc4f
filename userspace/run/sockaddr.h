// A parsed spec address as the sockaddr the kernel wants.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "spec/model.h"

namespace shim::run {

// Fills `storage` with `address` (IPv4 or IPv6, port in network order); returns its length.
inline socklen_t ToSockaddr(const spec::SocketAddress& address, sockaddr_storage& storage) {
  storage = {};
  if (address.ipv6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(address.port);
    std::memcpy(&in6->sin6_addr, address.address.data(), 16);
    return sizeof(*in6);
  }
  auto* in4 = reinterpret_cast<sockaddr_in*>(&storage);
  in4->sin_family = AF_INET;
  in4->sin_port = htons(address.port);
  std::memcpy(&in4->sin_addr, address.address.data(), 4);
  return sizeof(*in4);
}

}  // namespace shim::run
