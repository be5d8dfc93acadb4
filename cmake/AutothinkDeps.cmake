# Finds every third-party dependency once; targets below link the imported names.
find_package(Threads REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
if(NOT AUTOTHINK_FUZZ_ONLY)
  find_package(yaml-cpp REQUIRED)
  find_package(CLI11 QUIET)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
  find_package(Boost 1.74 REQUIRED)
  include(AutothinkTorch)
  # sentencepiece ships no CMake config and its .pc hard-codes prefix=/usr.
  find_library(SENTENCEPIECE_LIBRARY sentencepiece REQUIRED)
  find_library(SENTENCEPIECE_TRAIN_LIBRARY sentencepiece_train REQUIRED)
  find_path(SENTENCEPIECE_INCLUDE_DIR sentencepiece_processor.h REQUIRED)
  add_library(sentencepiece_lib INTERFACE)
  target_link_libraries(sentencepiece_lib INTERFACE ${SENTENCEPIECE_TRAIN_LIBRARY} ${SENTENCEPIECE_LIBRARY})
  target_include_directories(sentencepiece_lib INTERFACE ${SENTENCEPIECE_INCLUDE_DIR})

  # tokenizer.json: PCRE2 for the pre-tokenizer regexes (UTF + UCP), utf8proc for NFC.
  find_library(PCRE2_8_LIBRARY pcre2-8 REQUIRED)
  find_path(PCRE2_INCLUDE_DIR pcre2.h REQUIRED)
  find_library(UTF8PROC_LIBRARY utf8proc REQUIRED)
  find_path(UTF8PROC_INCLUDE_DIR utf8proc.h REQUIRED)
  add_library(unicode_libs INTERFACE)
  target_link_libraries(unicode_libs INTERFACE ${PCRE2_8_LIBRARY} ${UTF8PROC_LIBRARY})
  target_include_directories(unicode_libs INTERFACE ${PCRE2_INCLUDE_DIR} ${UTF8PROC_INCLUDE_DIR})

  # c10d on CPU is Gloo, which lives inside libtorch_cpu; the wheel ships no gloo headers, so
  # ProcessGroupGloo.hpp compiles against Debian's (declarations only: our code holds the device
  # through shared_ptr and never links Debian's libgloo).
  find_path(GLOO_INCLUDE_DIR gloo/config.h)
  if(GLOO_INCLUDE_DIR AND NOT AUTOTHINK_NO_GLOO)
    set(AUTOTHINK_HAVE_GLOO ON)
  else()
    set(AUTOTHINK_HAVE_GLOO OFF)
  endif()
  message(STATUS "autothink: gloo=${AUTOTHINK_HAVE_GLOO}")
endif()

# Release builds in CI: no debug info keeps the link lean on 2 cores.
if(CMAKE_BUILD_TYPE STREQUAL "Release")
  string(REPLACE "-O3" "-O2" CMAKE_CXX_FLAGS_RELEASE "${CMAKE_CXX_FLAGS_RELEASE}")
endif()
