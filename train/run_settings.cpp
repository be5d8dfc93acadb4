// Range checks of the shared optimizer and run settings.
#include "train/run_settings.hpp"

#include <string>

#include "core/error.hpp"

namespace autothink::train {
namespace {

[[noreturn]] void out_of_range(const core::Config& section, const std::string& key, const std::string& what) {
  throw Error(section.full_key(key) + " " + what, section.where(key));
}

}  // namespace

void OptimizerSettings::check(const core::Config& section) const {
  if (lr <= 0) out_of_range(section, "lr", "must be > 0");
  if (min_lr < 0 || min_lr > lr) out_of_range(section, "min_lr", "must be within [0, lr]");
  if (warmup < 0) out_of_range(section, "warmup", "must be >= 0");
}

void RunSettings::check(const core::Config& section) const {
  if (keep < 1) out_of_range(section, "keep", "must be >= 1");
}

}  // namespace autothink::train
