#include "spec/load.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/host_path.h"
#include "common/unique_fd.h"
#include "spec/json_reader.h"
#include "spec/parse.h"
#include "spec/validate.h"

namespace shim::spec {
namespace {

namespace fs = std::filesystem;

std::string AbsoluteFolderOf(const std::string& path) {
  std::error_code error;
  fs::path absolute = fs::absolute(fs::path(path), error);
  if (error) return "/";
  return absolute.lexically_normal().parent_path().string();
}

std::string Resolve(const std::string& source_dir, const std::string& path) {
  if (!path.empty() && path.front() == '/') return fs::path(path).lexically_normal().string();
  return (fs::path(source_dir) / path).lexically_normal().string();
}

// Checks that `path` names an existing executable regular file that is an ELF binary (what
// `run` can execute in a void: a script's interpreter would not be there); returns "" or the
// problem, and in `hint` how to fix it.
std::string ExecutableProblem(const std::string& path, std::string& hint) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0)
    return absl::StrCat("cannot use ", path, ": ", strerror(errno));
  if (!S_ISREG(info.st_mode)) return absl::StrCat(path, " is not a regular file");
  if ((info.st_mode & 0111) == 0) return absl::StrCat(path, " is not executable");
  // O_NONBLOCK: a regular file never blocks; belt and braces against a swap to a FIFO.
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) return absl::StrCat("cannot read ", path, ": ", strerror(errno));
  switch (ExecutableFormatOf(fd.get())) {
    case ExecutableFormat::kElf:
      return "";
    case ExecutableFormat::kScript:
      hint = "make its interpreter the binary and pass the script as an arg from a read-only "
             "grant, e.g. \"binary\": \"/usr/bin/python3\", \"args\": [\"BinaryName\", "
             "{\"Literal\": \"/app/main.py\"}] with /app granted";
      return absl::StrCat(path, " is a script (#!), not an ELF binary");
    case ExecutableFormat::kOther:
      break;
  }
  return absl::StrCat(path, " is not an ELF binary");
}

std::string ExistsProblem(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0)
    return absl::StrCat("cannot use ", path, ": ", strerror(errno));
  return "";
}

// Adds `d` unless the same problem is already reported at the same pointer: entrypoints sharing
// the top-level binary share its problems.
void AddOnce(std::vector<Diagnostic>& out, Diagnostic d) {
  const bool reported = std::any_of(out.begin(), out.end(), [&](const Diagnostic& e) {
    return e.pointer == d.pointer && e.message == d.message;
  });
  if (!reported) out.push_back(std::move(d));
}

// A host path the supervisor resolves for a void, as written (made absolute) and canonical.
struct HostPathUse {
  std::string pointer;
  std::string what;  // "binary", "File", "grant"
  std::string written;
  std::string canonical;
  bool writable_grant = false;
};

// Canonicalizes `use.written` as the supervisor will at start-up (root's symlinks only); adds the
// problem to `out` and returns false when it cannot.
bool Canonicalize(HostPathUse& use, std::vector<Diagnostic>& out) {
  absl::StatusOr<std::string> canonical = CanonicalTrustedPath(use.written);
  if (!canonical.ok()) {
    AddOnce(out, {Severity::kError, use.pointer, std::string(canonical.status().message()),
                  "name the real path (realpath) or a symlink owned by root"});
    return false;
  }
  use.canonical = *canonical;
  return true;
}

