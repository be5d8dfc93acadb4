// The one place that states which libtorch autothink builds against: PyTorch 2.x (the project
// venv's pinned wheel, CPU or CUDA build). Version-dependent calls inside 2.x (autocast's 2.4
// rename, c10d's Backend) live beside their users (train/autocast.cpp, train/c10d_compat.hpp)
// and test the macros checked here.
#pragma once
#include <torch/torch.h>

#if __has_include(<torch/version.h>)
#include <torch/version.h>
#endif

#if !defined(TORCH_VERSION_MAJOR) || TORCH_VERSION_MAJOR < 2
#error "autothink needs libtorch 2.x: run scripts/deps.sh and build with scripts/build.sh"
#endif
