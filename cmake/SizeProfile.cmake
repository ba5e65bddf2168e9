# Code size versus speed for sibyl.wasm (the wasi preset). The module is held
# to a size bound (tests/wasm/tests.cmake, wasm_size), so it is compiled for
# size: -Oz with link-time optimization across files, and
# -finline-hint-functions (only functions declared inline are inlined: with
# inlining at large, the link-time inliner copies the value layer's small
# public functions into hundreds of call sites, some 30 KB). Two lists loosen
# that where a long sweep spends its time (figures in bench/README.md):
#   SIBYL_WARM  -Oz with inlining: JSON parsing, the simulated Conductor and
#               the engine's polling, which handle every message and job;
#   SIBYL_HOT   SIBYL_HOT_OPT (-O2, still hint-only inlining): the value
#               layer, buffers and the allocator, under everything.
# Entries are core/ module names or source paths from the repository root.
# The native and web builds keep their build type's flags.
set(SIBYL_HOT core/value/sb_value.c core/util/sb_buf.c core/util/sb_alloc.c
  host-wasi/wasi_malloc.c host-wasi/wasi_heap.c
  CACHE STRING "sources compiled for speed (SIBYL_HOT_OPT) in the wasi build")
set(SIBYL_HOT_OPT -O2 CACHE STRING "optimization level of SIBYL_HOT in the wasi build")
set(SIBYL_WARM json conductor core/engine/run_poll.c
  CACHE STRING "modules and sources compiled with -Oz but with inlining in the wasi build")
option(SIBYL_WASM_LTO "link-time optimization for sibyl.wasm" ON)

if(SIBYL_TARGET STREQUAL "wasi")
  # Last -O wins: these come after CMAKE_C_FLAGS_<CONFIG> on every command
  # line, and -Oz at link time makes the wasm-opt pass clang runs size-minded.
  add_compile_options(-Oz -finline-hint-functions)
  add_link_options(-Oz)
  # memory.copy/fill instead of wasi-libc's byte loops for memcpy/memset the
  # compiler emits, and saturating float-to-int conversions instead of range
  # checks: smaller and faster. Both are in every current WASI runtime
  # (wasmtime, Node 20's V8).
  add_compile_options(-mbulk-memory -mnontrapping-fptoint)
  add_link_options(-mbulk-memory -mnontrapping-fptoint)
  if(SIBYL_WASM_LTO)
    add_compile_options(-flto)
    add_link_options(-flto)
  endif()
endif()

function(_sibyl_listed list rel out)
  set(_in FALSE)
  if(rel IN_LIST ${list})
    set(_in TRUE)
  elseif(rel MATCHES "^core/([a-z]+)/")
    if(CMAKE_MATCH_1 IN_LIST ${list})
      set(_in TRUE)
    endif()
  endif()
  set(${out} ${_in} PARENT_SCOPE)
endfunction()

# sibyl_size_profile(target): the hot and warm options on the target's sources.
function(sibyl_size_profile target)
  if(NOT SIBYL_TARGET STREQUAL "wasi")
    return()
  endif()
  get_target_property(_srcs ${target} SOURCES)
  foreach(src ${_srcs})
    file(RELATIVE_PATH _rel "${PROJECT_SOURCE_DIR}" "${src}")
    _sibyl_listed(SIBYL_HOT "${_rel}" _hot)
    _sibyl_listed(SIBYL_WARM "${_rel}" _warm)
    if(_hot)
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${SIBYL_HOT_OPT}")
    elseif(_warm)
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS -finline-functions)
    endif()
  endforeach()
endfunction()

# sibyl_size_profile_warm(target): the whole target is warm (cJSON parses
# every message).
function(sibyl_size_profile_warm target)
  if(SIBYL_TARGET STREQUAL "wasi")
    target_compile_options(${target} PRIVATE -finline-functions)
  endif()
endfunction()
