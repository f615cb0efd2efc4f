# Links Abseil, libbpf (with libelf and zlib), libseccomp and the C++ runtime statically.
#
# Why: on this machine's VM a page fault is expensive, and a dynamically linked shim-bpf maps 39
# shared objects at every start (36 of them Abseil's): `shim-bpf --version` took ~12 ms against
# ~5 ms linked statically, and process start is a third of a cold `shim-bpf run`. Debian ships
# the static archives in the same -dev packages, so nothing new is installed. glibc stays shared
# (static glibc breaks NSS and is not what Debian supports).
#
# Debian's Abseil CMake package only exports shared targets: each imported absl:: target is
# pointed at its .a beside the .so; the link order CMake derives from the targets' dependencies
# is what static archives need.
option(SHIM_STATIC_DEPS "Link Abseil, libbpf, libelf, zlib, libseccomp and libstdc++ statically"
       ON)

# shim_static_archive(OUT NAME): the path of libNAME.a, or "" when the host has none.
function(shim_static_archive out name)
  find_library(_shim_archive_${name} NAMES lib${name}.a)
  if(_shim_archive_${name})
    set(${out} "${_shim_archive_${name}}" PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

# shim_pkg_config_static(TARGET PREFIX): repoints a pkg_check_modules IMPORTED_TARGET at the
# static archives of PREFIX_STATIC_LIBRARIES (e.g. bpf;elf;z).
function(shim_pkg_config_static target prefix)
  set(archives "")
  foreach(name IN LISTS ${prefix}_STATIC_LIBRARIES)
    shim_static_archive(archive ${name})
    if(NOT archive)
      message(FATAL_ERROR "SHIM_STATIC_DEPS: no lib${name}.a for ${target}; "
                          "configure with -DSHIM_STATIC_DEPS=OFF to link it shared")
    endif()
    list(APPEND archives "${archive}")
  endforeach()
  set_target_properties(${target} PROPERTIES INTERFACE_LINK_LIBRARIES "${archives}")
endfunction()

# shim_absl_static(): every imported absl:: shared library becomes its static archive.
function(shim_absl_static)
  get_directory_property(imported IMPORTED_TARGETS)
  foreach(target IN LISTS imported)
    if(NOT target MATCHES "^absl::")
      continue()
    endif()
    get_target_property(type ${target} TYPE)
    if(NOT type STREQUAL "SHARED_LIBRARY")
      continue()
    endif()
    get_target_property(configs ${target} IMPORTED_CONFIGURATIONS)
    foreach(config IN LISTS configs)
      get_target_property(location ${target} IMPORTED_LOCATION_${config})
      string(REGEX REPLACE "\\.so(\\.[0-9.]+)?$" ".a" archive "${location}")
      if(NOT EXISTS "${archive}")
        message(FATAL_ERROR "SHIM_STATIC_DEPS: no ${archive} for ${target}; "
                            "configure with -DSHIM_STATIC_DEPS=OFF to link it shared")
      endif()
      set_target_properties(${target} PROPERTIES IMPORTED_LOCATION_${config} "${archive}")
      set_property(TARGET ${target} PROPERTY IMPORTED_SONAME_${config})
      set_property(TARGET ${target} PROPERTY IMPORTED_NO_SONAME_${config} TRUE)
    endforeach()
  endforeach()
endfunction()

if(SHIM_STATIC_DEPS)
  shim_pkg_config_static(PkgConfig::LIBBPF LIBBPF)
  shim_pkg_config_static(PkgConfig::LIBSECCOMP LIBSECCOMP)
  shim_absl_static()
  # The sanitizers' runtimes interpose the C++ allocator: keep libstdc++ shared under them.
  if(NOT SHIM_SANITIZE)
    add_link_options($<$<LINK_LANGUAGE:CXX>:-static-libstdc++> $<$<LINK_LANGUAGE:CXX>:-static-libgcc>)
  endif()
endif()
