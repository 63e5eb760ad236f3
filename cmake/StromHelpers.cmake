# Build helpers shared by every component (STYLE.md §3.9).

# Warnings for project code only; third-party headers are included as SYSTEM.
set(STROM_WARNINGS -Wall -Wextra -Werror -Wno-unused-parameter)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 flags false positives in std::variant / std::optional moves at -O2.
  list(APPEND STROM_WARNINGS -Wno-maybe-uninitialized -Wno-array-bounds -Wno-stringop-overflow)
  # At -O2 GCC inlines asio's recycling frame allocator into coroutine frames and then
  # reports its (sized) operator delete as mismatched with operator new: a known false
  # positive (GCC PR 109224), not a real pairing error.
  list(APPEND STROM_WARNINGS -Wno-mismatched-new-delete)
endif()

# strom_add_library(<comp> [DEPS ...] [PRIVATE_DEPS ...])
# Builds the static library strom_<comp> from src/<comp>/**/*.cc, leaving out tests
# (*_test.cc), fuzz targets (*_fuzz.cc) and benchmarks (*_bench.cc).
function(strom_add_library comp)
  cmake_parse_arguments(ARG "" "" "DEPS;PRIVATE_DEPS;EXTRA_SOURCES" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*.cc")
  list(FILTER srcs EXCLUDE REGEX "_(test|fuzz|bench)\\.cc$")
  add_library(strom_${comp} STATIC ${srcs} ${ARG_EXTRA_SOURCES})
  target_include_directories(strom_${comp} PUBLIC "${PROJECT_SOURCE_DIR}/src")
  target_compile_options(strom_${comp} PRIVATE ${STROM_WARNINGS})
  target_link_libraries(strom_${comp} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# strom_add_test(<comp> [DEPS ...] [TEST_PREFIX <prefix>])
# One test binary per component (<comp>_tests) from src/<comp>/**/*_test.cc, each case
# registered with CTest under the label `unit`. TEST_PREFIX is put before every CTest name
# (e.g. "rpc." so that `ctest -R rpc` selects the component's cases).
function(strom_add_test comp)
  if(NOT STROM_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "TEST_PREFIX" "DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc")
  if(NOT srcs)
    return()
  endif()
  add_executable(${comp}_tests ${srcs})
  target_compile_options(${comp}_tests PRIVATE ${STROM_WARNINGS})
  target_compile_definitions(${comp}_tests PRIVATE
    STROM_GOLDEN_DIR="${STROM_GOLDEN_DIR}"
    STROM_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  target_link_libraries(${comp}_tests PRIVATE strom_${comp} strom_testutil ${ARG_DEPS}
    GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${comp}_tests TEST_PREFIX "${ARG_TEST_PREFIX}"
    PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
endfunction()