// No host path the supervisor resolves may pass through a writable grant (any entrypoint's): a
// void that writes there could swap a folder for a symlink to / before the next instance or run
// resolves it, or replace a File or the binary (docs/security.md).
void CheckNothingInsideWritableGrants(const std::vector<HostPathUse>& uses,
                                      std::vector<Diagnostic>& out) {
  for (const HostPathUse& w : uses) {
    if (!w.writable_grant) continue;
    for (const HostPathUse& x : uses) {
      if (&x == &w) continue;
      bool inside = false;
      for (const std::string* a : {&x.written, &x.canonical}) {
        for (const std::string* b : {&w.written, &w.canonical}) {
          if (a->empty() || b->empty() || !IsSameOrBeneath(*a, *b)) continue;
          // A grant of the very same folder resolves through the same parents as the writable
          // one, never through it; a File or the binary there could be rewritten.
          if (x.what == "grant" && *a == *b) continue;
          inside = true;
        }
      }
      if (!inside) continue;
      AddOnce(
          out,
          {Severity::kError, x.pointer,
           absl::StrCat(x.what, " ", x.written, " lies inside the writable grant at ", w.pointer,
                        " (", w.written,
                        "): a void writing there could replace it (a symlink to /, a FIFO, "
                        "another file) before the supervisor resolves it"),
           "keep writable grants apart from every other host path: grant sibling folders, not a "
           "parent and its child"});
    }
  }
}

// A writable grant the void's host uid cannot write (and, for a folder, search) is almost always a
// mistake the app would report only as its own vague error. A warning, not an error: the grant
// may exist for subfolders that are writable. POSIX mode bits only (an ACL may allow more).
void CheckWritableByVoid(const std::string& path, const std::string& pointer,
                         const LoadOptions& options, std::vector<Diagnostic>& out) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return;  // reported elsewhere
  const mode_t need = S_ISDIR(st.st_mode) ? 03 : 02;  // write (+ search)
  const int shift = st.st_uid == options.void_host_uid   ? 6
                    : st.st_gid == options.void_host_gid ? 3
                                                         : 0;
  if (((st.st_mode >> shift) & need) == need) return;
  auto name_of_uid = [](uid_t uid) {
    const passwd* pw = getpwuid(uid);
    return pw != nullptr ? absl::StrCat(pw->pw_name, " (", uid, ")") : absl::StrCat(uid);
  };
  auto name_of_gid = [](gid_t gid) {
    const group* gr = getgrgid(gid);
    return gr != nullptr ? absl::StrCat(gr->gr_name, " (", gid, ")") : absl::StrCat(gid);
  };
  char mode[8];
  snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  out.push_back(
      {Severity::kWarning, pointer,
       absl::StrCat("writable grant ", path, " is not writable by the void: it runs as host uid ",
                    options.void_host_uid, " and gid ", options.void_host_gid, ", and ", path,
                    " is owned by ", name_of_uid(st.st_uid), ", group ", name_of_gid(st.st_gid),
                    ", mode ", mode),
       absl::StrCat("chown ", options.void_host_uid, ":", options.void_host_gid, " ", path,
                    " (or grant it \"read_only\": true if the void only reads it)")});
}

