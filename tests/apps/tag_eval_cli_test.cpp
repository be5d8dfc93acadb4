// `autothink data tag` and `autothink eval` as a user runs them, on a real (random-weight) model:
// the tiny HF fixture plus a tokenizer trained here on `data synth` output. Random weights answer
// nothing correctly, so tagging exercises the no-correct fallback end to end (the decision rule
// itself is tests/data/tagging_test.cpp); eval writes its files and the chart.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "data/format/parser.hpp"
#include "data/format/template.hpp"
#include "test_paths.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using autothink::testing::run_command;

std::string cli(const std::string& args) { return autothink::testing::autothink_binary() + " " + args; }

std::vector<json> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

// One task suite + random model for the whole binary.
class TagEvalEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    dir = autothink::testing::temp_dir("tag-eval-cli");
    auto synth = run_command(cli("data synth --out " + (dir / "data").string() +
                                 " --set data.synth.easy_train=4 --set data.synth.hard_train=4"
                                 " --set data.synth.easy_dev=2 --set data.synth.hard_dev=2"
                                 " --set data.synth.easy_test=4 --set data.synth.hard_test=4"),
                             true);
    ASSERT_EQ(synth.exit_code, 0) << synth.output;
    model = dir / "model";
    fs::copy(autothink::testing::fixture("hf-qwen2-tiny"), model);
    fs::remove(model / "expected.json");
    auto tok = run_command(cli("tokenizer train --input " + (dir / "data" / "dual_mode.jsonl").string() + " --out " +
                               model.string() + " --vocab-size 320"),
                           true);
    ASSERT_EQ(tok.exit_code, 0) << tok.output;
  }
  static fs::path dir, model;
};
fs::path TagEvalEnvironment::dir;
fs::path TagEvalEnvironment::model;
const auto* const tag_eval_environment = ::testing::AddGlobalTestEnvironment(new TagEvalEnvironment);

TEST(tag_cli, random_model_takes_the_fallback_and_resumes) {
  const fs::path out = TagEvalEnvironment::dir / "tagged.jsonl";
  const std::string command = cli("data tag --model " + TagEvalEnvironment::model.string() + " --data " +
                                  (TagEvalEnvironment::dir / "data" / "train.jsonl").string() + " --out " +
                                  out.string() +
                                  " --set tag.samples_per_mode=2 --set tag.max_tokens=20 --set tag.batch_size=3"
                                  " --set tag.forced_fraction=0 --set tag.temperature=1.0");
  auto run = run_command(command, true);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("8 no-correct fallback(s)"), std::string::npos) << run.output;

  auto train = read_lines(TagEvalEnvironment::dir / "data" / "train.jsonl");
  auto records = read_lines(out);
  ASSERT_EQ(records.size(), 8u);
  std::map<std::string, std::string> cot;
  for (const auto& t : train) cot[t["id"]] = t["cot"];
  for (const auto& r : records) {
    const auto& meta = r["meta"];
    EXPECT_EQ(meta["tag_reason"], "no_correct");
    EXPECT_EQ(meta["p_on"], 0.0);
    EXPECT_EQ(meta["p_off"], 0.0);
    const auto& reply = r["messages"][1];
    EXPECT_EQ(reply["mode"], "on");
    EXPECT_EQ(reply["reasoning"], cot[meta["id"]]);
    EXPECT_EQ(reply["content"], meta["truth"]);
    // The record renders to a KAT turn that the one parser reads back whole, without problems.
    auto text = autothink::format::to_text(autothink::format::render(autothink::format::conversation_from_json(r)));
    const std::string open = "<|im_start|>assistant\n";
    auto parsed = autothink::format::parse(text.substr(text.rfind(open) + open.size()));
    EXPECT_TRUE(parsed.complete) << text;
    EXPECT_TRUE(parsed.problems.empty()) << text;
  }
  const json summary = json::parse(std::ifstream(TagEvalEnvironment::dir / "tagged.summary.json"));
  EXPECT_EQ(summary["overall"]["queries"], 8);
  EXPECT_EQ(summary["overall"]["no_correct"], 8);
  EXPECT_EQ(summary["by_difficulty"]["hard"]["think_on_rate"], 1.0);
  EXPECT_GT(summary["overall"]["mean_tokens_on"].get<double>(), 0.0);

  // A second run finds everything done: no duplicates.
  auto again = run_command(command, true);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("resumed: 8"), std::string::npos) << again.output;
  EXPECT_EQ(read_lines(out).size(), 8u);
}

