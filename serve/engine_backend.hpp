// What the scheduler drives: the batched engine's add / cancel / step surface, as an interface so
// the serving code is tested with a scripted engine too. ModelEngineBackend wraps model::Engine
// (header-only, so linking the serve library never needs the engine's object code).
#pragma once
#include <cstdint>
#include <memory>

#include "model/engine.hpp"

namespace autothink::serve {

class EngineBackend {
 public:
  virtual ~EngineBackend() = default;
  virtual uint64_t add(model::SequenceRequest request) = 0;  // may throw autothink::Error
  virtual void cancel(uint64_t id) = 0;
  virtual bool step() = 0;  // true while sequences remain
  virtual bool idle() const = 0;
  virtual size_t active() const = 0;
  virtual size_t waiting() const = 0;
  virtual int64_t context_length() const = 0;  // tokens per sequence (prompt + generated)
  virtual int64_t max_batch() const = 0;
};

template <class EngineT = model::Engine>
class ModelEngineBackend : public EngineBackend {
 public:
  explicit ModelEngineBackend(std::unique_ptr<EngineT> engine) : engine_(std::move(engine)) {}
  uint64_t add(model::SequenceRequest request) override { return engine_->add(std::move(request)); }
  void cancel(uint64_t id) override { engine_->cancel(id); }
  bool step() override { return engine_->step(); }
  bool idle() const override { return engine_->idle(); }
  size_t active() const override { return engine_->active(); }
  size_t waiting() const override { return engine_->waiting(); }
  int64_t context_length() const override { return engine_->options().max_len; }
  int64_t max_batch() const override { return engine_->options().max_batch; }
  EngineT& engine() { return *engine_; }

 private:
  std::unique_ptr<EngineT> engine_;
};

}  // namespace autothink::serve
