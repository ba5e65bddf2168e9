# libyaml and cJSON. Native builds link Debian's libraries. The wasm builds
# compile libyaml from the sources that scripts/install-deps.sh unpacked with
# `apt-get source` into third_party/ (git-ignored; never committed). cJSON is
# no longer part of the product (core/json is sibyl's own strict reader): it
# is the differential oracle of the JSON tests and fuzz target, native only.
if(SIBYL_TARGET STREQUAL "native")
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(YAML REQUIRED IMPORTED_TARGET yaml-0.1)
  pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
  add_library(sibyl_yaml INTERFACE)
  target_link_libraries(sibyl_yaml INTERFACE PkgConfig::YAML)
  add_library(sibyl_cjson INTERFACE)
  target_link_libraries(sibyl_cjson INTERFACE PkgConfig::CJSON)
  return()
endif()

file(GLOB _yaml_dir LIST_DIRECTORIES true "${PROJECT_SOURCE_DIR}/third_party/libyaml-*")
list(FILTER _yaml_dir EXCLUDE REGEX "\\.(tar|dsc|gz|xz)")
if(NOT _yaml_dir)
  message(FATAL_ERROR "libyaml sources missing in third_party/: run scripts/install-deps.sh")
endif()

file(GLOB _yaml_src "${_yaml_dir}/src/*.c")
add_library(sibyl_yaml STATIC ${_yaml_src})
target_include_directories(sibyl_yaml SYSTEM PUBLIC "${_yaml_dir}/include")
target_compile_definitions(sibyl_yaml PUBLIC YAML_DECLARE_STATIC
  PRIVATE YAML_VERSION_MAJOR=0 YAML_VERSION_MINOR=2 YAML_VERSION_PATCH=5 YAML_VERSION_STRING="0.2.5")
target_compile_options(sibyl_yaml PRIVATE -w)
