// GradientSync: bucket layout, gradient hooks that start buckets in order, and finish().
#include "train/grad_sync.hpp"

#include <torch/torch.h>

#include <exception>
#include <functional>
#include <mutex>

#include "core/error.hpp"
#include "train/process_group.hpp"

namespace autothink::train {

struct GradientSync::State {
  struct GradBucket {
    at::Tensor flat;                  // the bucket's gradients, back to back
    std::vector<std::size_t> params;  // indices into State::params
    std::vector<int64_t> offsets;     // where each param's gradient starts in `flat`
    std::vector<bool> filled;
    std::size_t filled_count = 0;
    bool started = false;
    std::function<void()> wait;
  };

  Distributed* dist = nullptr;
  bool overlap = true;
  std::vector<at::Tensor> params;
  std::vector<std::pair<std::size_t, std::size_t>> slot_of;  // param → (bucket, position)
  std::vector<GradBucket> buckets;
  std::vector<unsigned> hooks;
  std::mutex mutex;  // autograd may run hooks on its device threads
  bool armed = false;
  std::size_t next_to_start = 0;
  std::size_t started_in_backward = 0;
  std::exception_ptr hook_error;

  // Starts every full bucket from next_to_start on, in index order, so all ranks issue the
  // same sequence of collectives whatever order the hooks fire in.
  void start_ready_buckets(bool from_hook) {
    while (next_to_start < buckets.size()) {
      auto& bucket = buckets[next_to_start];
      if (bucket.filled_count < bucket.params.size()) break;
      bucket.wait = dist->start_all_reduce_sum(bucket.flat);
      bucket.started = true;
      if (from_hook) ++started_in_backward;
      ++next_to_start;
    }
  }

  void fill(std::size_t param_index, const at::Tensor& grad) {
    auto [b, k] = slot_of[param_index];
    auto& bucket = buckets[b];
    if (bucket.filled[k]) return;
    auto& param = params[param_index];
    auto view = bucket.flat.narrow(0, bucket.offsets[k], param.numel());
    if (grad.defined())
      view.copy_(grad.reshape(-1));
    else
      view.zero_();
    bucket.filled[k] = true;
    ++bucket.filled_count;
  }

  // Runs before autograd accumulates `grad` into .grad(): the final gradient is their sum.
  void on_grad(std::size_t param_index, const at::Tensor& grad) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed || hook_error) return;
    try {
      torch::NoGradGuard no_grad;
      const auto& accumulated = params[param_index].grad();
      fill(param_index, accumulated.defined() ? accumulated + grad : grad);
      start_ready_buckets(true);
    } catch (...) {
      hook_error = std::current_exception();  // rethrown by finish(), not inside autograd
    }
  }
};

GradientSync::GradientSync(Distributed& dist, const std::vector<at::Tensor>& params, GradSyncOptions options)
    : state_(std::make_shared<State>()) {
  auto& s = *state_;
  s.dist = &dist;
  s.overlap = options.overlap;
  if (!dist.is_distributed()) return;
  for (const auto& p : params)
    if (p.defined() && p.requires_grad()) s.params.push_back(p);

  const double limit_bytes = std::max(options.bucket_mb, 0.0) * 1024.0 * 1024.0;
  s.slot_of.resize(s.params.size());
  int64_t bucket_bytes = 0;
  // Reverse order: backward produces the last layers' gradients first.
  for (std::size_t j = s.params.size(); j-- > 0;) {
    const auto& p = s.params[j];
    const int64_t bytes = p.numel() * static_cast<int64_t>(p.element_size());
    bool new_bucket = s.buckets.empty();
    if (!new_bucket) {
      const auto& first = s.params[s.buckets.back().params.front()];
      new_bucket = first.scalar_type() != p.scalar_type() || first.device() != p.device() ||
                   static_cast<double>(bucket_bytes + bytes) > limit_bytes;
    }
    if (new_bucket) {
      s.buckets.emplace_back();
      bucket_bytes = 0;
    }
    auto& bucket = s.buckets.back();
    s.slot_of[j] = {s.buckets.size() - 1, bucket.params.size()};
    bucket.offsets.push_back(bucket_bytes / static_cast<int64_t>(p.element_size()));
    bucket.params.push_back(j);
    bucket.filled.push_back(false);
    bucket_bytes += bytes;
  }
  for (auto& bucket : s.buckets) {
    const auto& first = s.params[bucket.params.front()];
    const auto& last = s.params[bucket.params.back()];
    bucket.flat = torch::zeros({bucket.offsets.back() + last.numel()},
                               torch::TensorOptions().dtype(first.scalar_type()).device(first.device()));
  }

  if (s.overlap) {
    std::weak_ptr<State> weak = state_;
    for (std::size_t j = 0; j < s.params.size(); ++j)
      s.hooks.push_back(s.params[j].register_hook([weak, j](const at::Tensor& grad) {
        if (auto state = weak.lock()) state->on_grad(j, grad);
      }));
  }
}

GradientSync::~GradientSync() {
  for (std::size_t j = 0; j < state_->hooks.size(); ++j) state_->params[j].remove_hook(state_->hooks[j]);
}

void GradientSync::prepare() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->armed = state_->overlap && !state_->buckets.empty();
  state_->started_in_backward = 0;
}

void GradientSync::finish() {
  auto& s = *state_;
  std::lock_guard<std::mutex> lock(s.mutex);
  s.armed = false;
  if (s.buckets.empty()) return;
  torch::NoGradGuard no_grad;

  auto reset = [&s] {
    for (auto& bucket : s.buckets) {
      std::fill(bucket.filled.begin(), bucket.filled.end(), false);
      bucket.filled_count = 0;
      bucket.started = false;
      bucket.wait = nullptr;
    }
    s.next_to_start = 0;
  };
  try {
    if (s.hook_error) {
      auto error = s.hook_error;
      s.hook_error = nullptr;
      std::rethrow_exception(error);
    }
    // Whatever backward did not deliver through a hook is read from .grad() now.
    for (std::size_t j = 0; j < s.params.size(); ++j) s.fill(j, s.params[j].grad());
    s.start_ready_buckets(false);
    // Which parameters got a gradient on any rank: those get one everywhere, the others keep
    // none (as in one process, so the optimizer skips them). Issued after every bucket, so it is
    // the same collective on every rank.
    std::vector<float> has_grad(s.params.size());
    for (std::size_t j = 0; j < s.params.size(); ++j) has_grad[j] = s.params[j].grad().defined() ? 1.f : 0.f;
    auto has_grad_t = torch::tensor(has_grad).to(s.params.front().device());
    s.dist->start_all_reduce_sum(has_grad_t)();
    has_grad_t = has_grad_t.cpu();
    const float* anyone_has_grad = has_grad_t.data_ptr<float>();
    const double world = s.dist->world_size();
    for (auto& bucket : s.buckets) {
      bucket.wait();
      bucket.flat.div_(world);
      for (std::size_t k = 0; k < bucket.params.size(); ++k) {
        auto& param = s.params[bucket.params[k]];
        auto mean = bucket.flat.narrow(0, bucket.offsets[k], param.numel()).view(param.sizes());
        if (param.grad().defined())
          param.mutable_grad().copy_(mean);
        else if (anyone_has_grad[bucket.params[k]] > 0)
          param.mutable_grad() = mean.clone();
      }
    }
  } catch (...) {
    reset();
    throw;
  }
  reset();
}

std::size_t GradientSync::bucket_count() const { return state_->buckets.size(); }

std::size_t GradientSync::buckets_started_in_backward() const { return state_->started_in_backward; }

}  // namespace autothink::train
