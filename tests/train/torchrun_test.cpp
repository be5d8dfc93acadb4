// Two ranks under the venv's real torchrun (torch 2.x), in both launch styles, running tests/train/dist_probe:
// rank 0's weights reach rank 1, scalars and tensors are reduced, and bucketed gradient sync
// gives every rank the mean of the ranks' gradients. A rank that dies or stalls makes the other
// exit with an error within the timeout instead of hanging.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_paths.hpp"
#include "train/torchrun.hpp"

namespace autothink::testing {
namespace {

namespace fs = std::filesystem;

// Every file under torchrun's log dir, for failure messages.
std::string torchrun_logs(const fs::path& dir) {
  std::string out;
  if (!fs::exists(dir)) return out;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) out += "--- " + entry.path().string() + "\n" + read_text_file(entry.path());
  return out;
}

std::string skip_reason() {
#if !defined(AUTOTHINK_HAVE_GLOO)
  return "this build has no Gloo (libgloo-dev), so ranks cannot talk on CPU";
#else
  return torchrun_unavailable();
#endif
}

void expect_close(const nlohmann::json& a, const std::vector<double>& b, double tol, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < b.size(); ++i) ASSERT_NEAR(a[i].get<double>(), b[i], tol) << what << " [" << i << "]";
}

std::vector<double> mean_of(const nlohmann::json& a, const nlohmann::json& b) {
  std::vector<double> m;
  for (size_t i = 0; i < a.size(); ++i) m.push_back((a[i].get<double>() + b[i].get<double>()) / 2);
  return m;
}

void check_two_rank_reports(const fs::path& out, bool agent_store) {
  auto r0 = nlohmann::json::parse(read_text_file(out / "rank0.json"));
  auto r1 = nlohmann::json::parse(read_text_file(out / "rank1.json"));
  for (auto* r : {&r0, &r1}) {
    EXPECT_EQ((*r)["world_size"], 2);
    EXPECT_EQ((*r)["backend"], "gloo");
    EXPECT_EQ((*r)["agent_store"], agent_store);
    EXPECT_EQ((*r)["scalar_sum"], 3.0);
    EXPECT_EQ((*r)["mean"][0], 1.5);
    EXPECT_EQ((*r)["mean"][1], 15.0);
    EXPECT_GT((*r)["buckets"].get<int>(), 2) << "the probe's bucket size should split the model";
    EXPECT_GT((*r)["step1_started_in_backward"].get<int>(), 0) << "no bucket overlapped backward";
    // A gradient on one rank only is averaged with zeros; none anywhere stays none.
    expect_close((*r)["side_grad"], std::vector<double>(5, 1.0), 1e-6, "side_grad");
    EXPECT_EQ((*r)["never_has_grad"], false);
  }
  // Different seeds, then rank 0's weights everywhere.
  EXPECT_NE(r0["params_before"], r1["params_before"]);
  EXPECT_EQ(r0["params_after"], r0["params_before"]);
  EXPECT_EQ(r1["params_after"], r0["params_before"]);
  for (std::string step : {"step1", "step2", "step3"}) {
    // Each rank's own gradients differ (own data); after sync both hold their mean.
    EXPECT_NE(r0[step + "_local"], r1[step + "_local"]) << step;
    auto mean = mean_of(r0[step + "_local"], r1[step + "_local"]);
    expect_close(r0[step + "_synced"], mean, 1e-6, step + " rank 0");
    expect_close(r1[step + "_synced"], mean, 1e-6, step + " rank 1");
    EXPECT_EQ(r0[step + "_synced"], r1[step + "_synced"]) << step << ": ranks disagree";
  }
}

