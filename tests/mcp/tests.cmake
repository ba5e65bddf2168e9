# MCP protocol layer: JSON-RPC, SSE, the client session and the server
# dispatcher (core/mcp).
foreach(t jsonrpc sse mcp_server mcp_client mcp_inproc)
  sibyl_unit_test(mcp_${t} "${CMAKE_CURRENT_LIST_DIR}/test_${t}.c")
  set_tests_properties(mcp_${t} PROPERTIES LABELS mcp)
endforeach()

# libFuzzer targets for the two parsers that read what servers send. They link
# their own copy of the modules they need, compiled with
# -fsanitize=fuzzer-no-link so libFuzzer sees coverage inside the parsers, and
# only those modules, so a half-written module elsewhere cannot break them.
# ctest runs each for a bounded number of inputs; for a long run:
#   build/mcp-native/fuzz_mcp_sse -max_total_time=600 tests/mcp/fuzz-seeds-sse
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang" OR NOT SIBYL_SANITIZE)
  return()
endif()
get_target_property(_mcp_fz_sources sibyl_core SOURCES)
list(FILTER _mcp_fz_sources INCLUDE REGEX "/core/(util|value|json|mcp)/[^/]+\\.c$")
add_library(sibyl_mcp_fuzz STATIC ${_mcp_fz_sources})
target_include_directories(sibyl_mcp_fuzz PUBLIC "${PROJECT_SOURCE_DIR}/core")
target_compile_options(sibyl_mcp_fuzz PRIVATE ${SIBYL_WARNINGS} -fsanitize=fuzzer-no-link)
find_library(_mcp_fz_m m)
if(_mcp_fz_m)
  target_link_libraries(sibyl_mcp_fuzz PUBLIC ${_mcp_fz_m})
endif()

foreach(t sse jsonrpc client)
  add_executable(fuzz_mcp_${t} "${CMAKE_CURRENT_LIST_DIR}/fuzz_${t}.c")
  target_compile_options(fuzz_mcp_${t} PRIVATE ${SIBYL_WARNINGS} -fsanitize=fuzzer)
  target_link_options(fuzz_mcp_${t} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(fuzz_mcp_${t} PRIVATE sibyl_mcp_fuzz)
  # The first corpus directory is where libFuzzer writes: keep it in the build tree.
  set(_corpus "${CMAKE_CURRENT_BINARY_DIR}/fuzz-corpus-mcp-${t}")
  file(MAKE_DIRECTORY "${_corpus}")
  add_test(NAME fuzz.mcp_${t}
           COMMAND fuzz_mcp_${t} -runs=20000 -max_len=4096 -seed=1 -timeout=20
                   -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/fuzz-mcp-${t}-
                   "${_corpus}" "${CMAKE_CURRENT_LIST_DIR}/fuzz-seeds-${t}")
  set_tests_properties(fuzz.mcp_${t} PROPERTIES TIMEOUT 600 LABELS "fuzz;mcp")
endforeach()
