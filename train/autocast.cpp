// bf16 autocast on CUDA across libtorch versions.
#include "train/autocast.hpp"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#if __has_include(<torch/version.h>)
#include <torch/version.h>
#endif

namespace autothink::train {

#if defined(TORCH_VERSION_MAJOR) && (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4))
#define AUTOTHINK_AUTOCAST_NEW_API 1
#endif

AutocastScope::AutocastScope(bool enabled) : enabled_(enabled) {
  if (!enabled_) return;
#ifdef AUTOTHINK_AUTOCAST_NEW_API
  previous_ = at::autocast::is_autocast_enabled(at::kCUDA);
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
  previous_ = at::autocast::is_enabled();
  at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  at::autocast::set_enabled(true);
#endif
}

AutocastScope::~AutocastScope() {
  if (!enabled_) return;
#ifdef AUTOTHINK_AUTOCAST_NEW_API
  at::autocast::set_autocast_enabled(at::kCUDA, previous_);
#else
  at::autocast::set_enabled(previous_);
#endif
  if (!previous_) at::autocast::clear_cache();
}

}  // namespace autothink::train
