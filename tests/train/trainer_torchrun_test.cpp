// `autothink train` on 2 ranks under the venv's real torchrun (torch 2.x) (both launch styles): after N steps
// the loss equals a 1-process run with the same global batch (world × batch_size × grad_accum),
// because every loss term is normalised by the global count of loss tokens.
#include <gtest/gtest.h>

#include "train/torchrun.hpp"
#include "trainer_run.hpp"

namespace autothink::train {
namespace {
using namespace testrun;
using autothink::testing::LaunchStyle;
namespace fs = std::filesystem;

std::string trainer_torchrun_skip() {
#if !defined(AUTOTHINK_HAVE_GLOO)
  return "this build has no Gloo (libgloo-dev), so ranks cannot talk on CPU";
#else
  return autothink::testing::torchrun_unavailable();
#endif
}

std::string trainer_logs(const fs::path& dir) {
  std::string out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) {
      std::ifstream in(e.path());
      out += "--- " + e.path().string() + "\n" + std::string(std::istreambuf_iterator<char>(in), {});
    }
  return out;
}

void two_ranks_match_one_process(LaunchStyle style) {
  auto reason = trainer_torchrun_skip();
  if (!reason.empty()) GTEST_SKIP() << reason;
  auto dir = autothink::testing::temp_dir(style == LaunchStyle::standalone ? "train-2r-standalone" : "train-2r-agent");
  auto cfg = write_tiny_config(dir);
  const std::string steps = " --set train.steps=4 --set train.eval_every=2";
  auto one = train_cli("--config " + cfg.string() + " --out " + (dir / "one").string() + steps);
  ASSERT_EQ(one.exit_code, 0) << one.output;
  // Same global batch of 4: 2 ranks × 2 documents.
  auto cmd = autothink::testing::torchrun_command(
      style, 2, dir / "logs",
      autothink::testing::autothink_binary() + " train --config " + cfg.string() + " --out " + (dir / "two").string() + steps +
          " --set train.batch_size=2 --set train.dist_timeout_s=60 --no-progress");
  auto two = autothink::testing::run_command(cmd, true);
  ASSERT_EQ(two.exit_code, 0) << cmd << "\n" << two.output << trainer_logs(dir / "logs");
  for (int step = 1; step <= 4; ++step) {
    auto a = metrics_at(dir / "one", step), b = metrics_at(dir / "two", step);
    ASSERT_FALSE(a.is_null() || b.is_null()) << "step " << step;
    for (const char* key : {"loss", "ce", "mtp_1"})
      EXPECT_NEAR(a[key].get<double>(), b[key].get<double>(), 1e-5) << key << " at step " << step;
    EXPECT_EQ(a["tokens"], b["tokens"]) << "step " << step;
  }
  EXPECT_NEAR(metrics_at(dir / "one", 4)["dev_loss"].get<double>(), metrics_at(dir / "two", 4)["dev_loss"].get<double>(), 1e-5);
  EXPECT_LT(max_weight_diff(dir / "one" / "model" / "model.safetensors", dir / "two" / "model" / "model.safetensors"), 1e-4);
}

TEST(trainer_torchrun, two_ranks_standalone_match_one_process) { two_ranks_match_one_process(LaunchStyle::standalone); }

TEST(trainer_torchrun, two_ranks_agent_store_match_one_process) { two_ranks_match_one_process(LaunchStyle::agent_store); }

}  // namespace
}  // namespace autothink::train
