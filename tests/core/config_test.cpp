// Config loading, --set overrides, typed getters, schemas and section checks: every error must
// name the key path and file:line (or "(from --set)") a user has to fix.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>

#include "core/config.hpp"
#include "core/config_registry.hpp"
#include "core/config_schema.hpp"
#include "test_paths.hpp"

namespace autothink::core {
namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

struct OptimizerSection {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-6;
  template <class V> void fields(V& v) {
    v("eps", eps, "AdamW epsilon");
    v("beta1", beta1, "AdamW beta1");
    v("beta2", beta2, "AdamW beta2");
  }
};

struct TrainSection {
  int steps = 100;
  double lr = 1e-3;
  bool resume = false;
  int64_t tokens = 0;
  std::string out = "out";
  std::vector<std::string> files;
  std::vector<int> milestones;
  std::vector<double> weights;
  OptimizerSection optimizer;
  template <class V> void fields(V& v) {
    v("steps", steps, "optimizer steps");
    v("lr", lr, "peak learning rate");
    v("resume", resume, "continue from the last checkpoint");
    v("tokens", tokens, "token budget");
    v("out", out, "output folder");
    v("files", files, "input files");
    v("milestones", milestones, "steps where lr drops");
    v("weights", weights, "file weights");
    v("optimizer", optimizer, "AdamW settings");
  }
};

struct StageSection {
  std::string command;
  TrainSection train;
  template <class V> void fields(V& v) {
    v("command", command, "subcommand");
    v("train", train, "train settings");
  }
};

struct PipelineSection {
  std::vector<StageSection> stages;
  template <class V> void fields(V& v) { v("stages", stages, "stages in order"); }
};

const char* kTrainYaml =
    "model:\n"
    "  hidden: 64\n"
    "train:\n"
    "  steps: 20\n"
    "  lr: 3.0e-4\n"
    "  files: [a.jsonl, b.jsonl]\n"
    "  optimizer:\n"
    "    beta2: 0.99\n";

TEST(config, typed_getters_read_values_and_defaults) {
  Config c = Config::parse(kTrainYaml, "x.yaml");
  EXPECT_EQ(c.get<int>("train.steps", 0), 20);
  EXPECT_DOUBLE_EQ(c.section("train").get<double>("lr", 0), 3e-4);
  EXPECT_EQ(c.get<std::vector<std::string>>("train.files", {}), (std::vector<std::string>{"a.jsonl", "b.jsonl"}));
  EXPECT_EQ(c.get<int>("train.missing", 7), 7);
  EXPECT_TRUE(c.has("train.optimizer.beta2"));
  EXPECT_FALSE(c.has("train.optimizer.beta1"));
  EXPECT_EQ(c.keys(), (std::vector<std::string>{"model", "train"}));
  EXPECT_EQ(c.section("train").keys(), (std::vector<std::string>{"steps", "lr", "files", "optimizer"}));
}

TEST(config, missing_section_reads_as_defaults) {
  Config c = Config::parse(kTrainYaml, "x.yaml");
  Config rl = c.section("rl");
  EXPECT_TRUE(rl.empty());
  EXPECT_EQ(rl.get<int>("group", 8), 8);
  EXPECT_EQ(rl.full_key("group"), "rl.group");
}

TEST(config, wrong_type_names_key_expected_type_and_line) {
  Config c = Config::parse("train:\n  steps: lots\n", "cfg.yaml");
  std::string msg = error_of([&] { c.get<int>("train.steps", 1); });
  EXPECT_NE(msg.find("train.steps must be an integer"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'lots'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cfg.yaml:2"), std::string::npos) << msg;
}

TEST(config, require_reports_missing_key) {
  Config c = Config::parse("train: {}\n", "cfg.yaml");
  std::string msg = error_of([&] { c.section("train").require<std::string>("teacher"); });
  EXPECT_NE(msg.find("missing required key train.teacher"), std::string::npos) << msg;
}

TEST(config, missing_file_names_the_file) {
  std::string msg = error_of([] { Config::load("/nonexistent/dir/conf.yaml"); });
  EXPECT_NE(msg.find("/nonexistent/dir/conf.yaml"), std::string::npos) << msg;
}

TEST(config, load_reads_file_and_reports_its_lines) {
  auto dir = testing::temp_dir("config");
  std::string path = (dir / "run.yaml").string();
  std::ofstream(path) << "# comment\ntrain:\n  steps: 5\n  lrr: 0.1\n";
  Config c = Config::load(path);
  EXPECT_EQ(c.get<int>("train.steps", 0), 5);
  EXPECT_EQ(c.where("train.lrr"), path + ":4");
}

TEST(config, yaml_syntax_error_names_file_and_line) {
  std::string msg = error_of([] { Config::parse("train:\n  steps: [1, 2\n  lr: 3\n", "bad.yaml"); });
  EXPECT_NE(msg.find("bad.yaml:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cannot parse YAML"), std::string::npos) << msg;
}

TEST(config, duplicate_key_names_both_lines) {
  std::string msg = error_of([] { Config::parse("train:\n  steps: 5\n  lr: 1\n  steps: 7\n", "dup.yaml"); });
  EXPECT_NE(msg.find("duplicate key train.steps (first at line 2)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("dup.yaml:4"), std::string::npos) << msg;
  // Inside a list of maps too; the same key in different maps is fine.
  msg = error_of([] { Config::parse("demo:\n  stages:\n    - name: a\n    - name: b\n      name: c\n", "s.yaml"); });
  EXPECT_NE(msg.find("duplicate key demo.stages.1.name"), std::string::npos) << msg;
  EXPECT_NO_THROW(Config::parse("a: {x: 1}\nb: {x: 2}\n", "ok.yaml"));
}

TEST(config, set_overrides_scalars_lists_and_creates_maps) {
  Config c = Config::parse(kTrainYaml, "x.yaml",
                           {"train.lr=1e-2", "data.files=[c.jsonl,d.jsonl]", "rl.kl.beta=0.05", "train.out=run 1"});
  EXPECT_DOUBLE_EQ(c.get<double>("train.lr", 0), 1e-2);
  EXPECT_EQ(c.get<std::vector<std::string>>("data.files", {}), (std::vector<std::string>{"c.jsonl", "d.jsonl"}));
  EXPECT_DOUBLE_EQ(c.get<double>("rl.kl.beta", 0), 0.05);
  EXPECT_EQ(c.get<std::string>("train.out", ""), "run 1");
  EXPECT_EQ(c.get<int>("train.steps", 0), 20);  // untouched keys stay
  EXPECT_EQ(c.where("train.lr"), "(from --set)");
  EXPECT_EQ(c.where("rl.kl.beta"), "(from --set)");
  EXPECT_EQ(c.where("train.steps"), "x.yaml:4");
}

TEST(config, set_indexes_list_items) {
  Config c = Config::parse("demo:\n  stages:\n    - command: synth\n    - command: train\n", "d.yaml",
                           {"demo.stages.1.train.steps=3"});
  EXPECT_EQ(c.get<int>("demo.stages.1.train.steps", 0), 3);
  EXPECT_EQ(c.section_list("demo.stages").size(), 2u);
  std::string msg = error_of([] {
    Config::parse("demo:\n  stages:\n    - command: synth\n", "d.yaml", {"demo.stages.5.train.steps=3"});
  });
  EXPECT_NE(msg.find("list of 1 items"), std::string::npos) << msg;
}

TEST(config, malformed_set_names_the_assignment) {
  for (const std::string bad : {"train.lr", "=3", "train..lr=3", "train.lr=[1,2"}) {
    std::string msg = error_of([&] { Config::parse("", "x.yaml", {bad}); });
    EXPECT_NE(msg.find("malformed --set '" + bad + "'"), std::string::npos) << msg;
  }
}

TEST(config, set_through_a_scalar_is_an_error) {
  std::string msg = error_of([] { Config::parse("train:\n  lr: 3\n", "x.yaml", {"train.lr.x=1"}); });
  EXPECT_NE(msg.find("train.lr is the value '3', not a section"), std::string::npos) << msg;
}

TEST(config, set_wrong_type_says_from_set) {
  Config c = Config::parse(kTrainYaml, "x.yaml", {"train.steps=many"});
  std::string msg = error_of([&] { read_section<TrainSection>(c, "train"); });
  EXPECT_NE(msg.find("train.steps must be an integer"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(from --set)"), std::string::npos) << msg;
}

TEST(config, read_section_fills_struct_with_defaults) {
  Config c = Config::parse(kTrainYaml, "x.yaml", {"train.milestones=[5,10]", "train.tokens=1e9"});
  TrainSection t = read_section<TrainSection>(c, "train");
  EXPECT_EQ(t.steps, 20);
  EXPECT_DOUBLE_EQ(t.lr, 3e-4);
  EXPECT_FALSE(t.resume);
  EXPECT_EQ(t.tokens, 1000000000);
  EXPECT_EQ(t.out, "out");
  EXPECT_EQ(t.files, (std::vector<std::string>{"a.jsonl", "b.jsonl"}));
  EXPECT_EQ(t.milestones, (std::vector<int>{5, 10}));
  EXPECT_DOUBLE_EQ(t.optimizer.beta1, 0.9);
  EXPECT_DOUBLE_EQ(t.optimizer.beta2, 0.99);
}

TEST(config, unknown_key_names_path_line_and_suggests) {
  Config c = Config::parse("train:\n  steps: 3\n  lrr: 0.1\n", "configs/x.yaml");
  std::string msg = error_of([&] { read_section<TrainSection>(c, "train"); });
  EXPECT_NE(msg.find("unknown key train.lrr"), std::string::npos) << msg;
  EXPECT_NE(msg.find("configs/x.yaml:3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'lr'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("known keys: steps, lr, resume"), std::string::npos) << msg;
}

TEST(config, nested_unknown_and_wrong_type_all_reported) {
  Config c = Config::parse("train:\n  optimizer:\n    beta3: 1\n  files: a.jsonl\n  resume: maybe\n", "n.yaml");
  std::string msg = error_of([&] { read_section<TrainSection>(c, "train"); });
  EXPECT_NE(msg.find("unknown key train.optimizer.beta3 (at n.yaml:3)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("train.files must be a list of strings, got 'a.jsonl' (at n.yaml:4)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("train.resume must be a boolean"), std::string::npos) << msg;
  EXPECT_NE(msg.find("n.yaml:5"), std::string::npos) << msg;
}

TEST(config, section_that_is_not_a_map_is_an_error) {
  Config c = Config::parse("train: 5\n", "s.yaml");
  std::string msg = error_of([&] { read_section<TrainSection>(c, "train"); });
  EXPECT_NE(msg.find("train must be a section"), std::string::npos) << msg;
  EXPECT_NE(msg.find("s.yaml:1"), std::string::npos) << msg;
}

TEST(config, list_of_sections_reads_and_validates_each_item) {
  const char* yaml =
      "pipeline:\n"
      "  stages:\n"
      "    - command: synth\n"
      "    - command: train\n"
      "      train:\n"
      "        steps: 9\n";
  PipelineSection p = read_section<PipelineSection>(Config::parse(yaml, "p.yaml"), "pipeline");
  ASSERT_EQ(p.stages.size(), 2u);
  EXPECT_EQ(p.stages[0].command, "synth");
  EXPECT_EQ(p.stages[1].train.steps, 9);
  EXPECT_EQ(p.stages[0].train.steps, 100);

  Config bad = Config::parse(yaml, "p.yaml", {"pipeline.stages.1.train.stepz=1"});
  std::string msg = error_of([&] { read_section<PipelineSection>(bad, "pipeline"); });
  EXPECT_NE(msg.find("unknown key pipeline.stages.1.train.stepz (at (from --set))"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'steps'"), std::string::npos) << msg;
}

TEST(config, integer_range_and_float_checks) {
  Config c = Config::parse("a: 3000000000\nb: 1.5\nc: -1\nd: .inf\n", "r.yaml");
  EXPECT_NE(error_of([&] { c.get<int>("a", 0); }).find("a must be an integer"), std::string::npos);
  EXPECT_EQ(c.get<int64_t>("a", 0), 3000000000LL);
  EXPECT_NE(error_of([&] { c.get<int>("b", 0); }).find("got '1.5'"), std::string::npos);
  EXPECT_NE(error_of([&] { c.get<size_t>("c", 0); }).find("non-negative"), std::string::npos);
  EXPECT_TRUE(std::isinf(c.get<double>("d", 0)));
}

TEST(config, dump_is_resolved_yaml_that_parses_back) {
  Config c = Config::parse(kTrainYaml, "x.yaml", {"train.steps=7"});
  Config again = Config::parse(c.dump(), "dump");
  EXPECT_EQ(again.get<int>("train.steps", 0), 7);
  EXPECT_EQ(again.get<std::vector<std::string>>("train.files", {}).size(), 2u);
  EXPECT_EQ(Config::parse("", "e").dump(), "{}\n");
}

TEST(config, schema_describe_lists_keys_with_defaults) {
  std::string text = schema_of<TrainSection>().describe();
  EXPECT_NE(text.find("steps: 100  # an integer - optimizer steps"), std::string::npos) << text;
  EXPECT_NE(text.find("  beta1: 0.9  #"), std::string::npos) << text;
  EXPECT_NE(text.find("lr: 0.001  # a number"), std::string::npos) << text;
  EXPECT_NE(text.find("eps: 1e-06  #"), std::string::npos) << text;  // not 9.9999999999999995e-07
  EXPECT_NE(text.find("files: []  # a list of strings"), std::string::npos) << text;
}

struct CheckTrainSection {
  int steps = 1;
  template <class V> void fields(V& v) { v("steps", steps, "steps"); }
};
struct CheckTrainExtra {
  std::string teacher;
  template <class V> void fields(V& v) { v("teacher", teacher, "teacher model folder"); }
};
AUTOTHINK_CONFIG_SECTION("train", CheckTrainSection);
AUTOTHINK_CONFIG_SECTION("train", CheckTrainExtra);  // a second reader of the same section

TEST(config, check_config_validates_registered_sections_and_stages) {
  const char* yaml =
      "train:\n"
      "  steps: 3\n"
      "  teacher: t\n"
      "rl: {group: 4}\n"
      "demo:\n"
      "  stages:\n"
      "    - command: train\n"
      "      train: {steps: 2}\n";
  ConfigCheckReport report = check_config(Config::parse(yaml, "c.yaml"));
  EXPECT_EQ(report.validated, (std::vector<std::string>{"train", "demo.stages.0.train"}));
  EXPECT_EQ(report.unchecked, (std::vector<std::string>{"rl"}));
}

TEST(config, read_section_accepts_keys_another_reader_registered) {
  Config c = Config::parse("train:\n  steps: 3\n  teacher: big\n", "r.yaml");
  EXPECT_EQ(read_section<CheckTrainSection>(c, "train").steps, 3);  // teacher: CheckTrainExtra's
  Config typo = Config::parse("train:\n  teachr: big\n", "r.yaml");
  std::string msg = error_of([&] { read_section<CheckTrainSection>(typo, "train"); });
  EXPECT_NE(msg.find("unknown key train.teachr (at r.yaml:2): did you mean 'teacher'?"), std::string::npos) << msg;
}

TEST(config, check_config_reports_every_problem_with_location) {
  const char* yaml =
      "trian:\n"
      "  steps: 3\n"
      "train:\n"
      "  steps: x\n"
      "demo:\n"
      "  stages:\n"
      "    - name: first\n"
      "      train: {stepz: 2}\n"
      "      modle: {}\n";
  std::string msg = error_of([&] { check_config(Config::parse(yaml, "c.yaml")); });
  EXPECT_NE(msg.find("unknown section trian (at c.yaml:1): did you mean 'train'?"), std::string::npos) << msg;
  EXPECT_NE(msg.find("train.steps must be an integer, got 'x' (at c.yaml:4)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("demo.stages.0 has no command"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown key demo.stages.0.train.stepz (at c.yaml:8)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown key demo.stages.0.modle (at c.yaml:9): did you mean 'model'?"), std::string::npos) << msg;
}

}  // namespace
}  // namespace autothink::core
