// Parsers for the scalar values a spec carries as strings: sizes, durations, CPU shares,
// addresses, CIDRs and port ranges. Pure functions; errors say what was expected.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "spec/model.h"

namespace shim::spec {

// "64M", "64MiB", "1G", "512k", "1048576": binary units (K = 1024). Rejects 0 and overflow.
absl::StatusOr<uint64_t> ParseSize(absl::string_view text);

// "30s", "500ms", "2m", "1h", "1m30s". Rejects 0, negatives and more than 30 days.
absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text);

// "50%" (half of one CPU) up to "6400%". Rejects 0.
absl::StatusOr<uint32_t> ParseCpuPercent(absl::string_view text);

// "127.0.0.1:8080", "[::1]:8080". Port 1-65535.
absl::StatusOr<SocketAddress> ParseSocketAddress(absl::string_view text);

// "10.0.0.0/8", "fd00::/8", "192.0.2.1" (a /32). Host bits must be zero ("10.0.0.1/8" is an
// error: it usually means a typo, and silently masking it hides one).
absl::StatusOr<Cidr> ParseCidr(absl::string_view text);

// "8000-8099" or "443".
absl::StatusOr<PortRange> ParsePortRange(absl::string_view text);

// A name usable as one argv word and as a cgroup directory name: [A-Za-z0-9_][A-Za-z0-9_.-]*,
// at most 64 bytes.
bool IsValidEntrypointName(absl::string_view name);

// A pipe or file socket name: the same rules as entrypoint names.
inline bool IsValidChannelName(absl::string_view name) { return IsValidEntrypointName(name); }

}  // namespace shim::spec
