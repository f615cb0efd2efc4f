#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>

#include "net/firewall.h"

namespace shim::net {
namespace {

TEST(DenialToJsonTest, DenialCarriesEveryField) {
  Denial d;
  d.verdict = Verdict::kDenied;
  d.entrypoint = "db_client";
  d.cgroup_id = 77;
  d.pid = 1234;
  d.comm = "app";
  d.direction = Direction::kOutbound;
  d.hook = "connect4";
  d.family = AF_INET;
  d.address = "10.0.0.9";
  d.port = 5432;
  d.protocol = IPPROTO_TCP;
  d.sock_type = SOCK_STREAM;
  d.timestamp_ns = 99;
  const std::string line = DenialToJson(d);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["event"], "denial");
  EXPECT_EQ(j["verdict"], "denied");
  EXPECT_EQ(j["entrypoint"], "db_client");
  EXPECT_EQ(j["pid"], 1234);
  EXPECT_EQ(j["comm"], "app");
  EXPECT_EQ(j["direction"], "outbound");
  EXPECT_EQ(j["hook"], "connect4");
  EXPECT_EQ(j["family"], "ipv4");
  EXPECT_EQ(j["address"], "10.0.0.9");
  EXPECT_EQ(j["port"], 5432);
  EXPECT_EQ(j["protocol"], "tcp");
  EXPECT_EQ(j["cgroup_id"], 77);
}

TEST(DenialToJsonTest, DroppedRecordCarriesTheCount) {
  Denial d;
  d.verdict = Verdict::kDropped;
  d.dropped = 17;
  auto j = nlohmann::json::parse(DenialToJson(d));
  EXPECT_EQ(j["verdict"], "dropped");
  EXPECT_EQ(j["dropped"], 17);
  EXPECT_FALSE(j.contains("entrypoint"));
}

TEST(DenialToJsonTest, InvalidUtf8InCommDoesNotThrow) {
  Denial d;
  d.comm = std::string("\xff\xfe", 2);
  d.family = AF_INET6;
  d.protocol = 200;
  std::string line;
  EXPECT_NO_THROW(line = DenialToJson(d));
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["family"], "ipv6");
  EXPECT_EQ(j["protocol"], "200");
}

}  // namespace
}  // namespace shim::net
