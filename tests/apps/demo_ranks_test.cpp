// `autothink demo` stages with `ranks: N`: the demo launches N data-parallel processes as torchrun
// would (rank 0 hosts the TCPStore and prints; rank 1 logs to OUT/logs/STAGE.rank1.log), the run
// gives the same model as one process with the whole batch, a finished stage is skipped, and a
// bad ranks value is an error naming the key; a demo killed mid-stage takes its ranks with it.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "test_paths.hpp"

namespace {

namespace fs = std::filesystem;
using autothink::testing::run_command;

// synth -> tokenizer -> a 4-step pretrain with `ranks` processes of `batch` documents each.
fs::path write_demo(const fs::path& dir, int ranks, int batch, int steps = 4) {
  std::ofstream y(dir / "demo.yaml");
  y << "demo:\n  stages:\n"
       "    - name: synth\n      command: data synth\n      args: [\"--out\", \"{out}/data\"]\n"
       "      output: data/dual_mode.jsonl\n"
       "      data: {synth: {seed: 3, easy_train: 40, easy_dev: 4, easy_test: 4, hard_train: 40, hard_dev: 4, hard_test: 4}}\n"
       "    - name: tokenizer\n      command: tokenizer train\n"
       "      args: [\"--input\", \"{out}/data/dual_mode.jsonl\", \"--out\", \"{out}/tokenizer\"]\n"
       "      output: tokenizer/tokenizer.model\n      tokenizer: {vocab_size: 340}\n"
       "    - name: pretrain\n      command: train\n      ranks: " << ranks << "\n"
       "      args: [\"--out\", \"{out}/run\", \"--no-progress\", \"--set\", \"train.tokenizer={out}/tokenizer/tokenizer.model\",\n"
       "             \"--set\", \"data.train=[{out}/data/dual_mode.jsonl]\"]\n"
       "      output: run/model/config.json\n"
       "      model: {hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 4,\n"
       "              num_key_value_heads: 2, max_position_embeddings: 256}\n"
       "      data: {max_len: 128}\n"
       "      train: {stage: pretrain, steps: " << steps << ", batch_size: " << batch << ", lr: 0.003, warmup: 1, seed: 2}\n";
  return dir / "demo.yaml";
}

double last_loss(const fs::path& run) {
  std::ifstream in(run / "metrics.jsonl");
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  const auto at = last.find("\"loss\":");
  return at == std::string::npos ? -1 : std::stod(last.substr(at + 7));
}

TEST(demo_ranks, two_ranks_train_like_one_process_with_the_whole_batch) {
  auto dir = autothink::testing::temp_dir("demo-ranks");
  fs::create_directories(dir / "two");
  fs::create_directories(dir / "one");
  const std::string bin = autothink::testing::autothink_binary();
  auto two = run_command(bin + " demo --config " + write_demo(dir / "two", 2, 4).string() + " --out " + (dir / "out2").string(), true);
  ASSERT_EQ(two.exit_code, 0) << two.output;
  EXPECT_NE(two.output.find("pretrain (2 ranks)"), std::string::npos) << two.output;
  EXPECT_NE(two.output.find("rank 0/2"), std::string::npos) << two.output;
  const std::string rank1 = autothink::testing::read_text_file(dir / "out2" / "logs" / "pretrain.rank1.log");
  EXPECT_NE(rank1.find("rank 1/2"), std::string::npos) << rank1;
  auto one = run_command(bin + " demo --config " + write_demo(dir / "one", 1, 8).string() + " --out " + (dir / "out1").string(), true);
  ASSERT_EQ(one.exit_code, 0) << one.output;
  EXPECT_NEAR(last_loss(dir / "out2" / "run"), last_loss(dir / "out1" / "run"), 1e-4);
  // Re-running skips what is done.
  auto again = run_command(bin + " demo --config " + (dir / "two" / "demo.yaml").string() + " --out " + (dir / "out2").string(), true);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("pretrain: run/model/config.json exists, skipped"), std::string::npos) << again.output;
}

// Processes whose command line mentions `needle` (the test's own temp folder).
std::vector<pid_t> processes_mentioning(const std::string& needle) {
  std::vector<pid_t> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(needle) != std::string::npos) found.push_back(std::stoi(name));
  }
  return found;
}

TEST(demo_ranks, killing_the_demo_stops_its_ranks) {
  auto dir = autothink::testing::temp_dir("demo-ranks-kill");
  const auto cfg = write_demo(dir, 2, 4, /*steps=*/1000000);
  const fs::path out = dir / "out";
  const std::string bin = autothink::testing::autothink_binary();
  const std::string log = (dir / "demo.log").string();
  const pid_t demo = ::fork();
  ASSERT_GE(demo, 0);
  if (demo == 0) {
    if (!std::freopen(log.c_str(), "w", stdout) || !std::freopen(log.c_str(), "a", stderr)) ::_exit(126);
    ::execl(bin.c_str(), bin.c_str(), "demo", "--config", cfg.c_str(), "--out", out.c_str(), (char*)nullptr);
    ::_exit(127);
  }
  // Wait until both ranks of the pretrain stage run (rank 1 logs to its own file).
  const bool running = autothink::testing::wait_for([&] {
    return autothink::testing::read_text_file(out / "logs" / "pretrain.rank1.log").find("rank 1/2") != std::string::npos &&
           processes_mentioning((out / "run").string()).size() >= 2;
  }, std::chrono::minutes(2));
  ::kill(demo, SIGKILL);
  ::waitpid(demo, nullptr, 0);
  ASSERT_TRUE(running) << autothink::testing::read_text_file(log);
  // Orphaned ranks would train on forever; each should get SIGTERM as soon as the demo died.
  std::vector<pid_t> left;
  autothink::testing::wait_for([&] {
    left = processes_mentioning((out / "run").string());
    return left.empty();
  }, std::chrono::seconds(30));
  for (pid_t pid : left) ::kill(pid, SIGKILL);
  EXPECT_TRUE(left.empty()) << left.size() << " rank process(es) outlived the killed demo";
}

TEST(demo_ranks, a_bad_ranks_value_names_the_key) {
  auto dir = autothink::testing::temp_dir("demo-ranks-bad");
  auto cfg = write_demo(dir, 0, 4);
  auto r = run_command(autothink::testing::autothink_binary() + " demo --config " + cfg.string() + " --out " + (dir / "out").string(), true);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("ranks"), std::string::npos) << r.output;
}

}  // namespace
