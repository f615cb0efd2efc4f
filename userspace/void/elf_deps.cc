#include "void/elf_deps.h"

#include <elf.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/errno_status.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/unique_fd.h"

namespace shim::sandbox {
namespace {

absl::Status ReadExact(int fd, void* out, size_t size, uint64_t offset, const std::string& path,
                       absl::string_view what) {
  if (offset > static_cast<uint64_t>(LLONG_MAX)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": corrupt ELF file (", what, ")"));
  }
  ssize_t n = pread(fd, out, size, static_cast<off_t>(offset));
  if (n < 0) return ErrnoStatus(absl::StrCat("read ", path));
  if (static_cast<size_t>(n) != size) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": truncated or corrupt ELF file (", what, " beyond end of file)"));
  }
  return absl::OkStatus();
}

std::vector<std::string> SplitPathList(const std::string& list) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(list, ':', absl::SkipEmpty())) {
    out.emplace_back(part);
  }
  return out;
}

std::string DirName(const std::string& path) {
  std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "/" : parent;
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string Canonical(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) return path;
  return buf;
}

std::string LexicallyNormal(const std::string& path) {
  std::string out = std::filesystem::path(path).lexically_normal().string();
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

void ParseLdSoConf(const std::string& path, int depth, std::vector<std::string>& dirs) {
  if (depth > 8) return;  // include cycles
  absl::StatusOr<std::string> text = ReadFileToString(path, 1 << 20);
  if (!text.ok()) return;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    line = line.substr(0, line.find('#'));
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    if (absl::ConsumePrefix(&line, "include")) {
      std::string pattern(absl::StripAsciiWhitespace(line));
      if (!pattern.empty() && pattern[0] != '/')
        pattern = absl::StrCat(DirName(path), "/", pattern);
      glob_t g{};
      if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; ++i) ParseLdSoConf(g.gl_pathv[i], depth + 1, dirs);
      }
      globfree(&g);
      continue;
    }
    if (absl::StartsWith(line, "hwcap")) continue;
    dirs.push_back(LexicallyNormal(std::string(line)));
  }
}

// An object to scan, with what its $ORIGIN means on the host and in the void.
struct Pending {
  std::string host_path;
  std::string host_origin;
  std::string void_origin;
  std::vector<std::string> inherited_rpath;  // DT_RPATH of the loaders (host, void) pairs
  std::vector<std::string> inherited_void_rpath;
};

// Expands $ORIGIN / ${ORIGIN}. Other dynamic string tokens ($LIB, $PLATFORM) are not supported:
// such a directory is skipped (returns "").
std::string ExpandOrigin(const std::string& dir, const std::string& origin) {
  std::string out = absl::StrReplaceAll(dir, {{"${ORIGIN}", origin}, {"$ORIGIN", origin}});
  if (out.find('$') != std::string::npos) return "";
  return LexicallyNormal(out);
}

}  // namespace

