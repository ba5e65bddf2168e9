# What `cmake --install BUILD --prefix P` puts under P (docs/packaging.md):
#   bin/sibyl                          native tree: the native binary;
#                                      wasi tree: a launcher of sibyl.wasm
#   bin/sibyl-wasm                     native tree, when build/wasi is built:
#                                      the same launcher (the sandboxed front end)
#   bin/sibyl-solver, bin/sibyl-conductor           native tree
#   share/sibyl/{sibyl.wasm,run-wasi.mjs,schemas/,examples/}
#   share/doc/sibyl/{README.md,*.md}
#   share/man/man1/{sibyl,sibyl-solver,sibyl-conductor}.1.gz   native tree
#   share/bash-completion/completions/sibyl (and one copy per program name)
#   lib/systemd/system/sibyl-{solver,conductor}.service        native tree
# Installed programs find share/sibyl from their own location (bin/../share/
# sibyl), never from the source tree, so a prefix can be moved as a whole.
# The web tree installs nothing: its channel is the npm package
# (scripts/npm-pack.sh).
include(GNUInstallDirs)
set(SIBYL_DATA_DEST "${CMAKE_INSTALL_DATADIR}/sibyl")
set(SIBYL_DOC_DEST "${CMAKE_INSTALL_DATADIR}/doc/sibyl")
set(SIBYL_PKG_DIR "${PROJECT_SOURCE_DIR}/packaging")
# The same cache entry tests/CMakeLists.txt declares (first one wins).
set(SIBYL_WASI_DIR "${PROJECT_SOURCE_DIR}/build/wasi" CACHE PATH "build tree of the wasi preset")

if(SIBYL_TARGET STREQUAL "web")
  return()
endif()

install(DIRECTORY "${PROJECT_SOURCE_DIR}/schemas/" DESTINATION "${SIBYL_DATA_DEST}/schemas"
        FILES_MATCHING PATTERN "*.json")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/examples/" DESTINATION "${SIBYL_DATA_DEST}/examples"
        PATTERN "__pycache__" EXCLUDE PATTERN "*.pyc" EXCLUDE)
install(FILES "${PROJECT_SOURCE_DIR}/README.md" DESTINATION "${SIBYL_DOC_DEST}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/docs/" DESTINATION "${SIBYL_DOC_DEST}" FILES_MATCHING PATTERN "*.md")
# bash-completion loads completions/NAME when NAME is first completed: one
# copy per program name.
set(_progs sibyl sibyl-wasm)
if(SIBYL_TARGET STREQUAL "native")
  list(APPEND _progs sibyl-solver sibyl-conductor)
endif()
foreach(prog ${_progs})
  install(FILES "${SIBYL_PKG_DIR}/bash-completion/sibyl" DESTINATION "${CMAKE_INSTALL_DATADIR}/bash-completion/completions"
          RENAME ${prog})
endforeach()

if(SIBYL_TARGET STREQUAL "wasi")
  install(FILES "$<TARGET_FILE:sibyl>" "${PROJECT_SOURCE_DIR}/scripts/run-wasi.mjs" DESTINATION "${SIBYL_DATA_DEST}")
  install(PROGRAMS "${SIBYL_PKG_DIR}/sibyl-wasm" DESTINATION "${CMAKE_INSTALL_BINDIR}" RENAME sibyl)
  return()
endif()

# Native tree.
install(TARGETS sibyl sibyl-solver sibyl-conductor RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(FILES "${SIBYL_PKG_DIR}/systemd/sibyl-solver.service" "${SIBYL_PKG_DIR}/systemd/sibyl-conductor.service"
        DESTINATION "lib/systemd/system")
# sibyl.wasm comes from the wasi tree, when that is built (scripts/package.sh
# builds it): checked when installing, not when configuring.
set(_wasm "${SIBYL_WASI_DIR}/host-wasi/sibyl.wasm")
install(CODE "
  if(EXISTS \"${_wasm}\")
    file(INSTALL \"${_wasm}\" \"${PROJECT_SOURCE_DIR}/scripts/run-wasi.mjs\" DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${SIBYL_DATA_DEST}\")
    file(INSTALL \"${SIBYL_PKG_DIR}/sibyl-wasm\" DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\"
         FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  else()
    message(STATUS \"Not installing sibyl.wasm and sibyl-wasm: ${_wasm} is not built\")
  endif()")

# Man pages from the programs' own --help and --version (help2man), plus the
# sections in packaging/man/*.h2m. Built with the programs (target sibyl_man).
find_program(SIBYL_HELP2MAN help2man)
if(SIBYL_HELP2MAN)
  set(_pages)
  # sibyl's page also holds each command's --help (COMMANDS section).
  set(_cmds "${CMAKE_BINARY_DIR}/man/sibyl-commands.h2m")
  add_custom_command(
    OUTPUT "${_cmds}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${CMAKE_BINARY_DIR}/man"
    COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0
            sh "${SIBYL_PKG_DIR}/man/commands-h2m.sh" "$<TARGET_FILE:sibyl>" "${_cmds}"
    DEPENDS sibyl "${SIBYL_PKG_DIR}/man/commands-h2m.sh"
    VERBATIM)
  foreach(prog sibyl sibyl-solver sibyl-conductor)
    set(_page "${CMAKE_BINARY_DIR}/man/${prog}.1")
    set(_extra)
    if(prog STREQUAL "sibyl")
      set(_extra --include "${_cmds}")
    endif()
    add_custom_command(
      OUTPUT "${_page}.gz"
      COMMAND ${CMAKE_COMMAND} -E make_directory "${CMAKE_BINARY_DIR}/man"
      COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0
              ${SIBYL_HELP2MAN} --no-info --no-discard-stderr
              --include "${SIBYL_PKG_DIR}/man/${prog}.h2m" ${_extra} --output "${_page}" "$<TARGET_FILE:${prog}>"
      COMMAND gzip -9nf "${_page}"
      DEPENDS ${prog} "${SIBYL_PKG_DIR}/man/${prog}.h2m" $<$<STREQUAL:${prog},sibyl>:${_cmds}>
      COMMENT "Writing the man page of ${prog}"
      VERBATIM)
    list(APPEND _pages "${_page}.gz")
  endforeach()
  add_custom_target(sibyl_man ALL DEPENDS ${_pages})
  install(FILES ${_pages} DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
else()
  message(STATUS "help2man not found: no man pages (scripts/install-deps.sh installs it)")
endif()

# What an install needs built, without the tests and benchmarks that `all`
# also builds: scripts/package.sh and the packaging tests build this.
add_custom_target(sibyl_installables DEPENDS sibyl sibyl-solver sibyl-conductor)
if(TARGET sibyl_man)
  add_dependencies(sibyl_installables sibyl_man)
endif()
