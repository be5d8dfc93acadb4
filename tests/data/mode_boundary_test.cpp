// The mode boundary check: the cold-start tags against a reference tagging with more samples per
// mode (both made by the real tagging rule, tag_batch, over scripted samples), the disagreement
// and the query feature that predicts the best mode; sum parsing; named errors.
#include "data/mode_boundary.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "data/tagging.hpp"
#include "scripted_generator.hpp"

namespace autothink::data {
namespace {

using testing::off_text;
using testing::on_text;
using testing::ScriptedGenerator;

SynthRecord medium(int a, int b) {
  const std::string key = std::to_string(a) + "+" + std::to_string(b);
  return {"add_medium/" + key, "add_medium", "medium", "What is " + std::to_string(a) + " + " + std::to_string(b) + "?",
          std::to_string(a + b), "units: ..."};
}

// Forced on always right; forced off right on `off_right` of 4 samples.
void script(ScriptedGenerator& gen, const SynthRecord& q, int off_right) {
  gen.script(q.question, format::PromptMode::on, {on_text("steps", q.answer, 30)});
  std::vector<testing::ScriptedText> off;
  for (int i = 0; i < 4; ++i) off.push_back(off_text(i < off_right ? q.answer : "1", 4));
  gen.script(q.question, format::PromptMode::off, off);
}

TEST(mode_boundary, tags_against_the_reference_and_the_carry_feature) {
  const std::vector<SynthRecord> queries = {medium(18, 16), medium(12, 13), medium(27, 35), medium(41, 20)};
  TagOptions options;
  options.forced_fraction = 0;
  options.delta = 0.3;
  // Cold start (4 samples): 18+16 off 2/4 → on; 27+35 off 4/4 (a lucky draw) → off; the others off.
  ScriptedGenerator cold;
  script(cold, queries[0], 2);
  script(cold, queries[1], 4);
  script(cold, queries[2], 4);
  script(cold, queries[3], 3);
  options.samples_per_mode = 4;
  const auto tagged = tag_batch(cold, queries, options, VerifierRegistry::with_builtins(), 1);
  // Reference (8 samples): both carrying sums are best thought through.
  ScriptedGenerator ref;
  script(ref, queries[0], 1);
  script(ref, queries[1], 4);
  script(ref, queries[2], 2);
  script(ref, queries[3], 4);
  options.samples_per_mode = 8;
  auto reference = tag_batch(ref, queries, options, VerifierRegistry::with_builtins(), 2);
  // A record of another difficulty is not part of the check.
  ScriptedGenerator other;
  const SynthRecord easy{"add_easy/3+4", "add_easy", "easy", "What is 3 + 4?", "7", "3 + 4 = 7"};
  script(other, easy, 4);
  reference.push_back(tag_batch(other, {easy}, options, VerifierRegistry::with_builtins(), 3)[0]);

  const BoundaryReport r = mode_boundary(tagged, reference, "medium", 8);
  EXPECT_EQ(r.queries, 4);
  EXPECT_DOUBLE_EQ(r.best_on_rate, 0.5);
  EXPECT_DOUBLE_EQ(r.tagged_on_rate, 0.25);
  EXPECT_DOUBLE_EQ(r.disagreement, 0.25);
  EXPECT_EQ(r.tagged_off_best_on, 1);
  EXPECT_EQ(r.tagged_on_best_off, 0);
  EXPECT_DOUBLE_EQ(r.mean_p_on, 1.0);
  EXPECT_DOUBLE_EQ(r.mean_p_off, (0.25 + 1.0 + 0.5 + 1.0) / 4);
  EXPECT_DOUBLE_EQ(r.majority_agreement, 0.5);
  ASSERT_FALSE(r.features.empty());
  // units_carry and any_carry both name every best mode here; the first declared is listed first.
  EXPECT_EQ(r.features[0].name, "units_carry");
  EXPECT_TRUE(r.features[0].predicts_on_when_true);
  EXPECT_DOUBLE_EQ(r.features[0].agreement, 1.0);
  EXPECT_EQ(r.features[0].holds, 2);
  const std::string text = boundary_text(r);
  EXPECT_NE(text.find("disagree with the best mode on 25.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("on iff units_carry"), std::string::npos) << text;
  EXPECT_EQ(boundary_to_json(r)["features"][0]["rule"], "on iff units_carry");
}

TEST(mode_boundary, sum_terms_reads_sums_only) {
  EXPECT_EQ(sum_terms("What is 38 + 47?"), (std::vector<long long>{38, 47}));
  EXPECT_EQ(sum_terms("What is 38 + 47 + 19 + 26?"), (std::vector<long long>{38, 47, 19, 26}));
  EXPECT_TRUE(sum_terms("What is 23 * 47?").empty());
  EXPECT_TRUE(sum_terms("What is 38 +?").empty());
  EXPECT_TRUE(sum_terms("Which is larger, 47 or 74?").empty());
  EXPECT_TRUE(sum_terms("What is 5?").empty());
}

TEST(mode_boundary, errors_name_the_file_and_record) {
  ChatRecord r;
  r.meta.id = "add_medium/1+2";
  r.meta.difficulty = "medium";
  try {
    mode_boundary({r}, {r}, "medium", 8, "cold.jsonl", "ref.jsonl");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("decided_mode"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("add_medium/1+2"), std::string::npos) << e.what();
  }
  try {
    mode_boundary({r}, {}, "medium", 8, "cold.jsonl", "ref.jsonl");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no medium query is in both"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace autothink::data
