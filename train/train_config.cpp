// Reading and checking the train / data / model sections.
#include "train/train_config.hpp"

#include "core/config_schema.hpp"
#include "core/error.hpp"

namespace autothink::train {

TrainConfig read_train_config(const core::Config& root) {
  TrainConfig c;
  c.train = core::read_section<TrainSection>(root, "train");
  c.data = core::read_section<DataSection>(root, "data");
  c.model = core::read_section<ModelSection>(root, "model");
  c.has_model_section = root.has("model");
  c.resolved_yaml = root.dump();
  core::Config t = root.section("train");
  auto bad = [&](const std::string& key, const std::string& what, const std::string& hint = "") {
    throw Error(t.full_key(key) + " " + what, t.where(key), hint);
  };
  const auto& s = c.train;
  if (s.steps < 1) bad("steps", "must be >= 1");
  if (s.batch_size < 1) bad("batch_size", "must be >= 1");
  if (s.grad_accum < 1) bad("grad_accum", "must be >= 1");
  s.optimizer.check(t);
  s.run.check(t);
  if (s.kd_temperature <= 0) bad("kd_temperature", "must be > 0");
  if (s.stage == Stage::distill && s.teacher.empty() && s.teacher_topk.empty())
    bad("teacher", "is required for stage distill", "set train.teacher: MODEL_DIR or train.teacher_topk: DUMP_DIR");
  if (!s.teacher.empty() && !s.teacher_topk.empty())
    bad("teacher_topk", "and train.teacher are exclusive", "use an online teacher or a top-k dump, not both");
  if (s.prune_teacher && s.teacher.empty())
    bad("prune_teacher", "needs an online teacher to cut the student from", "set train.teacher: MODEL_DIR");
  if (s.prune_teacher && !s.init.empty())
    bad("prune_teacher", "and train.init are exclusive", "the student starts either from a folder or from the pruned teacher");
  if (s.prune_docs < 1) bad("prune_docs", "must be >= 1");
  if (c.data.train.empty())
    throw Error("data.train is required (training JSONL files)", root.source(), "add data.train: [FILE.jsonl]");
  if (c.data.max_len < 2) throw Error("data.max_len must be >= 2", root.section("data").where("max_len"));
  return c;
}

data::RenderStyle render_style_for(Stage stage) {
  return stage == Stage::sft ? data::RenderStyle::own : data::RenderStyle::dual_mode;
}

}  // namespace autothink::train
