// A long-running program started by a test (a `shim-bpf run` serving the echo example, say): its
// stdout and stderr go to files the test can read while it runs; it is stopped by pid, never by
// name, and SIGKILLed with its process group when the test ends.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace shim::testing {

class BackgroundProcess {
 public:
  explicit BackgroundProcess(const std::vector<std::string>& argv);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  std::string Out() const;  // everything written to stdout so far
  std::string Err() const;
  bool Signal(int signal) const;
  // Waits for the exit; returns the exit code, 128+signal when killed, or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  bool running() const { return pid_ > 0 && !reaped_; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string dir_;
};

// Polls `condition` every 20 ms until it holds or `timeout` passes; returns its last value.
bool WaitUntil(const std::function<bool()>& condition,
               std::chrono::milliseconds timeout = std::chrono::seconds(10));

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();

// Reads a whole file ("" if missing).
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace shim::testing