// Chooses and checks every entrypoint's binary, and resolves relative host paths.
void ResolveHostPaths(Spec& spec, const LoadOptions& options, std::vector<Diagnostic>& out) {
  std::vector<HostPathUse> uses;
  for (Entrypoint& entrypoint : spec.entrypoints) {
    std::string written;
    std::string pointer;
    std::string origin;
    if (entrypoint.binary) {
      written = *entrypoint.binary;
      pointer = entrypoint.pointer + "/binary";
    } else if (options.binary_override) {
      written = *options.binary_override;
      origin = "--binary: ";
    } else if (spec.binary) {
      written = *spec.binary;
      pointer = "/binary";
    } else {
      out.push_back({Severity::kError, entrypoint.pointer, "no binary to run",
                     "set \"binary\" at the top level or in the entrypoint, or pass --binary"});
      continue;
    }
    // --binary is relative to the working directory, spec paths to the spec's folder.
    entrypoint.binary_path = origin.empty()
                                 ? Resolve(spec.source_dir, written)
                                 : fs::absolute(fs::path(written)).lexically_normal().string();
    if (options.check_host) {
      std::string hint;
      std::string problem = ExecutableProblem(entrypoint.binary_path, hint);
      const bool relative = !written.empty() && written.front() != '/';
      if (hint.empty() && relative) {
        hint = origin.empty() ? "relative binaries are resolved against the spec file's folder"
                              : "--binary is resolved against the working directory";
      }
      if (!problem.empty()) AddOnce(out, {Severity::kError, pointer, origin + problem, hint});
      HostPathUse use{pointer.empty() ? entrypoint.pointer : pointer, "binary",
                      entrypoint.binary_path, ""};
      if (problem.empty() && Canonicalize(use, out)) uses.push_back(std::move(use));
    }
    for (Environment& item : entrypoint.environment) {
      if (auto* grant = std::get_if<EnvFilesystem>(&item.kind)) {
        grant->host_path = Resolve(spec.source_dir, grant->host_path);
        if (options.check_host) {
          const std::string pointer = item.pointer + "/Filesystem/host_path";
          if (std::string problem = ExistsProblem(grant->host_path); !problem.empty()) {
            out.push_back({Severity::kError, pointer, problem,
                           "relative host paths are resolved against the spec file's folder"});
          } else if (HostPathUse use{pointer, "grant", grant->host_path, "", !grant->read_only};
                     Canonicalize(use, out)) {
            if (!grant->read_only) CheckWritableByVoid(use.canonical, pointer, options, out);
            uses.push_back(std::move(use));
          }
        }
      }
      // The binary is visible in the void at its own path; nothing else may be mounted there.
      const std::string* in_void = nullptr;
      std::string at;
      if (const auto* grant = std::get_if<EnvFilesystem>(&item.kind)) {
        in_void = &grant->environment_path;
        at = item.pointer + "/Filesystem/environment_path";
      } else if (const auto* tmpfs = std::get_if<EnvTmpfs>(&item.kind)) {
        in_void = &tmpfs->environment_path;
        at = item.pointer + "/Tmpfs/environment_path";
      }
      if (in_void != nullptr && *in_void == entrypoint.binary_path) {
        out.push_back({Severity::kError, at,
                       absl::StrCat("environment_path ", *in_void,
                                    " is where the void shows the binary itself"),
                       "mount the grant somewhere else"});
      }
    }
    if (auto* file = std::get_if<StdioFile>(&entrypoint.stdio[0].kind)) {
      file->path = Resolve(spec.source_dir, file->path);
      if (options.check_host) {
        const std::string pointer = entrypoint.stdio[0].pointer + "/File";
        if (std::string problem = ExistsProblem(file->path); !problem.empty()) {
          out.push_back({Severity::kError, pointer, problem, ""});
        } else if (HostPathUse use{pointer, "File", file->path, ""}; Canonicalize(use, out)) {
          uses.push_back(std::move(use));
        }
      }
    }
    if (auto* unix_listener = std::get_if<TriggerUnixListener>(&entrypoint.trigger.kind)) {
      unix_listener->path = Resolve(spec.source_dir, unix_listener->path);
      if (options.check_host) {
        // The socket itself is made at start-up; its folder must exist and be root's to trust.
        const std::string pointer = entrypoint.trigger.pointer + "/UnixListener/path";
        const fs::path socket(unix_listener->path);
        HostPathUse folder{pointer, "UnixListener", socket.parent_path().string(), ""};
        if (std::string problem = ExistsProblem(folder.written); !problem.empty()) {
          out.push_back({Severity::kError, pointer, problem, "create the socket's folder first"});
        } else if (Canonicalize(folder, out)) {
          // The socket does not exist yet: canonical is its folder's, plus its name.
          uses.push_back({pointer, "UnixListener", unix_listener->path,
                          (fs::path(folder.canonical) / socket.filename()).string()});
        }
      }
    }
    for (Arg& arg : entrypoint.args) {
      if (auto* file = std::get_if<ArgFile>(&arg.kind)) {
        file->path = Resolve(spec.source_dir, file->path);
        if (options.check_host) {
          const std::string pointer = arg.pointer + "/File";
          if (std::string problem = ExistsProblem(file->path); !problem.empty()) {
            out.push_back({Severity::kError, pointer, problem, ""});
          } else if (HostPathUse use{pointer, "File", file->path, ""}; Canonicalize(use, out)) {
            uses.push_back(std::move(use));
          }
        }
      }
    }
  }
  CheckNothingInsideWritableGrants(uses, out);
}

}  // namespace

