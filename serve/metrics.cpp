// Prometheus text rendering of serve::Metrics.
#include "serve/metrics.hpp"

#include <sstream>

namespace autothink::serve {

void Metrics::count_request(const std::string& endpoint, int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{endpoint, status}];
}

uint64_t Metrics::requests(const std::string& endpoint, int status) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = requests_.find({endpoint, status});
  return it == requests_.end() ? 0 : it->second;
}

void Metrics::count_think_mode(format::ThinkMode mode) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++think_modes_[static_cast<size_t>(mode)];
}

void Metrics::observe_ttft(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t i = 0; i < kTtftBuckets.size(); ++i)
    if (seconds <= kTtftBuckets[i]) ++ttft_buckets_[i];
  ++ttft_count_;
  ttft_sum_ += seconds;
}

std::string Metrics::prometheus() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::ostringstream o;
  o << "# HELP autothink_requests_total HTTP requests by endpoint and status.\n"
    << "# TYPE autothink_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    o << "autothink_requests_total{endpoint=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << "\n";
  o << "# HELP autothink_prompt_tokens_total Prompt tokens of admitted requests.\n"
    << "# TYPE autothink_prompt_tokens_total counter\n"
    << "autothink_prompt_tokens_total " << prompt_tokens_.load() << "\n"
    << "# HELP autothink_completion_tokens_total Generated tokens.\n"
    << "# TYPE autothink_completion_tokens_total counter\n"
    << "autothink_completion_tokens_total " << completion_tokens_.load() << "\n";
  o << "# HELP autothink_chat_choices_total Chat choices by the think mode the model took.\n"
    << "# TYPE autothink_chat_choices_total counter\n";
  uint64_t total = 0, on = 0;
  for (format::ThinkMode mode : {format::ThinkMode::on, format::ThinkMode::off, format::ThinkMode::unknown}) {
    const uint64_t n = think_modes_[static_cast<size_t>(mode)];
    total += n;
    if (mode == format::ThinkMode::on) on = n;
    o << "autothink_chat_choices_total{think_mode=\"" << to_string(mode) << "\"} " << n << "\n";
  }
  o << "# HELP autothink_think_on_share Share of chat choices that thought (think_mode on).\n"
    << "# TYPE autothink_think_on_share gauge\n"
    << "autothink_think_on_share " << (total ? static_cast<double>(on) / total : 0.0) << "\n";
  o << "# HELP autothink_queue_depth Sequences waiting for a batch slot.\n"
    << "# TYPE autothink_queue_depth gauge\n"
    << "autothink_queue_depth " << queue_depth_.load() << "\n"
    << "# HELP autothink_active_sequences Sequences in the running batch.\n"
    << "# TYPE autothink_active_sequences gauge\n"
    << "autothink_active_sequences " << active_sequences_.load() << "\n"
    << "# HELP autothink_generation_tokens_per_second Generated tokens per second over the last seconds of work.\n"
    << "# TYPE autothink_generation_tokens_per_second gauge\n"
    << "autothink_generation_tokens_per_second " << tokens_per_second_.load() << "\n";
  o << "# HELP autothink_time_to_first_token_seconds Time from request arrival to its first generated token.\n"
    << "# TYPE autothink_time_to_first_token_seconds histogram\n";
  for (size_t i = 0; i < kTtftBuckets.size(); ++i)
    o << "autothink_time_to_first_token_seconds_bucket{le=\"" << kTtftBuckets[i] << "\"} " << ttft_buckets_[i] << "\n";
  o << "autothink_time_to_first_token_seconds_bucket{le=\"+Inf\"} " << ttft_count_ << "\n"
    << "autothink_time_to_first_token_seconds_sum " << ttft_sum_ << "\n"
    << "autothink_time_to_first_token_seconds_count " << ttft_count_ << "\n";
  return o.str();
}

}  // namespace autothink::serve
