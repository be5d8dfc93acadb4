// `autothink demo --seed N` moves every seed of the run: the stage configs it writes carry the
// moved seeds (stages that shared one still share it), the data differ from the unmoved run,
// and a stage whose random command has no explicit seed is refused, naming it. The final report
// is checked against demo.targets: PASS/MISS lines, and --strict fails the run on a miss.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_paths.hpp"

namespace {

namespace fs = std::filesystem;
using autothink::testing::run_command;

// Two synth stages with the same seed (the second writes the same queries again) and, optionally,
// a train section without a seed.
fs::path write_demo(const fs::path& dir, bool unseeded_train = false) {
  fs::create_directories(dir);
  std::ofstream y(dir / "demo.yaml");
  y << "demo:\n  stages:\n";
  for (const char* name : {"a", "b"})
    y << "    - name: synth-" << name << "\n      command: data synth\n      args: [\"--out\", \"{out}/" << name << "\"]\n"
      << "      output: " << name << "/train.jsonl\n"
      << "      data: {synth: {seed: 40, easy_train: 20, easy_dev: 2, easy_test: 2, hard_train: 20, hard_dev: 2, hard_test: 2}}\n";
  if (unseeded_train) y << "      train: {steps: 1}\n";
  return dir / "demo.yaml";
}

}  // namespace

TEST(demo_seed, seed_moves_every_seed_and_changes_the_data) {
  auto dir = autothink::testing::temp_dir("demo-seed");
  const std::string bin = autothink::testing::autothink_binary();
  auto cfg = write_demo(dir);
  auto base = run_command(bin + " demo --config " + cfg.string() + " --out " + (dir / "s0").string(), true);
  ASSERT_EQ(base.exit_code, 0) << base.output;
  auto moved = run_command(bin + " demo --config " + cfg.string() + " --seed 7 --out " + (dir / "s7").string(), true);
  ASSERT_EQ(moved.exit_code, 0) << moved.output;
  for (const char* stage : {"1-synth-a.yaml", "2-synth-b.yaml"}) {
    auto text = autothink::testing::read_text_file(dir / "s7" / "configs" / stage);
    EXPECT_NE(text.find("seed: 47"), std::string::npos) << stage << ":\n" << text;
    EXPECT_NE(autothink::testing::read_text_file(dir / "s0" / "configs" / stage).find("seed: 40"), std::string::npos);
  }
  // The two stages of one run still agree; the runs differ.
  EXPECT_EQ(autothink::testing::read_text_file(dir / "s7" / "a" / "train.jsonl"), autothink::testing::read_text_file(dir / "s7" / "b" / "train.jsonl"));
  EXPECT_NE(autothink::testing::read_text_file(dir / "s7" / "a" / "train.jsonl"), autothink::testing::read_text_file(dir / "s0" / "a" / "train.jsonl"));
}

TEST(demo_seed, a_random_stage_without_an_explicit_seed_is_named) {
  auto dir = autothink::testing::temp_dir("demo-seed-missing");
  auto cfg = write_demo(dir, /*unseeded_train=*/true);
  auto r = run_command(autothink::testing::autothink_binary() + " demo --config " + cfg.string() + " --seed 1 --out " +
                           (dir / "out").string(),
                       true);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("stage 'synth-b' has a train section without a seed"), std::string::npos) << r.output;
}

TEST(demo_seed, targets_print_pass_or_miss_and_strict_fails_on_a_miss) {
  auto dir = autothink::testing::temp_dir("demo-targets");
  fs::create_directories(dir / "out" / "eval");
  // A finished eval report (the stage output exists, so the stage is skipped): easy auto thinks
  // too often (20% > 10%), everything else meets its target.
  std::ofstream(dir / "out" / "eval" / "eval.json") << R"({"groups": [
    {"name": "easy", "auto": {"accuracy": 0.95, "think_on_rate": 0.2, "mean_completion_tokens": 14},
     "on": {"accuracy": 0.97, "think_on_rate": 1.0, "mean_completion_tokens": 48},
     "off": {"accuracy": 0.94, "think_on_rate": 0.0, "mean_completion_tokens": 5}, "judge_accuracy": 0.9},
    {"name": "hard", "auto": {"accuracy": 0.95, "think_on_rate": 1.0, "mean_completion_tokens": 77},
     "on": {"accuracy": 0.96, "think_on_rate": 1.0, "mean_completion_tokens": 69},
     "off": {"accuracy": 0.06, "think_on_rate": 0.0, "mean_completion_tokens": 6}, "judge_accuracy": 0.93},
    {"name": "all", "auto": {"accuracy": 0.95, "think_on_rate": 0.7, "mean_completion_tokens": 56},
     "on": {"accuracy": 0.96, "think_on_rate": 1.0, "mean_completion_tokens": 62},
     "off": {"accuracy": 0.35, "think_on_rate": 0.0, "mean_completion_tokens": 6}, "judge_accuracy": 0.92}]})";
  std::ofstream(dir / "demo.yaml") << "demo:\n  targets: eval/eval.json\n  stages:\n"
                                      "    - name: eval\n      command: eval\n      output: eval/eval.json\n";
  const std::string cmd = autothink::testing::autothink_binary() + " demo --config " + (dir / "demo.yaml").string() +
                          " --out " + (dir / "out").string();
  auto loose = run_command(cmd, true);
  EXPECT_EQ(loose.exit_code, 0) << loose.output;
  EXPECT_NE(loose.output.find("MISS  easy think-on rate"), std::string::npos) << loose.output;
  EXPECT_NE(loose.output.find("PASS  hard think-on rate"), std::string::npos) << loose.output;
  EXPECT_NE(loose.output.find("PASS  judge accuracy"), std::string::npos) << loose.output;
  auto strict = run_command(cmd + " --strict", true);
  EXPECT_NE(strict.exit_code, 0) << strict.output;
  EXPECT_NE(strict.output.find("missed AutoThink targets"), std::string::npos) << strict.output;
  // --strict with no report at all is a miss too, not a silent pass.
  fs::remove(dir / "out" / "eval" / "eval.json");
  std::ofstream(dir / "demo.yaml") << "demo:\n  targets: eval/eval.json\n  stages:\n"
                                      "    - name: synth\n      command: data synth\n      args: [\"--out\", \"{out}/d\"]\n"
                                      "      output: d/train.jsonl\n"
                                      "      data: {synth: {seed: 1, easy_train: 4, easy_dev: 1, easy_test: 1, hard_train: 4, hard_dev: 1, hard_test: 1}}\n";
  auto none = run_command(cmd + " --strict", true);
  EXPECT_NE(none.exit_code, 0) << none.output;
  EXPECT_NE(none.output.find("no eval report"), std::string::npos) << none.output;
}
