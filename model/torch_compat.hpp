// The only place that knows libtorch 1.13 (Debian, CPU) from 2.x (CUDA): everything that differs
// between the two goes through these helpers.
#pragma once
#include <torch/torch.h>

#if __has_include(<torch/version.h>)
#include <torch/version.h>
#endif

namespace autothink::model::compat {

#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
inline constexpr bool kTorch2 = true;
#else
inline constexpr bool kTorch2 = false;
#endif

}  // namespace autothink::model::compat
