// Cold-start tagging: the decision rule (higher pass rate wins; ties and margins below δ go off;
// nothing correct goes on with the solver's CoT), the shortest-correct choice, the forced fraction,
// batching into one generate call, and resuming a run without duplicates — on scripted samples
// (the rule is what is under test; tests/apps runs it on the real engine).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "data/format/parser.hpp"
#include "data/format/special_tokens.hpp"
#include "data/tagging.hpp"
#include "scripted_generator.hpp"
#include "test_paths.hpp"

namespace autothink::data {
namespace {

using testing::off_text;
using testing::on_text;
using testing::ScriptedGenerator;

SynthRecord query(const std::string& id, const std::string& difficulty, const std::string& question,
                  const std::string& answer) {
  return {id, difficulty == "easy" ? "add_easy" : "add_hard", difficulty, question, answer, "solver steps for " + id};
}

const format::Message& reply(const ChatRecord& r) { return r.conversation.messages.back(); }

TEST(tagging, decision_rule_table) {
  struct Case {
    int on_ok, off_ok;
    double delta;
    bool on;
    const char* reason;
  } cases[] = {
      {3, 1, 0.1, true, kTagOnBetter},      // on clearly better
      {1, 3, 0.1, false, kTagOffBetter},    // off better
      {2, 2, 0.1, false, kTagTie},          // tie → off
      {4, 4, 0.0, false, kTagTie},          // tie → off even with δ = 0
      {3, 2, 0.3, false, kTagWithinDelta},  // 0.75 vs 0.5 is inside δ = 0.3 → off
      {3, 2, 0.25, true, kTagOnBetter},     // exactly δ is not "below δ"
      {1, 0, 0.0, true, kTagOnBetter},      // any edge wins with δ = 0
      {0, 0, 0.1, true, kTagNoCorrect},     // nothing correct → on (solver CoT)
  };
  for (const auto& c : cases) {
    ModeDecision d = decide_mode(c.on_ok, 4, c.off_ok, 4, c.delta);
    EXPECT_EQ(d.mode == format::ThinkMode::on, c.on) << c.on_ok << "/" << c.off_ok << " δ=" << c.delta;
    EXPECT_EQ(d.reason, c.reason) << c.on_ok << "/" << c.off_ok << " δ=" << c.delta;
    EXPECT_DOUBLE_EQ(d.p_on, c.on_ok / 4.0);
    EXPECT_DOUBLE_EQ(d.p_off, c.off_ok / 4.0);
  }
  EXPECT_THROW(decide_mode(0, 0, 1, 1, 0.1), Error);
}

TEST(tagging, batch_picks_modes_keeps_shortest_correct_and_falls_back) {
  const SynthRecord easy = query("e1", "easy", "What is 38 + 6?", "44");
  const SynthRecord hard = query("h1", "hard", "What is 38 + 47 + 19 + 26?", "130");
  const SynthRecord none = query("h2", "hard", "What is 11 + 22 + 33 + 44?", "110");
  ScriptedGenerator gen;
  // easy: on 2/4, off 4/4 → off; the shortest correct off sample is "44" in 3 tokens.
  gen.script(easy.question, format::PromptMode::on,
             {on_text("38+6=44", "44", 20), on_text("x", "45", 9), on_text("y", "44", 15), on_text("z", "43", 8)});
  gen.script(easy.question, format::PromptMode::off,
             {off_text("The answer is 44", 6), off_text("44", 3), off_text("44.", 4), off_text("44", 5)});
  // hard: on 3/4 (a wrong 5-token sample must not win the "shortest"), off 0/4 → on.
  gen.script(hard.question, format::PromptMode::on,
             {on_text("long steps", "130", 30), on_text("85, 104, 130", "130", 12), on_text("wrong", "120", 5),
              on_text("mid steps", "130", 20)});
  gen.script(hard.question, format::PromptMode::off, {off_text("120", 3)});
  // none: nothing correct; a truncated on sample with the right number does not count.
  gen.script(none.question, format::PromptMode::on, {{"11+22=33, 33+33=66, 66+44=110\n</think>\n<answer>\n110", 40}});
  gen.script(none.question, format::PromptMode::off, {off_text("100", 3)});

  TagOptions options;
  options.samples_per_mode = 4;
  options.forced_fraction = 0;
  auto records = tag_batch(gen, {easy, hard, none}, options, VerifierRegistry::with_builtins(), 7);

  ASSERT_EQ(gen.calls.size(), 1u);  // all queries × modes × N in one call
  EXPECT_EQ(gen.calls[0].inputs, 6u);
  EXPECT_EQ(gen.calls[0].params.n, 4);
  EXPECT_EQ(gen.calls[0].params.seed, 7u);
  ASSERT_EQ(records.size(), 3u);

  EXPECT_EQ(reply(records[0]).mode, format::ThinkMode::off);
  EXPECT_EQ(reply(records[0]).content, "44");
  EXPECT_EQ(reply(records[0]).judge, options.judge_off);
  EXPECT_EQ(records[0].meta.extra["tag_reason"], kTagOffBetter);
  EXPECT_DOUBLE_EQ(records[0].meta.extra["p_on"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(records[0].meta.extra["p_off"].get<double>(), 1.0);
  EXPECT_EQ(records[0].meta.extra["tokens"], 3);
  EXPECT_DOUBLE_EQ(records[0].meta.extra["tokens_on"].get<double>(), 13.0);

  EXPECT_EQ(reply(records[1]).mode, format::ThinkMode::on);
  EXPECT_EQ(reply(records[1]).reasoning, "85, 104, 130");
  EXPECT_EQ(reply(records[1]).content, "130");
  EXPECT_EQ(reply(records[1]).judge, options.judge_on);
  EXPECT_EQ(records[1].meta.extra["tag_reason"], kTagOnBetter);
  EXPECT_EQ(records[1].meta.extra["source"], "model");

  EXPECT_EQ(reply(records[2]).mode, format::ThinkMode::on);
  EXPECT_EQ(reply(records[2]).reasoning, none.cot);
  EXPECT_EQ(reply(records[2]).content, "110");
  EXPECT_EQ(records[2].meta.extra["tag_reason"], kTagNoCorrect);
  EXPECT_EQ(records[2].meta.extra["source"], "solver");
  EXPECT_EQ(records[2].meta.truth, "110");

  // Every record renders to a KAT turn the parser reads back whole, with no problems.
  for (const auto& r : records) {
    auto segments = format::render(r.conversation);
    std::string text = format::to_text(segments);
    auto at = text.rfind("<|im_start|>assistant\n");
    ASSERT_NE(at, std::string::npos);
    auto parsed = format::parse(text.substr(at + std::string("<|im_start|>assistant\n").size()));
    EXPECT_TRUE(parsed.complete) << text;
    EXPECT_TRUE(parsed.problems.empty()) << text;
    EXPECT_EQ(parsed.answer, reply(r).content);
  }
}

TEST(tagging, ties_and_small_margins_go_off) {
  const SynthRecord q = query("e2", "easy", "What is 1 + 2?", "3");
  ScriptedGenerator gen;
  gen.script(q.question, format::PromptMode::on, {on_text("1+2=3", "3", 9), on_text("1+2=4", "4", 9)});
  gen.script(q.question, format::PromptMode::off, {off_text("3", 2), off_text("4", 2)});
  TagOptions options;
  options.samples_per_mode = 2;
  options.forced_fraction = 0;
  auto tie = tag_batch(gen, {q}, options, VerifierRegistry::with_builtins(), 1).front();
  EXPECT_EQ(reply(tie).mode, format::ThinkMode::off);
  EXPECT_EQ(tie.meta.extra["tag_reason"], kTagTie);

  // on 2/2 vs off 1/2: a 0.5 edge; with δ = 0.6 it is within the margin → off, else on.
  gen.script(q.question, format::PromptMode::on, {on_text("1+2=3", "3", 9)});
  options.delta = 0.6;
  auto small = tag_batch(gen, {q}, options, VerifierRegistry::with_builtins(), 1).front();
  EXPECT_EQ(reply(small).mode, format::ThinkMode::off);
  EXPECT_EQ(reply(small).content, "3");
  EXPECT_EQ(small.meta.extra["tag_reason"], kTagWithinDelta);
  options.delta = 0.5;
  auto edge = tag_batch(gen, {q}, options, VerifierRegistry::with_builtins(), 1).front();
  EXPECT_EQ(reply(edge).mode, format::ThinkMode::on);
  EXPECT_EQ(reply(edge).reasoning, "1+2=3");
}

TEST(tagging, forced_fraction_draws_per_id_and_writes_fixed_judges) {
  int forced = 0, forced_on = 0;
  for (int i = 0; i < 4000; ++i) {
    auto draw = forced_draw(42, "q" + std::to_string(i), 0.25);
    auto again = forced_draw(42, "q" + std::to_string(i), 0.25);
    EXPECT_EQ(draw.forced, again.forced);
    EXPECT_EQ(draw.mode, again.mode);
    forced += draw.forced;
    forced_on += draw.forced && draw.mode == format::ThinkMode::on;
  }
  EXPECT_NEAR(forced / 4000.0, 0.25, 0.03);
  EXPECT_NEAR(forced_on / double(forced), 0.5, 0.06);  // both modes stay represented
  EXPECT_FALSE(forced_draw(42, "q1", 0.0).forced);
  EXPECT_TRUE(forced_draw(42, "q1", 1.0).forced);

  // With fraction 1 every record is forced: the fixed judge of its drawn mode, its text from that
  // mode's samples (the off answer here), the decision still recorded.
  const SynthRecord q = query("e3", "easy", "What is 2 + 2?", "4");
  ScriptedGenerator gen;
  gen.script(q.question, format::PromptMode::on, {on_text("2+2=4", "4", 7)});
  gen.script(q.question, format::PromptMode::off, {off_text("4", 2)});
  TagOptions options;
  options.samples_per_mode = 1;
  options.forced_fraction = 1.0;
  int seen_on = 0, seen_off = 0;
  for (int64_t seed = 0; seed < 16; ++seed) {
    options.seed = seed;
    auto r = tag_batch(gen, {q}, options, VerifierRegistry::with_builtins(), 1).front();
    const bool on = reply(r).mode == format::ThinkMode::on;
    (on ? seen_on : seen_off)++;
    EXPECT_EQ(reply(r).judge, std::string(on ? format::kForcedOnJudge : format::kForcedOffJudge));
    EXPECT_EQ(r.meta.extra["tag_reason"], on ? kTagForcedOn : kTagForcedOff);
    EXPECT_EQ(r.meta.extra["decided_mode"], "off");  // the tie, as decided
    EXPECT_EQ(reply(r).reasoning, on ? "2+2=4" : "");
  }
  EXPECT_GT(seen_on, 0);
  EXPECT_GT(seen_off, 0);
}

TEST(tagging, file_resumes_without_duplicates_and_drops_a_torn_line) {
  std::vector<SynthRecord> queries;
  ScriptedGenerator gen;
  for (int i = 0; i < 5; ++i) {
    queries.push_back(query("q" + std::to_string(i), "easy", "What is " + std::to_string(i) + " + 1?",
                            std::to_string(i + 1)));
    gen.script(queries.back().question, format::PromptMode::on, {on_text("s", std::to_string(i + 1), 5)});
    gen.script(queries.back().question, format::PromptMode::off, {off_text(std::to_string(i + 1), 2)});
  }
  TagOptions options;
  options.samples_per_mode = 2;
  options.batch_size = 2;
  const auto dir = testing::temp_dir("tag-resume");
  const std::string out = (dir / "tagged.jsonl").string();
  const auto registry = VerifierRegistry::with_builtins();

  auto first = tag_file(gen, queries, out, options, registry);
  EXPECT_EQ(first.tagged, 5);
  EXPECT_EQ(gen.calls.size(), 3u);  // batches of 2, 2, 1
  EXPECT_EQ(gen.calls[0].inputs, 4u);
  EXPECT_NE(gen.calls[0].params.seed, gen.calls[1].params.seed);
  const auto full_seeds = std::vector<uint64_t>{gen.calls[0].params.seed, gen.calls[1].params.seed,
                                                gen.calls[2].params.seed};

  // Nothing left to do: no generation, the same records.
  auto again = tag_file(gen, queries, out, options, registry);
  EXPECT_EQ(again.tagged, 0);
  EXPECT_EQ(again.resumed, 5);
  EXPECT_EQ(gen.calls.size(), 3u);
  EXPECT_EQ(read_chat_records(out).size(), 5u);

  // Interrupted after 3 records with a torn 4th line: the torn line is dropped, q3 and q4 are
  // tagged again in their own batch with that batch's seed (batch 1 = q2,q3; batch 2 = q4).
  {
    std::ifstream in(out);
    std::string l1, l2, l3, l4;
    std::getline(in, l1), std::getline(in, l2), std::getline(in, l3), std::getline(in, l4);
    in.close();
    std::ofstream rewrite(out, std::ios::trunc);
    rewrite << l1 << "\n" << l2 << "\n" << l3 << "\n" << l4.substr(0, l4.size() / 2);
  }
  gen.calls.clear();
  auto resumed = tag_file(gen, queries, out, options, registry);
  EXPECT_EQ(resumed.dropped_bad_lines, 1);
  EXPECT_EQ(resumed.resumed, 3);
  EXPECT_EQ(resumed.tagged, 2);
  ASSERT_EQ(gen.calls.size(), 2u);
  EXPECT_EQ(gen.calls[0].inputs, 2u);  // only q3 of batch 1
  EXPECT_EQ(gen.calls[0].params.seed, full_seeds[1]);
  EXPECT_EQ(gen.calls[1].params.seed, full_seeds[2]);
  auto records = read_chat_records(out);
  ASSERT_EQ(records.size(), 5u);
  std::set<std::string> ids;
  for (const auto& r : records) ids.insert(r.meta.id);
  EXPECT_EQ(ids.size(), 5u);

  // --fresh starts over.
  gen.calls.clear();
  auto fresh = tag_file(gen, queries, out, options, registry, /*fresh=*/true);
  EXPECT_EQ(fresh.tagged, 5);
  EXPECT_EQ(read_chat_records(out).size(), 5u);

  // Duplicate ids in the input are refused before any sampling.
  gen.calls.clear();
  auto dup = queries;
  dup.push_back(queries[0]);
  EXPECT_THROW(tag_file(gen, dup, out, options, registry, true), Error);
  EXPECT_TRUE(gen.calls.empty());
}

TEST(tagging, summary_counts_by_difficulty) {
  ScriptedGenerator gen;
  std::vector<SynthRecord> queries = {query("e1", "easy", "E1", "1"), query("e2", "easy", "E2", "2"),
                                      query("h1", "hard", "H1", "3"), query("h2", "hard", "H2", "4")};
  // e1, e2: off right (2 tokens), on right (10 tokens) → tie → off. h1: on right (20), off wrong → on.
  // h2: nothing right → no_correct fallback (on).
  for (int i = 0; i < 2; ++i) {
    gen.script(queries[i].question, format::PromptMode::on, {on_text("s", queries[i].answer, 10)});
    gen.script(queries[i].question, format::PromptMode::off, {off_text(queries[i].answer, 2)});
  }
  gen.script("H1", format::PromptMode::on, {on_text("s", "3", 20)});
  gen.script("H1", format::PromptMode::off, {off_text("9", 4)});
  gen.script("H2", format::PromptMode::on, {on_text("s", "9", 30)});
  gen.script("H2", format::PromptMode::off, {off_text("9", 4)});
  TagOptions options;
  options.samples_per_mode = 1;
  options.forced_fraction = 0;
  auto records = tag_batch(gen, queries, options, VerifierRegistry::with_builtins(), 3);
  auto s = tag_summary(records);
  EXPECT_EQ(s["overall"]["queries"], 4);
  EXPECT_EQ(s["overall"]["no_correct"], 1);
  EXPECT_DOUBLE_EQ(s["by_difficulty"]["easy"]["think_on_rate"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(s["by_difficulty"]["hard"]["think_on_rate"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(s["by_difficulty"]["hard"]["p_on"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(s["by_difficulty"]["easy"]["mean_kept_tokens"].get<double>(), 2.0);
  EXPECT_EQ(s["by_difficulty"]["hard"]["kept_from_model"], 1);
  // Decided tokens 2+2+20+30 = 54 vs always on 10+10+20+30 = 70.
  EXPECT_NEAR(s["overall"]["token_saving_vs_on"].get<double>(), 1.0 - 54.0 / 70.0, 1e-12);
  // On an equal mix, each difficulty's means weigh the same: easy decided 2 vs on 10, hard 25 vs 25.
  EXPECT_NEAR(tag_summary_mix_saving(s), 1.0 - 27.0 / 35.0, 1e-12);
  EXPECT_NEAR(s["mix_token_saving_vs_on"].get<double>(), 1.0 - 27.0 / 35.0, 1e-12);
  EXPECT_THROW(tag_summary_mix_saving(nlohmann::json::object(), "x.json"), Error);
  std::string text = tag_summary_text(s);
  EXPECT_NE(text.find("add_hard/hard"), std::string::npos);
  EXPECT_NE(text.find("1 no-correct fallback"), std::string::npos);
}

}  // namespace
}  // namespace autothink::data
