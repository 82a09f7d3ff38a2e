# cmake -DNPM=… -DWEB=… -P npm_ci_if_needed.cmake: `npm ci` unless node_modules already matches
# the lock file (npm writes node_modules/.package-lock.json on every install).
set(_installed ${WEB}/node_modules/.package-lock.json)
if(EXISTS ${_installed} AND NOT ${WEB}/package-lock.json IS_NEWER_THAN ${_installed})
  return()
endif()
message(STATUS "web console: npm ci")
execute_process(COMMAND ${NPM} ci --no-audit --no-fund --loglevel=error WORKING_DIRECTORY ${WEB} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "web console: npm ci failed (${rc})")
endif()
