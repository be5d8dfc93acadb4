#include "train/run_folder.hpp"

#include <algorithm>
#include <vector>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/log.hpp"

namespace autothink::train {
namespace fs = std::filesystem;

StepPlan StepPlan::make(int64_t steps, int64_t stop_at, int64_t save_every) {
  return {steps, stop_at > 0 ? std::min(stop_at, steps) : steps, save_every};
}

bool StepPlan::saves_after(int64_t done) const {
  return (save_every > 0 && done % save_every == 0) || (done == end_step && stops_early());
}

nlohmann::json special_token_ids(const data::Tokenizer& tokenizer) {
  nlohmann::json ids = nlohmann::json::object();
  for (int i = 0; i < format::kSpecialCount; ++i)
    ids[std::string(format::kSpecialLiterals[i])] = tokenizer.special_id(static_cast<format::Special>(i));
  return ids;
}

RunFolder::RunFolder(fs::path dir, Distributed& dist, bool resume, const std::string& resolved_yaml)
    : dir_(std::move(dir)), dist_(dist), resume_(resume) {
  if (!dist_.is_main()) return;
  core::ensure_dir(dir_.string());
  if (!resume_ && latest_checkpoint(dir_))
    throw Error("the run folder already holds checkpoints", dir_.string(),
                "pass --resume to continue it, or choose another --out");
  core::atomic_write_file((dir_ / "config.yaml").string(), resolved_yaml + "\n");
}

std::optional<TrainerState> RunFolder::resume(model::Qwen2Model& net, torch::optim::Optimizer& optimizer) {
  if (!resume_) return std::nullopt;
  auto checkpoint = latest_checkpoint(dir_);
  if (!checkpoint) {
    log::warn("--resume: no checkpoint in ", dir_.string(), "; starting from step 0");
    return std::nullopt;
  }
  TrainerState state = load_checkpoint(*checkpoint, net, optimizer);
  log::info("resumed from ", checkpoint->string(), " at step ", state.step);
  return state;
}

void RunFolder::open_metrics(int64_t start_step) {
  if (!dist_.is_main()) return;
  const fs::path path = dir_ / "metrics.jsonl";
  if (resume_ && fs::exists(path)) {
    // A resumed run rewrites what came after its checkpoint.
    std::vector<nlohmann::json> kept;
    core::read_jsonl(path.string(), [&](const nlohmann::json& j, int64_t) {
      if (j.value("step", int64_t{0}) <= start_step) kept.push_back(j);
    }, core::JsonlOptions{true});
    core::write_jsonl(path.string(), kept);
  } else if (!resume_) {
    fs::remove(path);
  }
  metrics_ = std::make_unique<core::JsonlWriter>(path.string(), core::JsonlWriter::Mode::append);
}

void RunFolder::write_metrics(const nlohmann::json& line) {
  if (!metrics_) return;
  metrics_->write(line);
  metrics_->flush();
}

void RunFolder::save_checkpoint(model::Qwen2Model& net, torch::optim::Optimizer& optimizer, const TrainerState& state,
                                const model::SaveOptions& save_options, int64_t keep) {
  if (dist_.is_main()) {
    auto path = train::save_checkpoint(dir_, net, optimizer, state, save_options, keep);
    log::info("checkpoint ", path.string());
  }
  dist_.barrier();
}

fs::path RunFolder::finish(const StepPlan& plan, model::Qwen2Model& net, const model::SaveOptions& save_options) {
  if (plan.stops_early()) {
    dist_.barrier();
    return {};
  }
  const fs::path model_dir = dir_ / "model";
  if (dist_.is_main()) {
    model::save_model(net, model_dir, save_options);
    log::info("model written to ", model_dir.string());
  }
  dist_.barrier();
  return model_dir;
}

}  // namespace autothink::train
