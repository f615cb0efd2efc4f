// Every --events constructor's output against docs/events.schema.json, as EventLog writes it
// (with "ts"), and the schema refusing what the events must never be.
#include "run/events.h"

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "support/json_schema.h"

namespace shim::run::events {
namespace {

nlohmann::json Schema() {
  std::ifstream in(std::string(SHIM_SOURCE_DIR) + "/docs/events.schema.json");
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

// The line EventLog would write: "ts" first, then the event (dumped with invalid UTF-8 replaced).
nlohmann::json Written(const Event& event) {
  nlohmann::ordered_json line;
  line["ts"] = 1796700000.123456;
  for (const auto& [key, value] : event.items()) line[key] = value;
  return nlohmann::json::parse(
      line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

TEST(Events, EveryConstructorWritesWhatTheSchemaDescribes) {
  const ::shim::testing::JsonSchema schema(Schema());
  ExitFacts exited{"web", "web-3", 4242, 0, std::nullopt, 1.5, 1 << 20, false, false};
  ExitFacts killed{"web", "web-4", 4243, std::nullopt, 9, 30000.0, std::nullopt, true, true};
  net::Denial denial;
  denial.verdict = net::Verdict::kDenied;
  denial.entrypoint = "fetch";
  denial.pid = 12;
  denial.comm = "curl\xff";  // a void's bytes: need not be UTF-8
  denial.direction = net::Direction::kOutbound;
  denial.hook = "connect4";
  denial.family = 2;
  denial.address = "10.0.0.9";
  denial.port = 5432;
  denial.protocol = 6;
  net::Denial dropped;
  dropped.verdict = net::Verdict::kDropped;
  dropped.dropped = 17;
  trace::ProcessEvent exec;
  exec.kind = trace::EventKind::kExec;
  exec.pid = exec.tgid = 7;
  exec.parent_tgid = 1;
  exec.comm = "busybox";
  exec.filename = "/bin/busybox";
  exec.argv = {"busybox", "httpd", "-i"};
  exec.entrypoint = "web";
  trace::ProcessEvent lost;
  lost.kind = trace::EventKind::kLost;
  lost.lost = 3;
  for (const Event& event :
       {RunStart("123-4", "spec.json", 99), RunEnd(0), Spawn("web", "web-0", 100, "/sys/x"),
        SpawnFailed("web", "web-1", "void step 'clone3' failed"),
        TriggerRefused("web", "connection from 127.0.0.1 closed"), Exit(exited), Exit(killed),
        Denial(denial), Denial(dropped), Process(exec), Process(lost)}) {
    const nlohmann::json line = Written(event);
    EXPECT_EQ(schema.Errors(line), "") << line.dump();
  }
  EXPECT_EQ(RunStart("1-2", "s.json", 1)["schema_version"], kSchemaVersion);
  EXPECT_EQ(Process(exec)["event"], "process_exec");
  EXPECT_FALSE(Process(exec).contains("ts_ns")) << "the kernel's clock is mono_ns";
}

TEST(Events, TheSchemaRefusesWhatAnEventMustNeverBe) {
  const ::shim::testing::JsonSchema schema(Schema());
  nlohmann::json both = Written(Exit({"web", "web-0", 1, 0, std::nullopt, 1, {}, false, false}));
  both["signal"] = 9;  // an exit is a code or a signal, never both
  EXPECT_NE(schema.Errors(both), "");
  nlohmann::json unknown = Written(RunEnd(0));
  unknown["surprise"] = 1;
  EXPECT_NE(schema.Errors(unknown), "");
  EXPECT_NE(schema.Errors(nlohmann::json{{"event", "spawn"}, {"ts", 1.0}}), "");  // fields missing
  EXPECT_NE(schema.Errors(nlohmann::json{{"event", "nonsense"}, {"ts", 1.0}}), "");
}

}  // namespace
}  // namespace shim::run::events
