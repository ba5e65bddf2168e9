# Config loading: unit tests beyond the golden cases, the failing-allocation
# sweep, the published JSON Schemas and their check against the example.
sibyl_unit_test(config_schema "${CMAKE_CURRENT_LIST_DIR}/test_schema.c")
sibyl_unit_test(config_oom "${CMAKE_CURRENT_LIST_DIR}/test_config_oom.c")
foreach(t config_schema config_oom)
  target_compile_definitions(${t} PRIVATE SIBYL_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endforeach()

# yaml2json: sibyl's YAML loader as a filter, for the JSON Schema check.
add_executable(config_yaml2json "${CMAKE_CURRENT_LIST_DIR}/yaml2json.c")
target_include_directories(config_yaml2json PRIVATE "${PROJECT_SOURCE_DIR}/tests/unit")
target_compile_options(config_yaml2json PRIVATE ${SIBYL_WARNINGS})
target_link_libraries(config_yaml2json PRIVATE sibyl_core)

find_program(SIBYL_NODE node)
if(SIBYL_NODE)
  # The committed schemas/ must be what the schema tables produce today.
  add_test(NAME schema.published COMMAND bash "${PROJECT_SOURCE_DIR}/scripts/gen-schemas.sh" --check)
  set_tests_properties(schema.published PROPERTIES ENVIRONMENT "SIBYL=$<TARGET_FILE:sibyl>")
  # The example validates against the published schemas as an editor would see
  # them, and broken copies of it do not.
  foreach(kind workspace pipelines)
    add_test(NAME schema.example.${kind}
             COMMAND "${SIBYL_NODE}" "${CMAKE_CURRENT_LIST_DIR}/jsonschema-check.mjs"
                     --yaml2json $<TARGET_FILE:config_yaml2json> --mutations
                     "${PROJECT_SOURCE_DIR}/schemas/${kind}.schema.json"
                     "${PROJECT_SOURCE_DIR}/examples/companies/vertex_foundry/config/${kind}.yaml")
  endforeach()
endif()

# Handle text (ExternalHandle values) as data, natively and as wasm32-wasi.
sibyl_unit_test(config_handles "${CMAKE_CURRENT_LIST_DIR}/test_handles.c")
set_tests_properties(config_handles PROPERTIES WORKING_DIRECTORY "${CMAKE_CURRENT_LIST_DIR}")
find_program(SIBYL_NODE node REQUIRED)
add_test(NAME config_handles_wasm
         COMMAND bash "${PROJECT_SOURCE_DIR}/tests/engine/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}"
                 "${SIBYL_WASI_DIR}/tests/wasm-units/config_handles.wasm")
set_tests_properties(config_handles_wasm PROPERTIES WORKING_DIRECTORY "${CMAKE_CURRENT_LIST_DIR}" LABELS wasm)