absl::StatusOr<ElfInfo> ReadElfInfo(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoStatus(absl::StrCat("open ", path));
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return ErrnoStatus(absl::StrCat("stat ", path));
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  Elf64_Ehdr eh;
  switch (ExecutableFormatOf(fd.get())) {
    case ExecutableFormat::kElf:
      break;
    case ExecutableFormat::kScript:
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": is a script (#!), not an ELF binary; scripts are not supported as entrypoints"));
    case ExecutableFormat::kOther:
      return absl::InvalidArgumentError(absl::StrCat(path, ": not an ELF file"));
  }
  RETURN_IF_ERROR(ReadExact(fd.get(), &eh, sizeof eh, 0, path, "ELF header"));
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": only 64-bit little-endian ELF files are supported"));
  }
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 4096) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": corrupt ELF file (program headers)"));
  }
  std::vector<Elf64_Phdr> ph(eh.e_phnum);
  RETURN_IF_ERROR(ReadExact(fd.get(), ph.data(), ph.size() * sizeof(Elf64_Phdr), eh.e_phoff, path,
                            "program headers"));
  ElfInfo info;
  const Elf64_Phdr* dynamic = nullptr;
  for (const Elf64_Phdr& p : ph) {
    if (p.p_type == PT_INTERP) {
      if (p.p_filesz == 0 || p.p_filesz > PATH_MAX) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": corrupt ELF file (PT_INTERP)"));
      }
      std::string interp(p.p_filesz, '\0');
      RETURN_IF_ERROR(
          ReadExact(fd.get(), interp.data(), interp.size(), p.p_offset, path, "PT_INTERP"));
      interp.resize(strnlen(interp.c_str(), interp.size()));
      info.interpreter = interp;
    } else if (p.p_type == PT_DYNAMIC) {
      dynamic = &p;
    }
  }
  if (dynamic == nullptr) return info;
  info.dynamic = true;
  if (dynamic->p_filesz > (64u << 20)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": corrupt ELF file (PT_DYNAMIC)"));
  }
  std::vector<Elf64_Dyn> dyn(dynamic->p_filesz / sizeof(Elf64_Dyn));
  RETURN_IF_ERROR(ReadExact(fd.get(), dyn.data(), dyn.size() * sizeof(Elf64_Dyn), dynamic->p_offset,
                            path, "PT_DYNAMIC"));
  uint64_t strtab_vaddr = 0, strsz = 0;
  std::vector<uint64_t> needed, rpath, runpath;
  for (const Elf64_Dyn& d : dyn) {
    if (d.d_tag == DT_NULL) break;
    switch (d.d_tag) {
      case DT_STRTAB:
        strtab_vaddr = d.d_un.d_ptr;
        break;
      case DT_STRSZ:
        strsz = d.d_un.d_val;
        break;
      case DT_NEEDED:
        needed.push_back(d.d_un.d_val);
        break;
      case DT_RPATH:
        rpath.push_back(d.d_un.d_val);
        break;
      case DT_RUNPATH:
        runpath.push_back(d.d_un.d_val);
        break;
      default:
        break;
    }
  }
  if (needed.empty() && rpath.empty() && runpath.empty()) return info;
  if (strtab_vaddr == 0 || strsz == 0 || strsz > (64u << 20)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": corrupt ELF file (no DT_STRTAB)"));
  }
  // DT_STRTAB is a virtual address: find the PT_LOAD segment that maps it.
  std::optional<uint64_t> strtab_offset;
  for (const Elf64_Phdr& p : ph) {
    if (p.p_type == PT_LOAD && strtab_vaddr >= p.p_vaddr && strtab_vaddr - p.p_vaddr < p.p_filesz) {
      strtab_offset = p.p_offset + (strtab_vaddr - p.p_vaddr);
      break;
    }
  }
  if (!strtab_offset) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": corrupt ELF file (DT_STRTAB unmapped)"));
  }
  std::string strtab(strsz, '\0');
  RETURN_IF_ERROR(
      ReadExact(fd.get(), strtab.data(), strtab.size(), *strtab_offset, path, "DT_STRTAB"));
  auto str = [&](uint64_t off) -> absl::StatusOr<std::string> {
    if (off >= strtab.size()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": corrupt ELF file (string offset)"));
    }
    return std::string(strtab.c_str() + off, strnlen(strtab.c_str() + off, strtab.size() - off));
  };
  for (uint64_t off : needed) {
    ASSIGN_OR_RETURN(std::string name, str(off));
    info.needed.push_back(name);
  }
  for (uint64_t off : rpath) {
    ASSIGN_OR_RETURN(std::string s, str(off));
    for (std::string& dir : SplitPathList(s)) info.rpath.push_back(dir);
  }
  for (uint64_t off : runpath) {
    ASSIGN_OR_RETURN(std::string s, str(off));
    for (std::string& dir : SplitPathList(s)) info.runpath.push_back(dir);
  }
  return info;
}

LibrarySearchPath HostLibrarySearchPath() {
  LibrarySearchPath search;
  ParseLdSoConf("/etc/ld.so.conf", 0, search.conf_dirs);
#if defined(__x86_64__)
  const char* triplet = "x86_64-linux-gnu";
  const char* lib64 = "lib64";
#elif defined(__aarch64__)
  const char* triplet = "aarch64-linux-gnu";
  const char* lib64 = "lib64";
#else
  const char* triplet = "";
  const char* lib64 = "lib";
#endif
  if (*triplet != '\0') {
    search.default_dirs.push_back(absl::StrCat("/lib/", triplet));
    search.default_dirs.push_back(absl::StrCat("/usr/lib/", triplet));
  }
  search.default_dirs.push_back(absl::StrCat("/", lib64));
  search.default_dirs.push_back(absl::StrCat("/usr/", lib64));
  search.default_dirs.push_back("/lib");
  search.default_dirs.push_back("/usr/lib");
  return search;
}

