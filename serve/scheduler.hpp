// serve::Scheduler — the ONE thread that drives the engine over all active requests (continuous
// batching: requests join and leave between steps). I/O threads submit jobs through a queue and
// never block on the model; token and finish callbacks run on the scheduler thread (they post to
// the connection). Admission is bounded: more than max_batch + max_queue outstanding sequences is
// an overload (the caller answers 429 + Retry-After); after shutdown() begins, submissions are
// refused (503).
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "serve/engine_backend.hpp"
#include "serve/metrics.hpp"

namespace autothink::serve {

struct SchedulerOptions {
  size_t max_queue = 64;  // sequences allowed to wait beyond the engine's batch slots
};

// A group of sequences (one request, n samples) admitted together.
struct Job {
  std::vector<model::SequenceRequest> sequences;  // their on_token / on_finish run on the scheduler thread
  // Called (scheduler thread) instead of any on_finish when the engine refuses the job.
  std::function<void(const std::string& message)> on_error;
};

enum class Admission { accepted, overloaded, shutting_down };

class Scheduler {
 public:
  Scheduler(std::unique_ptr<EngineBackend> engine, SchedulerOptions options, Metrics* metrics = nullptr);
  ~Scheduler();  // shutdown(0)
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Any thread. On `accepted`, *job_id (if given) identifies the job for cancel().
  Admission submit(Job job, uint64_t* job_id = nullptr);
  // Any thread: cancels the job's sequences (they finish with "cancelled").
  void cancel(uint64_t job_id);
  // Refuses new jobs, lets running ones finish for up to `grace`, cancels the rest, and joins the
  // thread. Idempotent.
  void shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(0));

  size_t outstanding() const { return outstanding_.load(); }  // sequences submitted, not finished
  size_t capacity() const { return capacity_; }
  int64_t context_length() const { return context_length_; }
  bool draining() const { return draining_.load(); }

 private:
  struct Pending {
    uint64_t id;
    Job job;
  };
  void run();
  void admit(Pending pending);
  void update_gauges();

  std::unique_ptr<EngineBackend> engine_;
  SchedulerOptions options_;
  Metrics* metrics_;
  size_t capacity_;
  int64_t context_length_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> incoming_;
  std::vector<uint64_t> cancels_;
  bool stop_ = false, cancel_all_ = false;
  std::atomic<bool> draining_{false};
  std::atomic<size_t> outstanding_{0};
  uint64_t next_job_ = 1;

  // Scheduler thread only.
  std::map<uint64_t, std::vector<uint64_t>> job_sequences_;  // job -> engine ids still running
  std::deque<std::pair<std::chrono::steady_clock::time_point, uint64_t>> recent_tokens_;
  uint64_t tokens_since_ = 0;

  std::thread thread_;
};

}  // namespace autothink::serve
