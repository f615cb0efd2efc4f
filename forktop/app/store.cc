#include "app/store.h"

#include <sys/stat.h>

#include <filesystem>
#include <system_error>

#include "common/status_macros.h"

namespace shim::forktop {

absl::Status Store::Pump() {
  if (source_ == nullptr) return absl::OkStatus();
  RETURN_IF_ERROR(source_->Consume([this](const trace::ProcessEvent& e) { Apply(e); }));
  Advance();
  return absl::OkStatus();
}

void Store::Apply(const trace::ProcessEvent& event) {
  if (recorder_ != nullptr) recorder_->Write(event);
  const trace::ProcessEvent* e = &event;
  trace::ProcessEvent named;
  if (event.entrypoint.empty() && event.cgroup_id != 0 && cgroup_path) {
    // A process of a shim-bpf run: name its entrypoint from the cgroup path.
    if (std::string ep = EntrypointFromCgroupPath(cgroup_path(event.cgroup_id)); !ep.empty()) {
      named = event;
      named.entrypoint = std::move(ep);
      e = &named;
    }
  }
  if (paused_) {
    held_.push_back(*e);
    return;
  }
  tree_.Apply(*e);
}

void Store::Advance() {
  if (paused_ || source_ == nullptr) return;
  tree_.Advance(source_->NowNs());
}

void Store::SetPaused(bool paused) {
  if (paused_ == paused) return;
  paused_ = paused;
  if (!paused_) {
    for (const auto& e : held_) tree_.Apply(e);
    held_.clear();
    Advance();
  }
}

std::string CgroupNames::PathOf(uint64_t id) {
  if (id == 0 || mount_.empty()) return "";
  auto it = paths_.find(id);
  if (it != paths_.end()) return it->second;
  const uint64_t now = MonotonicNowNs();
  if (now - last_scan_ns_ < 2'000'000'000 && last_scan_ns_ != 0) return "";
  last_scan_ns_ = now;
  Rescan();
  it = paths_.find(id);
  return it == paths_.end() ? "" : it->second;
}

void CgroupNames::Rescan() {
  namespace fs = std::filesystem;
  paths_.clear();
  std::error_code ec;
  struct stat st;
  if (::stat(mount_.c_str(), &st) == 0) paths_[st.st_ino] = std::string(1, '/');
  for (auto it = fs::recursive_directory_iterator(
           mount_, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    if (::stat(it->path().c_str(), &st) != 0) continue;
    std::string path = fs::relative(it->path(), mount_, ec).string();
    path.insert(path.begin(), '/');
    paths_[st.st_ino] = std::move(path);
  }
}

}  // namespace shim::forktop