absl::StatusOr<std::vector<DependencyBind>> ResolveElfDependencies(
    const std::string& binary, const std::string& void_binary_path,
    const LibrarySearchPath& search) {
  ASSIGN_OR_RETURN(ElfInfo main_info, ReadElfInfo(binary));
  std::vector<DependencyBind> binds;
  if (!main_info.dynamic && main_info.interpreter.empty()) return binds;  // static
  std::set<std::string> bound_void_paths;
  std::set<std::string> seen_names;
  if (!main_info.interpreter.empty()) {
    if (main_info.interpreter[0] != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat(binary, ": relative ELF interpreter '", main_info.interpreter, "'"));
    }
    if (!IsRegularFile(main_info.interpreter)) {
      return absl::NotFoundError(absl::StrCat(binary, ": ELF interpreter ", main_info.interpreter,
                                              " does not exist on the host"));
    }
    binds.push_back({Canonical(main_info.interpreter), LexicallyNormal(main_info.interpreter)});
    bound_void_paths.insert(binds.back().void_path);
  }
  std::deque<std::pair<Pending, ElfInfo>> queue;
  queue.push_back(
      {Pending{binary, DirName(Canonical(binary)), DirName(void_binary_path), {}, {}}, main_info});
  while (!queue.empty()) {
    auto [object, info] = std::move(queue.front());
    queue.pop_front();
    // Search order of ld.so: DT_RPATH of the object and its loaders (only when the object has no
    // DT_RUNPATH), then DT_RUNPATH, then the cache (here: ld.so.conf dirs), then the defaults.
    std::vector<std::pair<std::string, std::string>> dirs;  // (host dir, void dir)
    std::vector<std::string> rpath_host = object.inherited_rpath;
    std::vector<std::string> rpath_void = object.inherited_void_rpath;
    for (const std::string& d : info.rpath) {
      std::string h = ExpandOrigin(d, object.host_origin), v = ExpandOrigin(d, object.void_origin);
      if (!h.empty()) {
        rpath_host.push_back(h);
        rpath_void.push_back(v);
      }
    }
    if (info.runpath.empty()) {
      for (size_t i = 0; i < rpath_host.size(); ++i)
        dirs.emplace_back(rpath_host[i], rpath_void[i]);
    }
    for (const std::string& d : info.runpath) {
      std::string h = ExpandOrigin(d, object.host_origin), v = ExpandOrigin(d, object.void_origin);
      if (!h.empty()) dirs.emplace_back(h, v);
    }
    const std::string& first_default = search.default_dirs.front();
    for (const std::string& d : search.conf_dirs) {
      bool is_default = std::find(search.default_dirs.begin(), search.default_dirs.end(), d) !=
                        search.default_dirs.end();
      dirs.emplace_back(d, is_default ? d : first_default);
    }
    for (const std::string& d : search.default_dirs) dirs.emplace_back(d, d);

    for (const std::string& name : info.needed) {
      std::string host_file, void_file;
      if (name.find('/') != std::string::npos) {
        if (name[0] != '/') {
          return absl::InvalidArgumentError(absl::StrCat(object.host_path, ": DT_NEEDED '", name,
                                                         "' is a relative path, not supported"));
        }
        host_file = void_file = LexicallyNormal(name);
        if (!IsRegularFile(host_file)) host_file.clear();
      } else {
        for (const auto& [host_dir, void_dir] : dirs) {
          std::string candidate = absl::StrCat(host_dir, "/", name);
          if (IsRegularFile(candidate)) {
            // Skip libraries of another class/arch (e.g. /lib32 or i386 dirs), as ld.so does.
            absl::StatusOr<ElfInfo> probe = ReadElfInfo(candidate);
            if (!probe.ok()) continue;
            host_file = candidate;
            void_file = absl::StrCat(void_dir, "/", name);
            break;
          }
        }
      }
      if (host_file.empty()) {
        return absl::NotFoundError(absl::StrCat("library ", name, " needed by ", object.host_path,
                                                " not found in its RPATH/RUNPATH, ld.so.conf or "
                                                "default directories"));
      }
      if (!seen_names.insert(void_file).second) continue;
      std::string canonical = Canonical(host_file);
      if (bound_void_paths.insert(void_file).second) binds.push_back({canonical, void_file});
      ASSIGN_OR_RETURN(ElfInfo lib_info, ReadElfInfo(canonical));
      queue.push_back(
          {Pending{host_file, DirName(host_file), DirName(void_file), rpath_host, rpath_void},
           std::move(lib_info)});
    }
  }
  return binds;
}

}  // namespace shim::sandbox