TEST(tag_cli, bad_input_is_a_clear_error) {
  auto neither = run_command(cli("data tag --data " + (TagEvalEnvironment::dir / "data" / "train.jsonl").string() +
                                 " --out " + (TagEvalEnvironment::dir / "x.jsonl").string()),
                             true);
  EXPECT_NE(neither.exit_code, 0);
  EXPECT_NE(neither.output.find("--model DIR and --endpoint URL"), std::string::npos) << neither.output;
  auto bad_key = run_command(cli("data tag --model " + TagEvalEnvironment::model.string() + " --data " +
                                 (TagEvalEnvironment::dir / "data" / "train.jsonl").string() + " --out " +
                                 (TagEvalEnvironment::dir / "x.jsonl").string() + " --set tag.sample_per_mode=2"),
                             true);
  EXPECT_NE(bad_key.exit_code, 0);
  EXPECT_NE(bad_key.output.find("tag.sample_per_mode"), std::string::npos) << bad_key.output;
}

TEST(eval_cli, random_model_writes_report_and_chart) {
  const fs::path out = TagEvalEnvironment::dir / "eval";
  const fs::path metrics = TagEvalEnvironment::dir / "run" / "metrics.jsonl";
  fs::create_directories(metrics.parent_path());
  std::ofstream(metrics) << "{\"step\":1,\"loss\":5.5}\n{\"step\":2,\"loss\":4.0}\n{\"step\":3,\"loss\":3.1}\n";
  auto run = run_command(cli("eval --model " + TagEvalEnvironment::model.string() + " --data " +
                             (TagEvalEnvironment::dir / "data" / "test.jsonl").string() +
                             " --per-difficulty 3 --max-tokens 16 --out " + out.string() + " --metrics " +
                             metrics.string()),
                         true);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("| hard | forced on | 3 |"), std::string::npos) << run.output;

  const json report = json::parse(std::ifstream(out / "eval.json"));
  ASSERT_EQ(report["groups"].size(), 3u);
  EXPECT_EQ(report["groups"][0]["name"], "easy");
  EXPECT_EQ(report["groups"][0]["queries"], 3);
  EXPECT_EQ(report["groups"][2]["name"], "all");
  EXPECT_EQ(report["groups"][2]["queries"], 6);
  // Forced prompts fix the mode; the engine path counts reasoning tokens with the tokenizer.
  EXPECT_EQ(report["groups"][2]["on"]["think_on_rate"], 1.0);
  EXPECT_EQ(report["groups"][2]["off"]["think_on_rate"], 0.0);
  EXPECT_TRUE(report["groups"][2]["on"]["mean_reasoning_tokens"].is_number());
  EXPECT_GT(report["groups"][2]["on"]["mean_completion_tokens"].get<double>(), 0.0);
  EXPECT_LE(report["groups"][2]["on"]["mean_completion_tokens"].get<double>(), 16.0);
  EXPECT_EQ(read_lines(out / "eval_items.jsonl").size(), 6u);
  EXPECT_TRUE(fs::exists(out / "eval.md"));

  if (run_command("command -v gnuplot").exit_code != 0) GTEST_SKIP() << "gnuplot not installed: no chart to check";
  std::ifstream png(out / "eval.png", std::ios::binary);
  ASSERT_TRUE(png) << run.output;
  char magic[8] = {};
  png.read(magic, 8);
  EXPECT_EQ(std::string(magic, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_TRUE(fs::exists(out / "chart" / "curve1.dat"));
}

TEST(eval_cli, suite_and_missing_source_errors) {
  auto both = run_command(cli("eval --model " + TagEvalEnvironment::model.string() + " --endpoint http://127.0.0.1:1"),
                          true);
  EXPECT_NE(both.exit_code, 0);
  auto neither = run_command(cli("eval --suite add_easy --per-difficulty 2"), true);
  EXPECT_NE(neither.exit_code, 0);
  EXPECT_NE(neither.output.find("--model DIR and --endpoint URL"), std::string::npos) << neither.output;
  // An endpoint nobody listens on fails with the URL named, not a crash.
  auto down = run_command(cli("eval --endpoint http://127.0.0.1:1 --suite add_easy --per-difficulty 1 --out " +
                              (TagEvalEnvironment::dir / "eval-down").string()),
                          true);
  EXPECT_NE(down.exit_code, 0);
  EXPECT_NE(down.output.find("127.0.0.1:1"), std::string::npos) << down.output;
}

// `autothink serve` on the random model, on a free port, for the --endpoint path.
class ServedModel {
 public:
  explicit ServedModel(const fs::path& model) {
    log_ = TagEvalEnvironment::dir / ("serve-" + std::to_string(::getpid()) + ".log");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive a test process that dies
      const std::string bin = autothink::testing::autothink_binary();
      if (!freopen(log_.c_str(), "w", stdout)) _exit(126);
      dup2(fileno(stdout), 2);
      execl(bin.c_str(), bin.c_str(), "serve", "--model", model.c_str(), "--port", "0", "--max-batch", "8",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    const std::regex re("listening on (http://127\\.0\\.0\\.1:[0-9]+)");
    autothink::testing::wait_for([&] {  // until it listens, or exits early
      std::smatch m;
      const std::string text = autothink::testing::read_text_file(log_);
      if (std::regex_search(text, m, re)) url_ = m[1];
      return !url_.empty() || ::waitpid(pid_, nullptr, WNOHANG) == pid_;
    }, std::chrono::seconds(60));
  }
  ~ServedModel() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  const std::string& url() const { return url_; }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  std::string url_;
};

TEST(eval_cli, endpoint_evaluates_and_tags_over_http) {
  ServedModel server(TagEvalEnvironment::model);
  ASSERT_FALSE(server.url().empty()) << "server did not start";
  const std::string test = (TagEvalEnvironment::dir / "data" / "test.jsonl").string();
  // Without a tokenizer the reasoning tokens are unknown over HTTP; with one they are counted.
  const fs::path plain = TagEvalEnvironment::dir / "eval-http";
  auto run = run_command(cli("eval --endpoint " + server.url() + " --data " + test +
                             " --per-difficulty 2 --max-tokens 12 --out " + plain.string()),
                         true);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  json report = json::parse(std::ifstream(plain / "eval.json"));
  EXPECT_EQ(report["groups"][2]["queries"], 4);
  EXPECT_EQ(report["groups"][2]["on"]["think_on_rate"], 1.0);
  EXPECT_TRUE(report["groups"][2]["on"]["mean_reasoning_tokens"].is_null());
  EXPECT_NE(run.output.find("| n/a |"), std::string::npos) << run.output;

  const fs::path counted = TagEvalEnvironment::dir / "eval-http-tok";
  run = run_command(cli("eval --endpoint " + server.url() + " --tokenizer " + TagEvalEnvironment::model.string() +
                        " --data " + test + " --per-difficulty 2 --max-tokens 12 --out " + counted.string()),
                    true);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  report = json::parse(std::ifstream(counted / "eval.json"));
  ASSERT_TRUE(report["groups"][2]["on"]["mean_reasoning_tokens"].is_number());
  EXPECT_LE(report["groups"][2]["on"]["mean_reasoning_tokens"].get<double>(),
            report["groups"][2]["on"]["mean_completion_tokens"].get<double>());

  // --model --serve: the folder served on a loopback port, evaluated through /v1/chat/completions;
  // greedy, it reports what the in-process engine reports.
  const fs::path direct = TagEvalEnvironment::dir / "eval-direct", served = TagEvalEnvironment::dir / "eval-served";
  run = run_command(cli("eval --model " + TagEvalEnvironment::model.string() + " --data " + test +
                        " --per-difficulty 3 --max-tokens 24 --out " + direct.string()),
                    true);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  run = run_command(cli("eval --model " + TagEvalEnvironment::model.string() + " --serve --data " + test +
                        " --per-difficulty 3 --max-tokens 24 --out " + served.string()),
                    true);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("/v1/chat/completions"), std::string::npos) << run.output;
  const auto direct_items = read_lines(direct / "eval_items.jsonl"), served_items = read_lines(served / "eval_items.jsonl");
  ASSERT_EQ(served_items.size(), direct_items.size());
  // Reasoning tokens are left out: a think cut off by max_tokens comes back closed from the chat
  // fields, which can move one token between the reasoning and the rest.
  auto scored = [](json item) {
    for (const char* setting : {"auto", "on", "off"}) item[setting].erase("reasoning_tokens");
    return item;
  };
  int same = 0;
  for (size_t i = 0; i < direct_items.size(); ++i) same += scored(direct_items[i]) == scored(served_items[i]);
  EXPECT_GE(same * 10, static_cast<int>(direct_items.size()) * 9) << "served and in-process eval items differ";
  run = run_command(cli("eval --endpoint " + server.url() + " --serve --data " + test), true);
  EXPECT_NE(run.exit_code, 0);

  // Tagging over HTTP: N samples per prompt through `n`.
  const fs::path tagged = TagEvalEnvironment::dir / "tagged-http.jsonl";
  run = run_command(cli("data tag --endpoint " + server.url() + " --data " +
                        (TagEvalEnvironment::dir / "data" / "train.jsonl").string() + " --out " + tagged.string() +
                        " --set tag.samples_per_mode=2 --set tag.max_tokens=12 --set tag.forced_fraction=0"),
                    true);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(read_lines(tagged).size(), 8u);
}

}  // namespace
