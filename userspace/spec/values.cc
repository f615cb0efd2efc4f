#include "spec/values.h"

#include <arpa/inet.h>

#include <cctype>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace shim::spec {
namespace {

absl::Status Invalid(absl::string_view what, absl::string_view text, absl::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid ", what, " \"", text, "\": expected ", expected));
}

// Splits "123abc" into the leading decimal digits and the rest.
bool SplitNumber(absl::string_view text, uint64_t& number, absl::string_view& suffix) {
  size_t digits = 0;
  while (digits < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[digits]))) {
    ++digits;
  }
  if (digits == 0 || digits > 19) return false;
  if (!absl::SimpleAtoi(text.substr(0, digits), &number)) return false;
  suffix = text.substr(digits);
  return true;
}

}  // namespace

absl::StatusOr<uint64_t> ParseSize(absl::string_view text) {
  constexpr absl::string_view kExpected = "a size such as \"64M\", \"1G\" or a number of bytes";
  uint64_t number = 0;
  absl::string_view suffix;
  if (!SplitNumber(text, number, suffix)) return Invalid("size", text, kExpected);
  std::string unit = absl::AsciiStrToUpper(suffix);
  int shift = 0;
  if (unit.empty() || unit == "B") {
    shift = 0;
  } else if (unit == "K" || unit == "KB" || unit == "KIB") {
    shift = 10;
  } else if (unit == "M" || unit == "MB" || unit == "MIB") {
    shift = 20;
  } else if (unit == "G" || unit == "GB" || unit == "GIB") {
    shift = 30;
  } else if (unit == "T" || unit == "TB" || unit == "TIB") {
    shift = 40;
  } else {
    return Invalid("size", text, kExpected);
  }
  if (number == 0) return Invalid("size", text, "a size greater than zero");
  if (number > (std::numeric_limits<uint64_t>::max() >> shift)) {
    return Invalid("size", text, "a size that fits in 64 bits");
  }
  return number << shift;
}

absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text) {
  constexpr absl::string_view kExpected = "a duration such as \"30s\", \"500ms\", \"2m\" or \"1h\"";
  if (text.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(text[0]))) {
    return Invalid("duration", text, kExpected);
  }
  absl::Duration duration;
  if (!absl::ParseDuration(text, &duration)) return Invalid("duration", text, kExpected);
  if (duration <= absl::ZeroDuration()) return Invalid("duration", text, "a positive duration");
  if (duration > absl::Hours(24 * 30)) return Invalid("duration", text, "at most 30 days (720h)");
  return duration;
}

absl::StatusOr<uint32_t> ParseCpuPercent(absl::string_view text) {
  constexpr absl::string_view kExpected = "a CPU share such as \"50%\" (of one CPU) or \"200%\"";
  absl::string_view number_text = text;
  if (!absl::ConsumeSuffix(&number_text, "%")) return Invalid("cpu", text, kExpected);
  uint64_t number = 0;
  absl::string_view rest;
  if (!SplitNumber(number_text, number, rest) || !rest.empty()) {
    return Invalid("cpu", text, kExpected);
  }
  if (number == 0 || number > 6400) return Invalid("cpu", text, "between \"1%\" and \"6400%\"");
  return static_cast<uint32_t>(number);
}

absl::StatusOr<PortRange> ParsePortRange(absl::string_view text) {
  constexpr absl::string_view kExpected = "a port (1-65535) or a range such as \"8000-8099\"";
  absl::string_view first_text = text;
  absl::string_view last_text = text;
  if (size_t dash = text.find('-'); dash != absl::string_view::npos) {
    first_text = text.substr(0, dash);
    last_text = text.substr(dash + 1);
  }
  uint64_t first = 0;
  uint64_t last = 0;
  absl::string_view rest;
  if (!SplitNumber(first_text, first, rest) || !rest.empty() ||
      !SplitNumber(last_text, last, rest) || !rest.empty()) {
    return Invalid("port range", text, kExpected);
  }
  if (first < 1 || last > 65535 || first > last) return Invalid("port range", text, kExpected);
  return PortRange{static_cast<uint16_t>(first), static_cast<uint16_t>(last)};
}

absl::StatusOr<SocketAddress> ParseSocketAddress(absl::string_view text) {
  constexpr absl::string_view kExpected =
      "an address and port such as \"127.0.0.1:8080\" or \"[::1]:8080\"";
  SocketAddress result;
  result.text = std::string(text);
  std::string host;
  absl::string_view port_text;
  if (absl::StartsWith(text, "[")) {
    size_t close = text.find("]:");
    if (close == absl::string_view::npos) return Invalid("address", text, kExpected);
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
    result.ipv6 = true;
  } else {
    size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos) return Invalid("address", text, kExpected);
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (inet_pton(result.ipv6 ? AF_INET6 : AF_INET, host.c_str(), result.address.data()) != 1) {
    return Invalid("address", text, kExpected);
  }
  uint64_t port = 0;
  absl::string_view rest;
  if (!SplitNumber(port_text, port, rest) || !rest.empty() || port < 1 || port > 65535) {
    return Invalid("address", text, "a port between 1 and 65535");
  }
  result.port = static_cast<uint16_t>(port);
  return result;
}

absl::StatusOr<Cidr> ParseCidr(absl::string_view text) {
  constexpr absl::string_view kExpected = "a network such as \"10.0.0.0/8\" or \"fd00::/8\"";
  Cidr cidr;
  cidr.text = std::string(text);
  absl::string_view address_text = text;
  absl::string_view prefix_text;
  bool has_prefix = false;
  if (size_t slash = text.find('/'); slash != absl::string_view::npos) {
    address_text = text.substr(0, slash);
    prefix_text = text.substr(slash + 1);
    has_prefix = true;
  }
  cidr.ipv6 = address_text.find(':') != absl::string_view::npos;
  std::string address(address_text);
  if (inet_pton(cidr.ipv6 ? AF_INET6 : AF_INET, address.c_str(), cidr.address.data()) != 1) {
    return Invalid("CIDR", text, kExpected);
  }
  const uint64_t max_prefix = cidr.ipv6 ? 128 : 32;
  uint64_t prefix = max_prefix;
  if (has_prefix) {
    absl::string_view rest;
    if (!SplitNumber(prefix_text, prefix, rest) || !rest.empty() || prefix > max_prefix) {
      return Invalid("CIDR", text, absl::StrCat("a prefix length between 0 and ", max_prefix));
    }
  }
  cidr.prefix_len = static_cast<uint8_t>(prefix);
  for (size_t bit = prefix; bit < max_prefix; ++bit) {
    if (cidr.address[bit / 8] & (0x80u >> (bit % 8))) {
      return Invalid("CIDR", text, "a network address with the host bits zero");
    }
  }
  return cidr;
}

bool IsValidEntrypointName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    const bool word = absl::ascii_isalnum(c) || c == '_';
    if (!word && (i == 0 || (c != '.' && c != '-'))) return false;
  }
  return true;
}

}  // namespace shim::spec
