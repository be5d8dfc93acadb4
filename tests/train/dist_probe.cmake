# dist_probe: one rank of the multi-process checks in tests/train/torchrun_test.cpp (started by
# torchrun or by the test itself). Included from tests/CMakeLists.txt after the test executables.
add_executable(dist_probe ${CMAKE_CURRENT_LIST_DIR}/dist_probe.cpp)
target_link_libraries(dist_probe PRIVATE autothink_train autothink_core)
autothink_own_code(dist_probe)
if(TARGET train_tests)
  add_dependencies(train_tests dist_probe)
  target_compile_definitions(train_tests PRIVATE AUTOTHINK_DIST_PROBE="$<TARGET_FILE:dist_probe>")
endif()
