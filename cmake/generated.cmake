# Code generated from the OPC Foundation schema data (npm: tools/schema, pinned).
set(CASTELLAN_SCHEMA_MODULES "${PROJECT_SOURCE_DIR}/tools/schema/node_modules")
if(NOT EXISTS "${CASTELLAN_SCHEMA_MODULES}/node-opcua-status-code")
  message(FATAL_ERROR "schema packages missing in ${CASTELLAN_SCHEMA_MODULES}: run 'make deps'")
endif()
set(CASTELLAN_GENERATED_DIR "${PROJECT_BINARY_DIR}/generated")

set(_status_inc "${CASTELLAN_GENERATED_DIR}/castellan/core/status_codes.inc")
add_custom_command(
  OUTPUT "${_status_inc}"
  COMMAND "${NODE_EXECUTABLE}" "${PROJECT_SOURCE_DIR}/tools/gen_status_codes.mjs" "${CASTELLAN_SCHEMA_MODULES}" "${_status_inc}"
  DEPENDS "${PROJECT_SOURCE_DIR}/tools/gen_status_codes.mjs" "${PROJECT_SOURCE_DIR}/tools/schema/package-lock.json"
  COMMENT "Generating StatusCodes from the OPC UA schema"
  VERBATIM)
add_custom_target(castellan_generated_status DEPENDS "${_status_inc}")
