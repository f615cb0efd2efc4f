# The BPF build pipeline, as CMake targets:
#   vmlinux.h      generated once from the running kernel's BTF into the build dir
#   NAME.bpf.o     clang -target bpf -O2 -g, with CO-RE relocations
#   NAME.skel.h    bpftool gen skeleton
# bpf_object(NAME SOURCE), called in the same directory, defines an INTERFACE library `NAME_skel` whose include dir holds the
# skeleton, so C++ code links `NAME_skel` and includes "NAME.skel.h".

find_program(BPF_CLANG NAMES clang-14 clang REQUIRED)
find_program(BPFTOOL NAMES bpftool REQUIRED
             PATHS /usr/sbin /sbin /usr/local/sbin)
set(VMLINUX_BTF "/sys/kernel/btf/vmlinux" CACHE FILEPATH "Kernel BTF used to generate vmlinux.h")

set(BPF_GEN_DIR "${CMAKE_BINARY_DIR}/bpf")
file(MAKE_DIRECTORY "${BPF_GEN_DIR}")

# Call once, from the directory that builds the BPF objects: Makefile generators only see a
# custom command's output within the directory that declares it.
function(bpf_vmlinux_header)
  add_custom_command(
    OUTPUT "${BPF_GEN_DIR}/vmlinux.h"
    COMMAND "${BPFTOOL}" btf dump file "${VMLINUX_BTF}" format c > "${BPF_GEN_DIR}/vmlinux.h.tmp"
    COMMAND ${CMAKE_COMMAND} -E rename "${BPF_GEN_DIR}/vmlinux.h.tmp" "${BPF_GEN_DIR}/vmlinux.h"
    COMMENT "Generating vmlinux.h from ${VMLINUX_BTF}"
    VERBATIM)
endfunction()

# The host's system include dirs go in with -idirafter (as libbpf-bootstrap does), so
# <asm/types.h> and friends resolve for -target bpf.
execute_process(
  COMMAND sh -c "${BPF_CLANG} -v -E - </dev/null 2>&1 | sed -n '/<...> search starts here:/,/End of search list./{ s| \\(/.*\\)|-idirafter\\1|p }'"
  OUTPUT_VARIABLE _bpf_sys_includes OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REPLACE "\n" ";" BPF_SYS_INCLUDES "${_bpf_sys_includes}")

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64")
  set(BPF_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64")
  set(BPF_TARGET_ARCH arm64)
else()
  set(BPF_TARGET_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

function(bpf_object name source)
  set(obj "${BPF_GEN_DIR}/${name}.bpf.o")
  set(skel "${BPF_GEN_DIR}/${name}.skel.h")
  file(GLOB _bpf_headers "${PROJECT_SOURCE_DIR}/bpf/include/*.h" "${PROJECT_SOURCE_DIR}/bpf/lib/*.h")
  add_custom_command(
    OUTPUT "${obj}"
    COMMAND "${BPF_CLANG}" -g -O2 -target bpf -D__TARGET_ARCH_${BPF_TARGET_ARCH}
            -Wall -Werror -I "${BPF_GEN_DIR}" -I "${PROJECT_SOURCE_DIR}/bpf/include"
            -I "${PROJECT_SOURCE_DIR}/bpf" ${BPF_SYS_INCLUDES}
            -c "${CMAKE_CURRENT_SOURCE_DIR}/${source}" -o "${obj}"
    DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/${source}" "${BPF_GEN_DIR}/vmlinux.h" ${_bpf_headers}
    COMMENT "BPF ${name}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT "${skel}"
    # Generated code is wrapped in NOLINT markers: clang-tidy's analyzer follows calls into the
    # skeleton's inline functions even from a system include dir.
    COMMAND sh -c "set -e; { echo '/* NOLINTBEGIN */'; \"$1\" gen skeleton \"$2\" name \"$3\"; echo '/* NOLINTEND */'; } > \"$4\""
            sh "${BPFTOOL}" "${obj}" "${name}" "${skel}.tmp"
    COMMAND ${CMAKE_COMMAND} -E rename "${skel}.tmp" "${skel}"
    DEPENDS "${obj}"
    COMMENT "BPF skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS "${skel}")
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  # SYSTEM: generated code is not ours to lint or warn about.
  target_include_directories(${name}_skel SYSTEM INTERFACE "${BPF_GEN_DIR}")
  target_include_directories(${name}_skel INTERFACE "${PROJECT_SOURCE_DIR}/bpf/include")
  target_link_libraries(${name}_skel INTERFACE PkgConfig::LIBBPF)
endfunction()
