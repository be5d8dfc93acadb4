# libtorch: PyTorch 2.x from the project venv (scripts/deps.sh installs the pinned wheel; build.sh
# puts torch.utils.cmake_prefix_path on CMAKE_PREFIX_PATH). PyPI's torch is a CUDA build:
#  - the CPU build (default) links torch_cpu + c10 only, so no CUDA library is loaded at start and
#    nothing needs the CUDA toolkit;
#  - AUTOTHINK_CUDA=ON takes torch's own CMake config whole (torch_cuda, c10_cuda, NCCL, CUDA
#    toolkit via nvcc) and compiles the CUDA-only paths (ProcessGroupNCCL, CUDA graphs, ...).
# Both end in TORCH_LIBRARIES / TORCH_INCLUDE_DIRS / AUTOTHINK_TORCH_PREFIX.
find_file(AUTOTHINK_TORCH_CONFIG TorchConfig.cmake PATH_SUFFIXES Torch share/cmake/Torch)
if(NOT AUTOTHINK_TORCH_CONFIG)
  message(FATAL_ERROR "libtorch not found: run scripts/deps.sh (it makes .venv with the pinned torch), "
                      "then configure with -DCMAKE_PREFIX_PATH=$(.venv/bin/python -c 'import torch;print(torch.utils.cmake_prefix_path)') "
                      "(scripts/build.sh does)")
endif()
get_filename_component(AUTOTHINK_TORCH_PREFIX "${AUTOTHINK_TORCH_CONFIG}/../../../.." ABSOLUTE)
file(STRINGS "${AUTOTHINK_TORCH_PREFIX}/version.py" _torch_version_line REGEX "^__version__")
string(REGEX MATCH "[0-9]+\\.[0-9]+\\.[0-9]+" Torch_VERSION "${_torch_version_line}")
if(Torch_VERSION VERSION_LESS 2.0)
  message(FATAL_ERROR "libtorch ${Torch_VERSION} at ${AUTOTHINK_TORCH_PREFIX}: autothink needs 2.x")
endif()

if(AUTOTHINK_CUDA)
  # No GPU to detect here: name the architectures (A100, H100/H200) unless the user did, or
  # torch's config try-runs a detection program (and CMake 3.25 cannot build it as CUDA 20).
  if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST} AND NOT TORCH_CUDA_ARCH_LIST)
    set(TORCH_CUDA_ARCH_LIST "8.0;9.0")
  endif()
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  find_package(Torch REQUIRED)
  if(NOT TARGET torch_cuda)
    message(FATAL_ERROR "AUTOTHINK_CUDA=ON but the libtorch at ${AUTOTHINK_TORCH_PREFIX} has no CUDA")
  endif()
  # nvcc must match torch.version.cuda's major version: objects of another major do not load.
  enable_language(CUDA)
  file(STRINGS "${AUTOTHINK_TORCH_PREFIX}/version.py" _torch_cuda_line REGEX "^cuda[:=]")
  string(REGEX MATCH "'([0-9]+)" _m "${_torch_cuda_line}")
  set(_torch_cuda_major "${CMAKE_MATCH_1}")
  string(REGEX MATCH "^[0-9]+" _nvcc_major "${CMAKE_CUDA_COMPILER_VERSION}")
  if(NOT _torch_cuda_major STREQUAL _nvcc_major)
    message(FATAL_ERROR "nvcc ${CMAKE_CUDA_COMPILER_VERSION} (${CMAKE_CUDA_COMPILER}) does not match torch's CUDA "
                        "${_torch_cuda_line}: set CMAKE_CUDA_COMPILER to an nvcc of major ${_torch_cuda_major}")
  endif()
  # PyPI's torch loads the CUDA libraries of its nvidia-* wheels (newer than the system toolkit's:
  # ncclCommGrow & co. exist only there). Link and run against those, never /usr/local/cuda/lib:
  # the system libcudart would otherwise win the binary's RUNPATH and torch would run on it.
  file(GLOB _wheel_cuda_dirs LIST_DIRECTORIES true "${AUTOTHINK_TORCH_PREFIX}/../nvidia/*/lib")
  file(GLOB _wheel_cudart "${AUTOTHINK_TORCH_PREFIX}/../nvidia/*/lib/libcudart.so.[0-9]*")
  file(GLOB _wheel_nvrtc "${AUTOTHINK_TORCH_PREFIX}/../nvidia/*/lib/libnvrtc.so.[0-9]*")
  if(_wheel_cudart AND _wheel_nvrtc)
    list(GET _wheel_cudart 0 _wheel_cudart)
    list(GET _wheel_nvrtc 0 _wheel_nvrtc)
    list(TRANSFORM TORCH_LIBRARIES REPLACE ".*/libcudart\\.so$" "${_wheel_cudart}")
    list(TRANSFORM TORCH_LIBRARIES REPLACE ".*/libnvrtc\\.so$" "${_wheel_nvrtc}")
    set_property(TARGET torch::cudart PROPERTY INTERFACE_LINK_LIBRARIES "${_wheel_cudart}")
    string(REPLACE ";" ":" _rpath_link "${_wheel_cuda_dirs}")
    add_link_options("-Wl,-rpath-link,${_rpath_link}")
    message(STATUS "autothink: CUDA runtime from torch's wheels: ${_wheel_cudart}")
  endif()
  set(AUTOTHINK_TORCH_CUDA ON)
else()
  set(TORCH_INCLUDE_DIRS ${AUTOTHINK_TORCH_PREFIX}/include ${AUTOTHINK_TORCH_PREFIX}/include/torch/csrc/api/include)
  set(TORCH_LIBRARIES ${AUTOTHINK_TORCH_PREFIX}/lib/libtorch_cpu.so ${AUTOTHINK_TORCH_PREFIX}/lib/libc10.so)
  foreach(lib ${TORCH_LIBRARIES})
    if(NOT EXISTS ${lib})
      message(FATAL_ERROR "libtorch at ${AUTOTHINK_TORCH_PREFIX} lacks ${lib}")
    endif()
  endforeach()
  set(AUTOTHINK_TORCH_CUDA OFF)
endif()
message(STATUS "autothink: libtorch ${Torch_VERSION} at ${AUTOTHINK_TORCH_PREFIX}, cuda=${AUTOTHINK_TORCH_CUDA}")