void run_two_ranks(LaunchStyle style) {
  auto reason = skip_reason();
  if (!reason.empty()) GTEST_SKIP() << reason;
  auto dir = temp_dir(style == LaunchStyle::standalone ? "torchrun-standalone" : "torchrun-agent");
  auto out = dir / "out";
  fs::create_directories(out);
  auto cmd = torchrun_command(style, 2, dir / "logs", std::string(AUTOTHINK_DIST_PROBE) + " " + out.string() +
                                                          " --timeout-s 60");
  auto result = run_command(cmd, true);
  ASSERT_EQ(result.exit_code, 0) << cmd << "\n" << result.output << torchrun_logs(dir / "logs");
  ASSERT_TRUE(fs::exists(out / "rank0.json") && fs::exists(out / "rank1.json")) << result.output;
  // torch 2.x's torchrun has the agent host the TCPStore in both styles
  // (TORCHELASTIC_USE_AGENT_STORE=True); the probe reports what our rank followed.
  check_two_rank_reports(out, /*agent_store=*/true);
}

TEST(torchrun, two_ranks_standalone) { run_two_ranks(LaunchStyle::standalone); }

TEST(torchrun, two_ranks_static_agent_store) { run_two_ranks(LaunchStyle::agent_store); }

struct TwoProcesses {
  int rc0 = -1, rc1 = -1;
  double rank0_seconds = 0;
  std::string log0, log1;
};

// Starts the probe as rank 0 and rank 1 with env:// variables (as srun/mpirun wrappers do),
// waits for both; rank 0's wall time is measured on its own.
TwoProcesses run_probe_pair(const fs::path& dir, const std::string& mode, int timeout_s) {
  int port = free_port();
  std::string probe = AUTOTHINK_DIST_PROBE;
  auto rank_cmd = [&](int rank) {
    auto d = dir.string() + "/r" + std::to_string(rank);
    return "( s=$(date +%s%N); RANK=" + std::to_string(rank) + " LOCAL_RANK=" + std::to_string(rank) +
           " WORLD_SIZE=2 LOCAL_WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) +
           " timeout 120 " + probe + " " + dir.string() + " --mode " + mode + " --timeout-s " +
           std::to_string(timeout_s) + " > " + d + ".log 2>&1; echo $? > " + d + ".rc; e=$(date +%s%N); echo $(( (e - s) / 1000000 )) > " +
           d + ".ms ) &";
  };
  run_command(rank_cmd(0) + " " + rank_cmd(1) + " wait");
  TwoProcesses p;
  p.rc0 = std::stoi(read_text_file(dir / "r0.rc"));
  p.rc1 = std::stoi(read_text_file(dir / "r1.rc"));
  p.rank0_seconds = std::stod(read_text_file(dir / "r0.ms")) / 1000.0;
  p.log0 = read_text_file(dir / "r0.log");
  p.log1 = read_text_file(dir / "r1.log");
  return p;
}

TEST(torchrun, dead_rank_makes_the_other_exit_with_error) {
#if !defined(AUTOTHINK_HAVE_GLOO)
  GTEST_SKIP() << skip_reason();
#endif
  auto dir = temp_dir("dist-dead-rank");
  auto p = run_probe_pair(dir, "exit", 5);
  EXPECT_EQ(p.rc1, 3) << p.log1;
  EXPECT_EQ(p.rc0, 1) << "rank 0 should fail with an error, not crash or hang:\n" << p.log0;
  EXPECT_NE(p.log0.find("error: rank 0 of 2: all-reduce failed"), std::string::npos) << p.log0;
  // A hang would have ended in `timeout 120`'s exit status 124, not 1.
}

TEST(torchrun, stalled_rank_times_out) {
#if !defined(AUTOTHINK_HAVE_GLOO)
  GTEST_SKIP() << skip_reason();
#endif
  auto dir = temp_dir("dist-stalled-rank");
  auto p = run_probe_pair(dir, "stall", 3);
  EXPECT_EQ(p.rc0, 1) << p.log0;
  EXPECT_NE(p.log0.find("did not answer within 3 s"), std::string::npos) << p.log0;
  // Rank 0 gave up on its 3 s timeout, not when the stalled rank woke from its 9 s nap and exited
  // (that would have ended the wait with "connection closed", not the timeout's message).
  EXPECT_GE(p.rank0_seconds, 3.0) << p.log0;
}

}  // namespace
}  // namespace autothink::testing
