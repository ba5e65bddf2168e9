# libFuzzer targets for the parsers (native clang builds only).
#
# The fuzzers link their own copy of the core compiled with
# -fsanitize=fuzzer-no-link, so libFuzzer sees coverage inside the loader and
# the validators, not only in the fuzz target; the core everyone else links
# stays free of fuzzer instrumentation. When scripts/install-deps.sh has
# unpacked libyaml and cJSON into third_party/, instrumented copies of those
# are built as well (the same Debian versions the native build links), so the
# fuzzer can steer through the YAML grammar; otherwise the system libraries
# are used.
#
# ctest runs each target for a bounded number of inputs; scripts/fuzz.sh runs
# them for as long as you like.
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang" OR NOT SIBYL_SANITIZE)
  return()
endif()

set(_fz_dir "${CMAKE_CURRENT_LIST_DIR}")
set(_fz_flags -fsanitize=fuzzer-no-link)

function(_sibyl_fuzz_third_party out_yaml out_cjson)
  file(GLOB _y LIST_DIRECTORIES true "${PROJECT_SOURCE_DIR}/third_party/libyaml-*")
  file(GLOB _c LIST_DIRECTORIES true "${PROJECT_SOURCE_DIR}/third_party/cjson-*")
  list(FILTER _y EXCLUDE REGEX "\\.(tar|dsc|gz|xz)")
  list(FILTER _c EXCLUDE REGEX "\\.(tar|dsc|gz|xz)")
  if(NOT _y OR NOT _c OR NOT EXISTS "${_c}/cJSON.c")
    set(${out_yaml} sibyl_yaml PARENT_SCOPE)
    set(${out_cjson} sibyl_cjson PARENT_SCOPE)
    return()
  endif()
  file(GLOB _ysrc "${_y}/src/*.c")
  add_library(sibyl_fuzz_yaml STATIC ${_ysrc})
  target_include_directories(sibyl_fuzz_yaml SYSTEM PUBLIC "${_y}/include")
  target_compile_definitions(sibyl_fuzz_yaml PUBLIC YAML_DECLARE_STATIC
    PRIVATE YAML_VERSION_MAJOR=0 YAML_VERSION_MINOR=2 YAML_VERSION_PATCH=5 YAML_VERSION_STRING="0.2.5")
  target_compile_options(sibyl_fuzz_yaml PRIVATE -w ${_fz_flags})
  set(_inc "${CMAKE_CURRENT_BINARY_DIR}/fuzz-cjson-include")
  file(MAKE_DIRECTORY "${_inc}/cjson")
  configure_file("${_c}/cJSON.h" "${_inc}/cjson/cJSON.h" COPYONLY)
  add_library(sibyl_fuzz_cjson STATIC "${_c}/cJSON.c")
  target_include_directories(sibyl_fuzz_cjson SYSTEM PUBLIC "${_inc}")
  target_compile_options(sibyl_fuzz_cjson PRIVATE -w ${_fz_flags})
  set(${out_yaml} sibyl_fuzz_yaml PARENT_SCOPE)
  set(${out_cjson} sibyl_fuzz_cjson PARENT_SCOPE)
endfunction()
_sibyl_fuzz_third_party(_fz_yaml _fz_cjson)

# Only the modules the targets exercise (cel: fuzz_yaml compiles the
# templates as `pipeline validate` does), so a half-written module elsewhere
# in the core does not stop the fuzzers from building. Extend the list when a
# target needs more.
set(SIBYL_FUZZ_MODULES util value json config cel journal)
string(JOIN "|" _fz_mods ${SIBYL_FUZZ_MODULES})
get_target_property(_fz_core_sources sibyl_core SOURCES)
list(FILTER _fz_core_sources INCLUDE REGEX "/core/(${_fz_mods})/[^/]+\\.c$")
add_library(sibyl_core_fuzz STATIC ${_fz_core_sources})
target_include_directories(sibyl_core_fuzz PUBLIC "${PROJECT_SOURCE_DIR}/core")
target_compile_options(sibyl_core_fuzz PRIVATE ${SIBYL_WARNINGS} ${_fz_flags})
target_link_libraries(sibyl_core_fuzz PRIVATE ${_fz_yaml})
find_library(_fz_m m)
if(_fz_m)
  target_link_libraries(sibyl_core_fuzz PUBLIC ${_fz_m})
endif()

# Seed directories per target: the first corpus directory is the one
# libFuzzer writes to, so it lives in the build tree.
set(_fz_seeds_yaml "${_fz_dir}/seeds-yaml" "${PROJECT_SOURCE_DIR}/tests/golden/config"
    "${PROJECT_SOURCE_DIR}/examples")
set(_fz_seeds_json "${_fz_dir}/seeds-json" "${PROJECT_SOURCE_DIR}/tests/json/cases")
set(_fz_seeds_handle "${_fz_dir}/seeds-handle")
set(_fz_seeds_journal "${_fz_dir}/seeds-journal")

foreach(t yaml json handle journal)
  add_executable(fuzz_${t} "${_fz_dir}/fuzz_${t}.c")
  target_compile_options(fuzz_${t} PRIVATE ${SIBYL_WARNINGS} -fsanitize=fuzzer)
  target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(fuzz_${t} PRIVATE sibyl_core_fuzz)
  if(t STREQUAL "json") # cJSON as the oracle (tests/json/json_oracle.h)
    target_sources(fuzz_json PRIVATE "${PROJECT_SOURCE_DIR}/tests/json/json_oracle.c")
    target_include_directories(fuzz_json PRIVATE "${PROJECT_SOURCE_DIR}/core")
    target_link_libraries(fuzz_json PRIVATE ${_fz_cjson})
  endif()
  set(_corpus "${CMAKE_CURRENT_BINARY_DIR}/fuzz-corpus-${t}")
  file(MAKE_DIRECTORY "${_corpus}")
  add_test(NAME fuzz.${t}
           COMMAND fuzz_${t} -runs=30000 -max_len=4096 -seed=1 -timeout=20 -dict=${_fz_dir}/${t}.dict
                   -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/fuzz-${t}- "${_corpus}" ${_fz_seeds_${t}})
  set_tests_properties(fuzz.${t} PROPERTIES TIMEOUT 600 LABELS fuzz)
endforeach()

# The Slurm driver's readers (servers/slurm_parse.c: pure, linked with the
# instrumented util, value and json above).
add_executable(fuzz_slurm "${_fz_dir}/fuzz_slurm.c" "${PROJECT_SOURCE_DIR}/servers/slurm_parse.c")
target_include_directories(fuzz_slurm PRIVATE "${PROJECT_SOURCE_DIR}/core")
target_compile_options(fuzz_slurm PRIVATE ${SIBYL_WARNINGS} -fsanitize=fuzzer)
target_link_options(fuzz_slurm PRIVATE -fsanitize=fuzzer)
target_link_libraries(fuzz_slurm PRIVATE sibyl_core_fuzz)
set(_corpus "${CMAKE_CURRENT_BINARY_DIR}/fuzz-corpus-slurm")
file(MAKE_DIRECTORY "${_corpus}")
add_test(NAME fuzz.slurm
         COMMAND fuzz_slurm -runs=200000 -max_len=4096 -seed=1 -timeout=20 -dict=${_fz_dir}/slurm.dict
                 -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/fuzz-slurm- "${_corpus}" "${_fz_dir}/seeds-slurm")
set_tests_properties(fuzz.slurm PROPERTIES TIMEOUT 600 LABELS "fuzz;slurm")
