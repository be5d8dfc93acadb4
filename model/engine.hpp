// The one generation engine: a slot-based KV cache shared by many sequences of different lengths;
// each step() admits waiting sequences (batched prefill) and decodes one token for every active
// one (continuous batching: sequences join and leave between steps). Sampling per sequence with
// its own seeded RNG, stop tokens and strings, max tokens, logits processors, a token rewriter
// (the thinking budget: a cue for an early "</think>", a forced close at the maximum) and a
// per-token callback (streaming).
// Not thread-safe: one thread (the trainer's, or the server's scheduler) owns an Engine.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "model/sampler.hpp"

namespace autothink::model {

class Qwen2Model;
class KVCache;
struct SteeringVector;
struct ResidualHooks;

// What a logits processor or a token callback may look at.
struct SequenceView {
  uint64_t id;
  const std::vector<int64_t>& prompt;
  const std::vector<int64_t>& generated;
  const std::string& text;  // decoded generated text so far (when the engine has a detokenizer)
};

// Edits the f32 logits (length vocab) of the next token in place.
using LogitsProcessor = std::function<void(const SequenceView&, float* logits, int64_t vocab)>;
// Called with each sampled token before it is appended: returns the tokens to append instead (the
// first now, the rest forced on the following steps, without sampling and without calling the
// rewriter); empty keeps the sampled token. The thinking budget's cues and forced </think> use it.
using TokenRewriter = std::function<std::vector<int64_t>(const SequenceView&, int64_t sampled)>;
// Called before each forward that includes the sequence (its prefill, then every decode step):
// returns the steering vector to add at the sequence's last position (model/steering.hpp), or null.
using SteeringProvider = std::function<const SteeringVector*(const SequenceView&)>;
// Called after each new token (already appended); `piece` is the text now safe to stream: it may
// be empty while a tail that could start a stop string is held back. Pieces add up to the final text.
// Returning false cancels the sequence (e.g. the client went away).
using TokenCallback = std::function<bool(const SequenceView&, int64_t token, const std::string& piece)>;

struct SequenceResult {
  uint64_t id = 0;
  std::vector<int64_t> tokens;  // generated tokens, a final stop token included
  std::string text;             // decoded, without the stop token or stop string
  std::string finish_reason;    // "stop" | "length" | "cancelled"
  int prompt_tokens = 0;
};
using FinishCallback = std::function<void(const SequenceResult&)>;

struct SequenceRequest {
  std::vector<int64_t> prompt;
  SamplingParams sampling;
  uint64_t seed = 0;
  int max_tokens = 256;
  std::vector<int64_t> stop_ids;          // generating one of these finishes with "stop"
  std::vector<std::string> stop_strings;  // text stops (needs EngineOptions::token_bytes)
  std::vector<LogitsProcessor> logits_processors;
  TokenRewriter rewrite;
  SteeringProvider steer;
  TokenCallback on_token;
  FinishCallback on_finish;
};

struct EngineOptions {
  int64_t max_batch = 16;     // KV-cache slots = sequences decoded together
  int64_t max_len = 0;        // context per sequence; 0 = the model's max_position_embeddings
  int64_t prefill_tokens = 4096;  // most prompt tokens prefilled in one step (at least one prompt)
  std::function<std::string(int64_t)> token_bytes;  // detokenizer; enables text and stop strings
  bool steer_last_row_only = false;  // optillm's [-1, -1, :]: only a batch's last row is steered
};

struct EngineStats {
  uint64_t prompt_tokens = 0, generated_tokens = 0, steps = 0;
};

class Engine {
 public:
  Engine(std::shared_ptr<Qwen2Model> model, EngineOptions options);
  ~Engine();

  // Queues a sequence; returns its id. Throws autothink::Error for a prompt that cannot fit.
  uint64_t add(SequenceRequest request);
  // Cancels a queued or running sequence (finishes with "cancelled" at the next step).
  void cancel(uint64_t id);
  // One scheduling step: prefill newly admitted sequences, decode one token for the rest.
  // Returns true while sequences remain (queued or active).
  bool step();
  bool idle() const { return waiting_.empty() && active_.empty(); }
  size_t waiting() const { return waiting_.size(); }
  size_t active() const { return active_.size(); }
  // Finished results not yet taken (those without an on_finish callback).
  std::vector<SequenceResult> take_finished();
  // Convenience: runs these requests to completion, results in request order.
  std::vector<SequenceResult> generate(std::vector<SequenceRequest> requests);

  const EngineOptions& options() const { return options_; }
  const EngineStats& stats() const { return stats_; }
  Qwen2Model& model() { return *model_; }

 private:
  struct Sequence;
  void admit_and_prefill();
  // The steering adds for a batch whose row b's last position is cols[b].
  void steering_hooks(const std::vector<Sequence*>& batch, const std::vector<int64_t>& cols, ResidualHooks& hooks);
  void decode_active();
  // Samples and appends the next token from `logits` (f32, vocab); may finish the sequence.
  void advance(Sequence& seq, float* logits);
  void finish(Sequence& seq, const std::string& reason);
  void release_finished();

  std::shared_ptr<Qwen2Model> model_;
  EngineOptions options_;
  std::unique_ptr<KVCache> cache_;
  int64_t vocab_ = 0;
  uint64_t next_id_ = 1;
  std::deque<std::unique_ptr<Sequence>> waiting_;
  std::map<uint64_t, std::unique_ptr<Sequence>> active_;  // by id; ordered so batches are stable
  std::vector<int64_t> free_slots_;
  std::vector<SequenceResult> finished_;
  EngineStats stats_;
};

}  // namespace autothink::model
