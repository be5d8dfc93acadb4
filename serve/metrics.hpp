// Server metrics in the Prometheus text format (GET /metrics): requests by endpoint and status,
// prompt / completion tokens, chat choices by think mode (and the think-on share), queue depth,
// active sequences, time to first token (histogram) and generation tokens/s. Thread-safe.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "data/format/think_mode.hpp"

namespace autothink::serve {

class Metrics {
 public:
  static constexpr std::array<double, 11> kTtftBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

  void count_request(const std::string& endpoint, int status);
  void add_prompt_tokens(uint64_t n) { prompt_tokens_ += n; }
  void add_completion_tokens(uint64_t n) { completion_tokens_ += n; }
  void count_think_mode(format::ThinkMode mode);  // one per chat choice
  void observe_ttft(double seconds);
  void set_queue_depth(size_t n) { queue_depth_ = n; }
  void set_active_sequences(size_t n) { active_sequences_ = n; }
  void set_tokens_per_second(double v) { tokens_per_second_ = v; }

  size_t queue_depth() const { return queue_depth_; }
  size_t active_sequences() const { return active_sequences_; }
  uint64_t requests(const std::string& endpoint, int status) const;

  std::string prometheus() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::array<uint64_t, 3> think_modes_{};  // by format::ThinkMode
  std::array<uint64_t, kTtftBuckets.size()> ttft_buckets_{};
  uint64_t ttft_count_ = 0;
  double ttft_sum_ = 0;
  std::atomic<uint64_t> prompt_tokens_{0}, completion_tokens_{0};
  std::atomic<size_t> queue_depth_{0}, active_sequences_{0};
  std::atomic<double> tokens_per_second_{0};
};

}  // namespace autothink::serve
