# The configuration sources themselves rather than castellan_app: the parser and the editor need
# the store, trust and users libraries, not the OPC UA server and the CLI.
castellan_add_fuzz_target(config_toml_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/config_toml_fuzz.cpp castellan_http PkgConfig::TOMLPLUSPLUS)
target_sources(config_toml_fuzz PRIVATE ${PROJECT_SOURCE_DIR}/src/app/config.cpp ${PROJECT_SOURCE_DIR}/src/app/config_editor.cpp
               ${PROJECT_SOURCE_DIR}/src/app/config_view.cpp)
