// KD helps: a student distilled from a trained teacher (online KD, and offline from a top-k
// dump) reaches a lower held-out loss than the same student trained with CE alone for the same
// steps, with fixed seeds. The teacher is a larger model pretrained here first.
#include <gtest/gtest.h>

#include "trainer_run.hpp"

namespace autothink::train {
namespace {
using namespace testrun;
namespace fs = std::filesystem;

double final_dev_loss(const fs::path& run) {
  auto all = read_metrics(run);
  for (auto it = all.rbegin(); it != all.rend(); ++it)
    if (it->contains("dev_loss")) return (*it)["dev_loss"].get<double>();
  return INFINITY;
}

TEST(kd, distilled_student_beats_ce_only_student) {
  auto dir = autothink::testing::temp_dir("kd-slow");
  auto cfg = write_tiny_config(dir, "", 160);
  // The forced turns only (no auto-judge copies): this budget was sized for two turns a record.
  const std::string base = "--config " + cfg.string() +
                           " --set train.eval_every=0 --set train.eval_docs=16"
                           " --set 'data.auto_judge_on=\"\"' --set 'data.auto_judge_off=\"\"'";
  // Teacher: wider, trained longer on all records.
  auto teacher = train_cli(base + " --out " + (dir / "teacher").string() +
                           " --set model.hidden_size=64 --set model.intermediate_size=128 --set model.mtp_depth=0"
                           " --set train.steps=120 --set train.batch_size=8 --set train.lr=3e-3 --set train.warmup=10");
  ASSERT_EQ(teacher.exit_code, 0) << teacher.output;
  // Students: the tiny shape, few steps on only 16 of the records — the teacher's distribution
  // carries what the student's own data cannot.
  testdata::write_records(dir / "small.jsonl", 0, 16);
  const std::string student = base + " --set data.train=[" + (dir / "small.jsonl").string() + "] --set model.mtp_depth=0"
                                     " --set train.steps=40 --set train.batch_size=8 --set train.lr=1e-2"
                                     " --set train.min_lr=1e-3 --set train.warmup=3";
  auto ce_only = train_cli(student + " --out " + (dir / "ce").string());
  ASSERT_EQ(ce_only.exit_code, 0) << ce_only.output;
  auto kd = train_cli(student + " --out " + (dir / "kd").string() + " --set train.stage=distill --set train.teacher=" +
                      (dir / "teacher" / "model").string() + " --set train.kd_weight=1.0 --set train.kd_temperature=1.0");
  ASSERT_EQ(kd.exit_code, 0) << kd.output;
  double teacher_dev = final_dev_loss(dir / "teacher"), ce_dev = final_dev_loss(dir / "ce"), kd_dev = final_dev_loss(dir / "kd");
  RecordProperty("teacher_dev", std::to_string(teacher_dev));
  RecordProperty("ce_dev", std::to_string(ce_dev));
  RecordProperty("kd_dev", std::to_string(kd_dev));
  EXPECT_LT(teacher_dev, ce_dev);
  EXPECT_LT(kd_dev, ce_dev - 0.02) << "teacher " << teacher_dev << ", CE-only " << ce_dev << ", KD " << kd_dev;

  // Offline KD from a top-k dump reaches (about) the same place as online KD.
  auto dump = autothink::testing::run_command(
      autothink::testing::autothink_binary() + " train dump-teacher --teacher " + (dir / "teacher" / "model").string() +
          " --data " + (dir / "small.jsonl").string() + " --out " + (dir / "topk").string() + " --top-k 16 --config " +
          cfg.string() + " --set 'data.auto_judge_on=\"\"' --set 'data.auto_judge_off=\"\"'", true);
  ASSERT_EQ(dump.exit_code, 0) << dump.output;
  auto offline = train_cli(student + " --out " + (dir / "kd-topk").string() + " --set train.stage=distill --set train.teacher_topk=" +
                           (dir / "topk").string() + " --set train.kd_weight=1.0 --set train.kd_temperature=1.0");
  ASSERT_EQ(offline.exit_code, 0) << offline.output;
  double topk_dev = final_dev_loss(dir / "kd-topk");
  EXPECT_LT(topk_dev, ce_dev - 0.02) << "top-k KD " << topk_dev << ", CE-only " << ce_dev;
}

}  // namespace
}  // namespace autothink::train
