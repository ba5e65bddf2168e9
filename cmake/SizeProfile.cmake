# Code size versus speed for sibyl.wasm (the wasi preset). The module is held
# to a size bound (tests/wasm/tests.cmake, wasm_size), so code is compiled for
# size (-Oz) except the modules a long sweep spends its time in, which keep
# -O2: the value layer, buffers and JSON (every message is written and parsed),
# the MCP client and server, the simulated Conductor, the engine, the ledger,
# the timers and the Solver's planner. Everything else (configuration loading
# and its schema tables, CEL, diagnostics, the CLI, libyaml) runs once per
# run or per event and is compiled for size. The native and web builds keep
# their build type's flags.
set(SIBYL_HOT_MODULES value util json mcp conductor engine ledger sched solver
  CACHE STRING "core/ modules compiled for speed in the wasi build (the rest: -Oz)")
set(SIBYL_HOT_OPT -O2 CACHE STRING "optimization level of SIBYL_HOT_MODULES in the wasi build")

if(SIBYL_TARGET STREQUAL "wasi")
  # Last -O wins: these come after CMAKE_C_FLAGS_<CONFIG> on every command
  # line, and -Oz at link time makes the wasm-opt pass clang runs size-minded.
  add_compile_options(-Oz)
  add_link_options(-Oz)
  # memory.copy/fill instead of wasi-libc's byte loops for memcpy/memset the
  # compiler emits, and saturating float-to-int conversions instead of range
  # checks: smaller and faster. Both are in every current WASI runtime
  # (wasmtime, Node 20's V8).
  add_compile_options(-mbulk-memory -mnontrapping-fptoint)
  add_link_options(-mbulk-memory -mnontrapping-fptoint)
endif()

# sibyl_size_profile(target): -O2 on the target's sources under a hot module.
function(sibyl_size_profile target)
  if(NOT SIBYL_TARGET STREQUAL "wasi")
    return()
  endif()
  get_target_property(_srcs ${target} SOURCES)
  foreach(src ${_srcs})
    foreach(mod ${SIBYL_HOT_MODULES})
      if(src MATCHES "/core/${mod}/[^/]+\\.c$")
        set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS ${SIBYL_HOT_OPT})
      endif()
    endforeach()
  endforeach()
endfunction()

# sibyl_size_profile_hot(target): the whole target keeps -O2 (cJSON parses
# every message).
function(sibyl_size_profile_hot target)
  if(SIBYL_TARGET STREQUAL "wasi")
    target_compile_options(${target} PRIVATE ${SIBYL_HOT_OPT})
  endif()
endfunction()
