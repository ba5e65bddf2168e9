# wasm32-wasi (preview 1) with Debian's clang-16 and wasi-libc.
# Debian's clang would also search /usr/include; a private sysroot of two
# symlinks keeps host headers (glibc, native yaml.h) out of the build.
set(CMAKE_SYSTEM_NAME WASI)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
list(APPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_LIST_DIR}")

set(CMAKE_C_COMPILER clang-16)
set(CMAKE_C_COMPILER_TARGET wasm32-wasi)
find_program(CMAKE_AR NAMES llvm-ar-16 llvm-ar REQUIRED)
find_program(CMAKE_RANLIB NAMES llvm-ranlib-16 llvm-ranlib REQUIRED)

set(_sysroot "${CMAKE_BINARY_DIR}/wasi-sysroot")
if(NOT EXISTS "${_sysroot}/include/wasm32-wasi")
  file(MAKE_DIRECTORY "${_sysroot}/include" "${_sysroot}/lib")
  file(CREATE_LINK /usr/include/wasm32-wasi "${_sysroot}/include/wasm32-wasi" SYMBOLIC)
  file(CREATE_LINK /usr/lib/wasm32-wasi "${_sysroot}/lib/wasm32-wasi" SYMBOLIC)
endif()
set(CMAKE_SYSROOT "${_sysroot}")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
