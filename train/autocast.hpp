// AutocastScope: bf16 autocast on CUDA for the forward and loss of a block (RAII; restores the
// previous state). A no-op when disabled or on the CPU. The libtorch 1.13 / 2.x API difference is
// handled in autocast.cpp (torch 2.4 renamed the calls).
#pragma once

namespace autothink::train {

class AutocastScope {
 public:
  explicit AutocastScope(bool enabled);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool enabled_ = false, previous_ = false;
};

}  // namespace autothink::train
