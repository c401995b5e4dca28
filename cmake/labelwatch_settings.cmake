# Compiler settings as INTERFACE targets, linked PRIVATE by first-party targets only,
# so third-party headers never see our warning flags.

find_program(LABELWATCH_CCACHE ccache)
if(LABELWATCH_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${LABELWATCH_CCACHE})
endif()

add_library(labelwatch_warnings INTERFACE)
target_compile_options(labelwatch_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow
  -Woverloaded-virtual -Wcast-align
  -Wimplicit-fallthrough
  # Designated initializers that leave members to their defaults are the point of
  # aggregate option structs; -Wextra would flag every one of them.
  -Wno-missing-field-initializers
  # gcc 12 reports -Wmaybe-uninitialized inside Boost.Asio coroutine frames and
  # std::optional moves: false positives in library code we cannot change.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>
  # gcc 12 pairs Asio's awaitable-frame operator delete with the global operator new
  # when it inlines a coroutine's destruction (-Wmismatched-new-delete): a false positive.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>
  $<$<BOOL:${LABELWATCH_WERROR}>:-Werror>)

add_library(labelwatch_settings INTERFACE)
target_compile_definitions(labelwatch_settings INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION
  BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED
  BOOST_BEAST_USE_STD_STRING_VIEW
  $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>
  # Boost assertions go through lib/core/boost_assert.cpp, which lets one assertion that
  # is wrong in Boost 1.81 through (see there) and aborts on every other.
  $<$<CONFIG:Debug>:BOOST_ENABLE_ASSERT_DEBUG_HANDLER>)
# Every target that sees the definition defines the handler itself: no link-order
# question between the static libraries.
target_sources(labelwatch_settings INTERFACE
  $<$<CONFIG:Debug>:${PROJECT_SOURCE_DIR}/lib/core/boost_assert.cpp>)

if(LABELWATCH_SANITIZE)
  # clang 14 cannot emit -fsanitize=function checks inside C++20 coroutine frames
  # ("Cannot represent a difference across sections"); every other UBSan check stays on.
  set(_lw_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    list(APPEND _lw_san -fno-sanitize=function)
  endif()
  target_compile_options(labelwatch_settings INTERFACE ${_lw_san})
  target_link_options(labelwatch_settings INTERFACE ${_lw_san})
endif()

if(LABELWATCH_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "LABELWATCH_FUZZ needs clang (libFuzzer)")
  endif()
  # Instrument everything for coverage; only fuzz targets link the libFuzzer main.
  target_compile_options(labelwatch_settings INTERFACE -fsanitize=fuzzer-no-link)
endif()
