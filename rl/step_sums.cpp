#include "rl/step_sums.hpp"

#include <torch/torch.h>

#include <vector>

#include "core/error.hpp"

namespace autothink::rl {

double& StepSums::operator[](const std::string& key) {
  auto it = values_.find(key);
  AUTOTHINK_CHECK(it != values_.end(), "undeclared RL metric '" + key + "'");
  return it->second;
}

double StepSums::ratio(const std::string& a, const std::string& b) const {
  const double d = get(b);
  return d > 0 ? get(a) / d : 0.0;
}

void StepSums::reduce(train::Distributed& dist) {
  std::vector<double> flat;
  for (auto& [k, v] : values_) flat.push_back(v);
  auto t = torch::tensor(flat, torch::kDouble).to(dist.device());
  dist.all_reduce_sum(t);
  t = t.cpu();
  int64_t i = 0;
  for (auto& [k, v] : values_) v = t[i++].item<double>();
}

}  // namespace autothink::rl
