// `autothink data tag` and `autothink eval` with the real engine on the small TRAINED KAT model
// of the CTest fixture `kat_model` (tests/fixtures/kat-model.yaml): the tagged records read back
// through the one parser with no problems, kept model answers are correct, and eval's forced
// settings report the forced modes. (Label slow: needs the fixture's training run.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/format/parser.hpp"
#include "data/format/template.hpp"
#include "test_paths.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<json> read_json_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

fs::path fixture_dir() { return autothink::testing::build_dir() / "fixtures" / "kat-model"; }

TEST(tag_trained, records_read_back_without_problems) {
  const fs::path model = fixture_dir() / "run" / "model";
  ASSERT_TRUE(fs::exists(model / "config.json")) << "fixture kat_model missing: run ctest with -L slow (it sets it up)";
  const fs::path dir = autothink::testing::temp_dir("tag-trained");
  const fs::path out = dir / "tagged.jsonl";
  auto run = autothink::testing::run_command(
      autothink::testing::autothink_binary() + " data tag --model " + model.string() + " --data " +
          (fixture_dir() / "data" / "dev.jsonl").string() + " --out " + out.string() +
          " --set tag.samples_per_mode=4 --set tag.max_tokens=96 --set tag.batch_size=20 --set tag.forced_fraction=0.2",
      true);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto dev = read_json_lines(fixture_dir() / "data" / "dev.jsonl");
  const auto records = read_json_lines(out);
  ASSERT_EQ(records.size(), dev.size());
  int from_model = 0;
  for (const auto& r : records) {
    auto text = autothink::format::to_text(autothink::format::render(autothink::format::conversation_from_json(r)));
    const std::string open = "<|im_start|>assistant\n";
    auto parsed = autothink::format::parse(text.substr(text.rfind(open) + open.size()));
    EXPECT_TRUE(parsed.complete) << text;
    EXPECT_TRUE(parsed.problems.empty()) << text;
    const auto& meta = r["meta"];
    const auto& reply = r["messages"][1];
    EXPECT_EQ(to_string(parsed.mode), reply["mode"].get<std::string>());
    if (meta["source"] == "model") {
      ++from_model;
      // A kept answer passed the verifier: the truth is in it.
      EXPECT_NE(reply["content"].get<std::string>().find(meta["truth"].get<std::string>()), std::string::npos) << r;
    } else if (meta["tag_reason"] == "no_correct") {
      EXPECT_EQ(reply["mode"], "on");
    }
  }
  const json summary = json::parse(std::ifstream(dir / "tagged.summary.json"));
  EXPECT_EQ(summary["overall"]["queries"], static_cast<int>(dev.size()));
  EXPECT_EQ(summary["overall"]["kept_from_model"], from_model);
  EXPECT_GT(summary["overall"]["forced"].get<int>(), 0);
}

TEST(tag_trained, eval_reports_forced_modes_and_counts_reasoning) {
  const fs::path model = fixture_dir() / "run" / "model";
  ASSERT_TRUE(fs::exists(model / "config.json"));
  const fs::path out = autothink::testing::temp_dir("eval-trained");
  auto run = autothink::testing::run_command(
      autothink::testing::autothink_binary() + " eval --model " + model.string() + " --data " +
          (fixture_dir() / "data" / "test.jsonl").string() + " --per-difficulty 10 --max-tokens 96 --out " +
          out.string() + " --metrics pretrain=" + (fixture_dir() / "run" / "metrics.jsonl").string(),
      true);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const json report = json::parse(std::ifstream(out / "eval.json"));
  const auto& all = report["groups"].back();
  EXPECT_EQ(all["name"], "all");
  EXPECT_EQ(all["queries"], 20);
  EXPECT_EQ(all["on"]["think_on_rate"], 1.0);
  EXPECT_EQ(all["off"]["think_on_rate"], 0.0);
  // A trained model thinks for a while when forced to, and never thinks when forced off.
  EXPECT_GT(all["on"]["mean_reasoning_tokens"].get<double>(), 5.0);
  EXPECT_EQ(all["off"]["mean_reasoning_tokens"].get<double>(), 0.0);
  EXPECT_LT(all["off"]["mean_completion_tokens"].get<double>(), all["on"]["mean_completion_tokens"].get<double>());
}

}  // namespace
