// AdamW (decoupled weight decay) over a model's parameters, in two groups: matrices and
// embeddings decay, norms and biases (1-D tensors) do not. set_learning_rate updates both groups.
#pragma once
#include <torch/torch.h>

#include <memory>

namespace autothink::train {

struct AdamWSettings {
  double lr = 1e-3, weight_decay = 0.1, beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
};

std::unique_ptr<torch::optim::AdamW> make_adamw(const std::vector<torch::Tensor>& params, const AdamWSettings& settings);
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace autothink::train
