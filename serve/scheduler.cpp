// The scheduler thread (see scheduler.hpp).
#include "serve/scheduler.hpp"

#include <algorithm>
#include <exception>

#include "core/log.hpp"

namespace autothink::serve {

Scheduler::Scheduler(std::unique_ptr<EngineBackend> engine, SchedulerOptions options, Metrics* metrics)
    : engine_(std::move(engine)), options_(options), metrics_(metrics) {
  capacity_ = static_cast<size_t>(engine_->max_batch()) + options_.max_queue;
  context_length_ = engine_->context_length();
  thread_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() { shutdown(); }

Admission Scheduler::submit(Job job, uint64_t* job_id) {
  const size_t n = job.sequences.size();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (draining_.load() || stop_) return Admission::shutting_down;
    if (outstanding_.load() + n > capacity_) return Admission::overloaded;
    outstanding_ += n;
    const uint64_t id = next_job_++;
    if (job_id) *job_id = id;
    incoming_.push_back(Pending{id, std::move(job)});
  }
  wake_.notify_one();
  return Admission::accepted;
}

void Scheduler::cancel(uint64_t job_id) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancels_.push_back(job_id);
  }
  wake_.notify_one();
}

void Scheduler::shutdown(std::chrono::milliseconds grace) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!thread_.joinable()) return;
    draining_ = true;
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (outstanding_.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancel_all_ = true;
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Scheduler::admit(Pending pending) {
  const uint64_t job = pending.id;
  auto failed = std::make_shared<bool>(false);
  std::vector<uint64_t> added;
  size_t index = 0;
  try {
    for (; index < pending.job.sequences.size(); ++index) {
      auto request = std::move(pending.job.sequences[index]);
      auto on_token = std::move(request.on_token);
      auto on_finish = std::move(request.on_finish);
      request.on_token = [this, on_token](const model::SequenceView& view, int64_t token, const std::string& piece) {
        ++tokens_since_;
        if (metrics_) metrics_->add_completion_tokens(1);
        return on_token ? on_token(view, token, piece) : true;
      };
      request.on_finish = [this, job, failed, on_finish](const model::SequenceResult& result) {
        auto it = job_sequences_.find(job);
        if (it != job_sequences_.end()) {
          auto& ids = it->second;
          ids.erase(std::remove(ids.begin(), ids.end(), result.id), ids.end());
          if (ids.empty()) job_sequences_.erase(it);
        }
        outstanding_ -= 1;
        if (!*failed && on_finish) on_finish(result);
      };
      const uint64_t id = engine_->add(std::move(request));
      added.push_back(id);
      job_sequences_[job].push_back(id);
    }
  } catch (const std::exception& e) {
    *failed = true;
    outstanding_ -= pending.job.sequences.size() - added.size();
    for (uint64_t id : added) engine_->cancel(id);
    log::warn("serve: engine refused a request: ", e.what());
    if (pending.job.on_error) pending.job.on_error(e.what());
  }
}

void Scheduler::update_gauges() {
  if (!metrics_) return;
  size_t incoming = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    incoming = incoming_.size();
  }
  metrics_->set_queue_depth(engine_->waiting() + incoming);
  metrics_->set_active_sequences(engine_->active());
  const auto now = std::chrono::steady_clock::now();
  if (tokens_since_ > 0) recent_tokens_.emplace_back(now, tokens_since_);
  tokens_since_ = 0;
  while (!recent_tokens_.empty() && now - recent_tokens_.front().first > std::chrono::seconds(5))
    recent_tokens_.pop_front();
  uint64_t total = 0;
  for (auto& [t, n] : recent_tokens_) total += n;
  double span = recent_tokens_.empty() ? 0
                                       : std::chrono::duration<double>(now - recent_tokens_.front().first).count();
  metrics_->set_tokens_per_second(recent_tokens_.size() > 1 && span > 0 ? (total - recent_tokens_.front().second) / span : 0.0);
}

void Scheduler::run() {
  for (;;) {
    std::deque<Pending> incoming;
    std::vector<uint64_t> cancels;
    bool cancel_all = false, stop = false;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] {
        return stop_ || cancel_all_ || !incoming_.empty() || !cancels_.empty() || !engine_->idle();
      });
      incoming.swap(incoming_);
      cancels.swap(cancels_);
      cancel_all = cancel_all_;
      stop = stop_;
    }
    for (auto& p : incoming) admit(std::move(p));
    if (cancel_all) {
      for (auto& [job, ids] : job_sequences_)
        for (uint64_t id : ids) engine_->cancel(id);
    } else {
      for (uint64_t job : cancels) {
        auto it = job_sequences_.find(job);
        if (it != job_sequences_.end())
          for (uint64_t id : it->second) engine_->cancel(id);
      }
    }
    if (!engine_->idle()) {
      try {
        engine_->step();
      } catch (const std::exception& e) {
        // The engine's state is unknown: end every request rather than serve garbage.
        log::error("serve: engine step failed, cancelling all requests: ", e.what());
        for (auto& [job, ids] : job_sequences_)
          for (uint64_t id : ids) engine_->cancel(id);
      }
    }
    update_gauges();
    if (stop && engine_->idle()) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (incoming_.empty()) break;
    }
  }
  if (metrics_) {
    metrics_->set_active_sequences(0);
    metrics_->set_queue_depth(0);
  }
}

}  // namespace autothink::serve