// Each entrypoint's whole environment (Entrypoint::env): the defaults, the spec's "env", the
// entrypoint's own, then the inherited names the supervisor has; a later one of a name wins.
void MergeEnvironment(Spec& spec) {
  for (Entrypoint& entrypoint : spec.entrypoints) {
    std::vector<std::string> merged;
    auto set = [&merged](std::string entry) {
      const absl::string_view name = absl::string_view(entry).substr(0, entry.find('=') + 1);
      for (std::string& existing : merged) {
        if (absl::StartsWith(existing, name)) {
          existing = std::move(entry);
          return;
        }
      }
      merged.push_back(std::move(entry));
    };
    for (const char* entry : kDefaultEnv) set(entry);
    for (const std::string& entry : spec.env) set(entry);
    for (const std::string& entry : entrypoint.env) set(entry);
    for (const auto* names : {&spec.env_inherit, &entrypoint.env_inherit}) {
      for (const std::string& name : *names) {
        if (const char* value = getenv(name.c_str())) set(absl::StrCat(name, "=", value));
      }
    }
    entrypoint.env = std::move(merged);
  }
}

LoadResult LoadSpecText(absl::string_view text, const std::string& source_path,
                        const LoadOptions& options) {
  LoadResult result;
  std::optional<nlohmann::ordered_json> document = ReadStrictJson(text, result.diagnostics);
  if (!document) return result;
  Spec spec = ParseSpec(*document, result.diagnostics);
  spec.source_path = source_path;
  spec.source_dir = AbsoluteFolderOf(source_path);
  ValidateSpec(spec, result.diagnostics);
  MergeEnvironment(spec);
  ResolveHostPaths(spec, options, result.diagnostics);
  if (!HasErrors(result.diagnostics)) result.spec = std::move(spec);
  return result;
}

LoadResult LoadSpecFile(const std::string& path, const LoadOptions& options) {
  auto failure = [&](std::string message) {
    LoadResult result;
    result.diagnostics.push_back({Severity::kError, "", std::move(message), ""});
    return result;
  };
  // O_NONBLOCK: a FIFO given as the spec must not hang the supervisor.
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) return failure(absl::StrCat("cannot open: ", strerror(errno)));
  struct stat info {};
  if (fstat(fd.get(), &info) != 0) return failure(absl::StrCat("cannot stat: ", strerror(errno)));
  if (S_ISDIR(info.st_mode)) return failure("is a directory, not a spec file");
  if (!S_ISREG(info.st_mode)) return failure("is not a regular file");
  if (static_cast<uint64_t>(info.st_size) > kMaxSpecBytes) {
    return failure(absl::StrCat("file is larger than ", kMaxSpecBytes,
                                " bytes; a spec is a small JSON document"));
  }
  // Read at most one byte more than the limit, in case the file grew since fstat. The buffer
  // starts at the size fstat saw (zero-filling a whole MiB up front was a tenth of a cold run:
  // every page of it faulted in) and grows only for a file that grew.
  std::string text(static_cast<size_t>(info.st_size) + 1, '\0');
  size_t length = 0;
  while (length < kMaxSpecBytes + 1) {
    if (length == text.size()) text.resize(std::min(2 * text.size(), kMaxSpecBytes + 1));
    ssize_t n = read(fd.get(), text.data() + length, text.size() - length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failure(absl::StrCat("cannot read: ", strerror(errno)));
    if (n == 0) break;
    length += static_cast<size_t>(n);
  }
  text.resize(length);
  return LoadSpecText(text, path, options);
}

}  // namespace shim::spec
