# How our own targets are declared: every library lists its sources (no globbing) and compiles
# with warnings on; libtorch-heavy ones take the torch precompiled header and the unity build.

option(AUTOTHINK_WERROR "Treat warnings in autothink's own code as errors (third-party headers are SYSTEM)" ON)

# autothink_own_code(TARGET): what our own code compiles with. -Wall -Wextra (and -Werror unless
# AUTOTHINK_WERROR=OFF) on C++ only, so nvcc-compiled sources and the headers of torch, Boost and
# GoogleTest (SYSTEM includes) are left alone; __FILE__ relative to the repository, so
# AUTOTHINK_CHECK names "model/engine.cpp:274", not a path on the build machine.
function(autothink_own_code target)
  set(flags -Wall -Wextra)
  if(AUTOTHINK_WERROR)
    list(APPEND flags -Werror)
  endif()
  list(APPEND flags "-fmacro-prefix-map=${PROJECT_SOURCE_DIR}/=")
  target_compile_options(${target} PRIVATE "$<$<COMPILE_LANGUAGE:CXX>:${flags}>")
endfunction()

# autothink_torch_target(TARGET): libtorch flags, precompiled torch header, unity build.
function(autothink_torch_target name)
  target_link_libraries(${name} PUBLIC ${TORCH_LIBRARIES})
  target_include_directories(${name} SYSTEM PUBLIC ${TORCH_INCLUDE_DIRS})
  target_precompile_headers(${name} PRIVATE <torch/torch.h>)
  if(AUTOTHINK_UNITY)
    set_target_properties(${name} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
  endif()
endfunction()

# autothink_library(NAME [TORCH] SOURCES a.cpp ... LINK dep ...): a static library of the listed
# sources, public include root at the repository, linking its dependencies publicly.
function(autothink_library name)
  cmake_parse_arguments(arg "TORCH" "" "SOURCES;LINK" ${ARGN})
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "autothink_library(${name}): no SOURCES listed")
  endif()
  add_library(${name} STATIC ${arg_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${arg_LINK})
  autothink_own_code(${name})
  if(arg_TORCH)
    autothink_torch_target(${name})
  endif()
endfunction()
