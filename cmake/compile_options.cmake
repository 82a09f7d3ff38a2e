# Warnings and sanitizers for castellan's own targets (not for dependencies).
add_library(castellan_options INTERFACE)
target_compile_options(castellan_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wno-sign-conversion
  -Wno-missing-field-initializers -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
  $<$<BOOL:${CASTELLAN_WERROR}>:-Werror>)
# GCC 12 reports -Wrestrict inside libstdc++'s string concatenation at -O2 (GCC bug 105329),
# a false positive that -Werror would turn into a broken build.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(castellan_options INTERFACE -Wno-restrict)
endif()
# OpenSSL 3's deprecated low-level APIs are not used; make any use of them an error.
target_compile_definitions(castellan_options INTERFACE OPENSSL_API_COMPAT=30000 OPENSSL_NO_DEPRECATED)

if(CASTELLAN_SANITIZE)
  list(JOIN CASTELLAN_SANITIZE "," _san)
  target_compile_options(castellan_options INTERFACE -fsanitize=${_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(castellan_options INTERFACE -fsanitize=${_san})
  if("thread" IN_LIST CASTELLAN_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # gcc warns (-Wtsan) at every std::atomic_thread_fence TSan cannot model; the only ones are
    # in Boost.Asio's std_fenced_block, around handler invocation, not in our code. Without
    # this a tsan build with CASTELLAN_WERROR=ON stops at the first Asio handler.
    target_compile_options(castellan_options INTERFACE -Wno-tsan)
  endif()
endif()
if(CASTELLAN_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "CASTELLAN_FUZZ needs clang (use the 'fuzz' preset)")
  endif()
  target_compile_options(castellan_options INTERFACE -fsanitize=fuzzer-no-link)
endif()
