// The streaming KAT parser: results, every problem kind, events, split invariance, the CLI.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "core/shell_quote.hpp"
#include "data/format/parser.hpp"
#include "data/format/template.hpp"
#include "test_paths.hpp"

namespace autothink::format {
namespace {

const std::string kOffSample = "<judge>\nsimple\n</judge>\n<think_off>\n<answer>\n42\n</answer>";
const std::string kOnSample =
    "<judge>\nNeeds a few steps.\n</judge>\n<think_on>\n<think>\n17 * 3 = 51.\nThen 51 + 9 = 60.\n</think>\n"
    "<answer>\n60\n</answer><|im_end|>";

// Outputs covering every path of the parser; also the fuzz seeds (tests/fuzz/corpus).
std::vector<std::string> samples() {
  std::vector<std::string> s = {
      kOffSample,
      kOnSample,
      "<judge>\nx\n</judge>\n<think_on>\n<think>\nlet me",
      "<judge>\nx\n<think_off>\n<answer>\ny\n</answer>",
      "<judge>\nj\n</judge>\n<think_off>\n<answer>\n42\n</answ",
      "<judge>\nj\n</judge>\n<answer>\n42\n</answer>",
      "<judge>\nj\n</judge>\n<think_on>\n<think_off>\n<think>\nr\n</think>\n<answer>\na\n</answer>",
      "hello <judge>\nj\n</judge> there\n<think_off>\n<answer>\na\n</answer>\nbye",
      "<judge>\nj1\n</judge>\n<judge>\nj2\n</judge>\n<think_off>\n<answer>\na\n</answer>",
      "<judge>\nj\xff\n</judge>\n<think_off>\n<answer>\n\xc3\xa9t\xe9 \xe2\x82\n</answer>",
      "Just an answer with no tags.\n",
      "<judge>\nis a<b? <div>x</div> <thinking> </judgement>\n</judge>\n<think_off>\n<answer>\n1 <2> 3 <\n</answer>",
      "<judge>\n  spaced  out \n\n</judge>\n<think_off>\n<answer>\n\n  line one\n\n  line two  \n\n</answer>\n<|im_end|>",
      "<judge>\nj\n</judge>\n<think_on>\n<think>\n\xf0\x9f\x98\x80 emoji \xe4\xb8\xad\xe6\x96\x87\n</think>\n<answer>\nok\n</answer>",
      "</answer><answer></judge>x<|endoftext|>",
      "<judge><judge><<<think>>>",
      "",
      "<",
      "<judge>\nj\n</judge>\n<think_off>\n<answer>\n42\n</answer><|im_end|>\ntrailing",
  };
  return s;
}

struct Collected {
  Result result;
  std::map<std::string, std::string> deltas;  // segment → concatenated delta text
  std::vector<std::string> events;            // compact JSON lines
};

Collected run_split(const std::string& input, const std::vector<size_t>& cuts) {
  Collected c;
  Parser parser([&](const Event& e) {
    if (e.kind == EventKind::delta) c.deltas[std::string(segment_name(e.segment))] += e.text;
    c.events.push_back(to_json(e).dump());
  });
  size_t at = 0;
  for (size_t cut : cuts) {
    parser.feed(std::string_view(input).substr(at, cut - at));
    at = cut;
  }
  parser.feed(std::string_view(input).substr(at));
  parser.finish();
  c.result = parser.result();
  return c;
}

Collected run_whole(const std::string& input) { return run_split(input, {}); }

std::vector<std::string> kinds(const Result& r) {
  std::vector<std::string> out;
  for (const Problem& p : r.problems) out.emplace_back(problem_name(p.kind));
  return out;
}

bool has_kind(const Result& r, ProblemKind kind) {
  for (const Problem& p : r.problems)
    if (p.kind == kind) return true;
  return false;
}

TEST(parser, think_off_example) {
  Result r = parse(kOffSample);
  EXPECT_EQ(r.judge, "simple");
  EXPECT_EQ(r.mode, ThinkMode::off);
  EXPECT_EQ(r.answer, "42");
  EXPECT_EQ(r.reasoning, "");
  EXPECT_TRUE(r.complete);
  EXPECT_TRUE(r.problems.empty()) << to_json(r).dump();
}

TEST(parser, result_json_is_compact_and_ordered) {
  EXPECT_EQ(to_json(parse(kOffSample)).dump(),
            R"({"judge":"simple","mode":"off","reasoning":"","answer":"42","complete":true,"problems":[]})");
  EXPECT_EQ(to_json(parse("<answer>x")).dump(),
            R"J({"judge":"","mode":"unknown","reasoning":"","answer":"x","complete":false,"problems":[)J"
            R"J({"kind":"truncated","offset":9,"message":"the output ended inside <answer> (no </answer>)"},)J"
            R"J({"kind":"no_mode","offset":9,"message":"no <think_on> or <think_off> mode token"},)J"
            R"J({"kind":"missing_close","offset":0,"message":"no <judge> segment"}]})J");
}

TEST(parser, think_on_sample_yields_reasoning) {
  Result r = parse(kOnSample);
  EXPECT_EQ(r.judge, "Needs a few steps.");
  EXPECT_EQ(r.mode, ThinkMode::on);
  EXPECT_EQ(r.reasoning, "17 * 3 = 51.\nThen 51 + 9 = 60.");
  EXPECT_EQ(r.answer, "60");
  EXPECT_TRUE(r.complete);
  EXPECT_TRUE(r.problems.empty()) << to_json(r).dump();
}

TEST(parser, rendered_turns_parse_back) {
  for (ThinkMode mode : {ThinkMode::on, ThinkMode::off}) {
    Conversation c{{Message{"user", "q", "", ThinkMode::unknown, ""},
                    Message{"assistant", "the answer", "the judge", mode, mode == ThinkMode::on ? "the reasoning" : ""}}};
    std::string text = to_text(render(c));
    text = text.substr(text.find("<judge>"));
    Result r = parse(text);
    EXPECT_EQ(r.judge, "the judge");
    EXPECT_EQ(r.mode, mode);
    EXPECT_EQ(r.reasoning, mode == ThinkMode::on ? "the reasoning" : "");
    EXPECT_EQ(r.answer, "the answer");
    EXPECT_TRUE(r.complete);
    EXPECT_TRUE(r.problems.empty()) << to_json(r).dump();
  }
}

TEST(parser, forced_prefill_then_generated_text) {
  Parser on;
  on.feed(prompt_prefill(PromptMode::on));
  on.feed("Add them.\n</think>\n<answer>\n5\n</answer><|im_end|>");
  on.finish();
  EXPECT_EQ(on.result().judge, "Thinking was requested.");
  EXPECT_EQ(on.result().mode, ThinkMode::on);
  EXPECT_EQ(on.result().reasoning, "Add them.");
  EXPECT_EQ(on.result().answer, "5");
  EXPECT_TRUE(on.result().complete);

  Parser off;
  off.feed(prompt_prefill(PromptMode::off));
  off.feed("5\n</answer><|endoftext|>");
  off.finish();
  EXPECT_EQ(off.result().judge, "A direct answer was requested.");
  EXPECT_EQ(off.result().mode, ThinkMode::off);
  EXPECT_EQ(off.result().answer, "5");
  EXPECT_TRUE(off.result().complete);
  EXPECT_TRUE(off.result().problems.empty());
}

TEST(parser, truncated_output_is_incomplete) {
  Result r = parse("<judge>\nx\n</judge>\n<think_on>\n<think>\nlet me");
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.reasoning, "let me");
  EXPECT_EQ(kinds(r), (std::vector<std::string>{"truncated", "truncated"}));  // inside <think>, before <answer>
}

TEST(parser, problem_missing_close) {
  Result r = parse("<judge>\nx\n<think_off>\n<answer>\ny\n</answer>");
  EXPECT_EQ(r.judge, "x");
  EXPECT_EQ(r.mode, ThinkMode::off);
  EXPECT_EQ(r.answer, "y");
  EXPECT_FALSE(r.complete);
  ASSERT_EQ(kinds(r), std::vector<std::string>{"missing_close"});
  EXPECT_EQ(r.problems[0].offset, 10u);  // where <think_off> starts
}

TEST(parser, problem_truncated_tag_is_kept_as_text) {
  const std::string input = "<judge>\nj\n</judge>\n<think_off>\n<answer>\n42\n</answ";
  Result r = parse(input);
  EXPECT_EQ(r.answer, "42\n</answ");
  EXPECT_FALSE(r.complete);
  ASSERT_TRUE(has_kind(r, ProblemKind::truncated));
  EXPECT_EQ(r.problems[0].kind, ProblemKind::truncated);
  EXPECT_EQ(r.problems[0].text.value_or(""), "</answ");
  EXPECT_EQ(r.problems[0].offset, input.size() - 6);
}

TEST(parser, problem_no_mode) {
  Result r = parse("<judge>\nj\n</judge>\n<answer>\n42\n</answer>");
  EXPECT_EQ(r.mode, ThinkMode::unknown);
  EXPECT_EQ(r.answer, "42");
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(kinds(r), std::vector<std::string>{"no_mode"});
}

TEST(parser, problem_both_modes_first_wins) {
  Result r = parse("<judge>\nj\n</judge>\n<think_on>\n<think_off>\n<think>\nr\n</think>\n<answer>\na\n</answer>");
  EXPECT_EQ(r.mode, ThinkMode::on);
  EXPECT_EQ(r.reasoning, "r");
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(kinds(r), std::vector<std::string>{"both_modes"});
}

TEST(parser, problem_stray_text_is_kept) {
  Result r = parse("hello <judge>\nj\n</judge> there\n<think_off>\n<answer>\na\n</answer>\nbye");
  EXPECT_EQ(r.judge, "j");
  EXPECT_EQ(r.answer, "a");
  ASSERT_EQ(kinds(r), (std::vector<std::string>{"stray_text", "stray_text", "stray_text"}));
  EXPECT_EQ(r.problems[0].text.value_or(""), "hello");
  EXPECT_EQ(r.problems[0].offset, 0u);
  EXPECT_EQ(r.problems[1].text.value_or(""), "there");
  EXPECT_EQ(r.problems[1].offset, 25u);
  EXPECT_EQ(r.problems[2].text.value_or(""), "bye");
}

TEST(parser, problem_stray_closing_tag) {
  Result r = parse("</answer><judge>\nj\n</judge>\n<think_off>\n<answer>\na\n</answer>");
  ASSERT_EQ(kinds(r), std::vector<std::string>{"stray_text"});
  EXPECT_EQ(r.problems[0].text.value_or(""), "</answer>");
  EXPECT_TRUE(r.complete);
}

TEST(parser, problem_repeated_segment_joins_text) {
  Result r = parse("<judge>\nj1\n</judge>\n<judge>\nj2\n</judge>\n<think_off>\n<answer>\na\n</answer>");
  EXPECT_EQ(r.judge, "j1\nj2");
  EXPECT_EQ(kinds(r), std::vector<std::string>{"repeated_segment"});
}

TEST(parser, problem_invalid_utf8_becomes_replacement) {
  Result r = parse("<judge>\nj\xff\n</judge>\n<think_off>\n<answer>\nok\n</answer>");
  EXPECT_EQ(r.judge, "j\xef\xbf\xbd");
  EXPECT_EQ(kinds(r), std::vector<std::string>{"invalid_utf8"});
  EXPECT_EQ(r.problems[0].offset, 9u);
  // A sequence cut off by a tag is one replacement; neighbouring bad bytes make one problem.
  Result cut = parse("<answer>\xe2\x82</answer>");
  EXPECT_EQ(cut.answer, "\xef\xbf\xbd");
  ASSERT_EQ(kinds(cut), (std::vector<std::string>{"invalid_utf8", "no_mode", "missing_close"}));
  EXPECT_EQ(cut.problems[0].offset, 8u);
  Result run = parse("<answer>a\xff\xfe" "b</answer>");
  EXPECT_EQ(run.answer, "a\xef\xbf\xbd\xef\xbf\xbd" "b");
  ASSERT_EQ(run.problems[0].kind, ProblemKind::invalid_utf8);
  EXPECT_NE(run.problems[0].message.find("2 bytes"), std::string::npos) << run.problems[0].message;
  EXPECT_NE(run.problems[1].kind, ProblemKind::invalid_utf8);
}

TEST(parser, problem_no_format) {
  Result r = parse("  Just an answer with no tags.\n<|im_end|>");
  EXPECT_EQ(r.answer, "Just an answer with no tags.");
  EXPECT_EQ(r.mode, ThinkMode::unknown);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(kinds(r), std::vector<std::string>{"no_format"});
}

TEST(parser, look_alike_tags_are_text) {
  Result r = parse("<judge>\nis a<b? <div>x</div> <thinking>\n</judge>\n<think_off>\n<answer>\n1 <2> 3 <\n</answer>");
  EXPECT_EQ(r.judge, "is a<b? <div>x</div> <thinking>");
  EXPECT_EQ(r.answer, "1 <2> 3 <");
  EXPECT_TRUE(r.complete);
  EXPECT_TRUE(r.problems.empty()) << to_json(r).dump();
}

TEST(parser, trailing_im_end_is_fine_and_whitespace_trimmed) {
  Result r = parse("<judge>\n  spaced  out \n\n</judge>\n<think_off>\n<answer>\n\n  line one\n\n  line two  \n\n</answer>\n<|im_end|>");
  EXPECT_EQ(r.judge, "spaced  out");
  EXPECT_EQ(r.answer, "line one\n\n  line two");
  EXPECT_TRUE(r.complete);
  EXPECT_TRUE(r.problems.empty()) << to_json(r).dump();
}

TEST(parser, events_of_the_example) {
  Collected c = run_whole(kOffSample);
  EXPECT_EQ(c.events, (std::vector<std::string>{
                          R"({"event":"segment_start","segment":"judge"})",
                          R"({"event":"delta","segment":"judge","text":"simple"})",
                          R"({"event":"segment_end","segment":"judge"})",
                          R"({"event":"mode","mode":"off"})",
                          R"({"event":"segment_start","segment":"answer"})",
                          R"({"event":"delta","segment":"answer","text":"42"})",
                          R"({"event":"segment_end","segment":"answer"})",
                          R"({"event":"end","complete":true})",
                      }));
}

TEST(parser, deltas_hold_back_trailing_whitespace) {
  std::vector<std::string> deltas;
  Parser p([&](const Event& e) {
    if (e.kind == EventKind::delta) deltas.push_back(e.text);
  });
  p.feed("<answer>\n  one ");
  EXPECT_EQ(deltas, std::vector<std::string>{"one"});
  p.feed(" two\n");
  EXPECT_EQ(deltas, (std::vector<std::string>{"one", "  two"}));
  p.feed("</answer>");
  p.finish();
  EXPECT_EQ(p.result().answer, "one  two");
}

TEST(parser, tag_one_byte_at_a_time_is_held_back) {
  std::vector<std::string> deltas;
  Parser p([&](const Event& e) {
    if (e.kind == EventKind::delta) deltas.push_back(e.text);
  });
  p.feed("<answer>x");
  for (char ch : std::string("</answe")) p.feed(std::string(1, ch));
  EXPECT_EQ(deltas, std::vector<std::string>{"x"});  // nothing of the tag leaked
  p.feed("r>");
  p.finish();
  EXPECT_EQ(p.result().answer, "x");
}

TEST(parser, split_utf8_waits_for_its_rest) {
  const std::string input = "<answer>\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80</answer>";
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    Collected c = run_split(input, {cut});
    EXPECT_EQ(c.result.answer, "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80") << "cut at " << cut;
    EXPECT_FALSE(has_kind(c.result, ProblemKind::invalid_utf8)) << "cut at " << cut;
  }
}

// Every sample split at every byte, byte by byte, and in random pieces gives the same result and
// the same per-segment deltas; deltas always concatenate to the final segment text.
TEST(parser, split_every_byte) {
  std::vector<std::string> inputs = samples();
  const auto corpus = testing::source_dir() / "tests" / "fuzz" / "corpus";
  if (std::filesystem::exists(corpus))
    for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      inputs.push_back(ss.str());
    }
  std::mt19937 rng(7);
  for (const std::string& input : inputs) {
    const Collected whole = run_whole(input);
    const std::string expected = to_json(whole.result).dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
    std::map<std::string, std::string> finals = {
        {"judge", whole.result.judge}, {"think", whole.result.reasoning}, {"answer", whole.result.answer}};
    for (auto& [segment, text] : finals)
      EXPECT_EQ(whole.deltas.count(segment) ? whole.deltas.at(segment) : "", text) << segment << " of " << input;
    auto check = [&](const std::vector<size_t>& cuts, const std::string& how) {
      const Collected split = run_split(input, cuts);
      EXPECT_EQ(to_json(split.result).dump(), expected) << how << " of " << input;
      EXPECT_EQ(split.deltas, whole.deltas) << how << " of " << input;
    };
    for (size_t cut = 0; cut <= input.size(); ++cut) check({cut}, "cut at " + std::to_string(cut));
    std::vector<size_t> every;
    for (size_t i = 1; i < input.size(); ++i) every.push_back(i);
    check(every, "byte by byte");
    for (int trial = 0; trial < 20 && !input.empty(); ++trial) {
      std::vector<size_t> cuts;
      for (size_t i = 1; i < input.size(); ++i)
        if (rng() % 4 == 0) cuts.push_back(i);
      check(cuts, "random split " + std::to_string(trial));
    }
  }
}

TEST(parser, every_byte_is_accounted_for) {
  // Text never disappears: each sample's non-space, non-tag characters show up in some field.
  Result r = parse("<judge>a</judge>b<think_off>c<answer>d</answer>e<|im_end|>f");
  EXPECT_EQ(r.judge, "a");
  EXPECT_EQ(r.answer, "d");
  std::string stray;
  for (const Problem& p : r.problems)
    if (p.kind == ProblemKind::stray_text) stray += p.text.value_or("");
  EXPECT_EQ(stray, "bcef");
}

TEST(parser, feed_after_finish_is_ignored) {
  Parser p;
  p.feed(kOffSample);
  p.finish();
  p.feed("more");
  p.finish();
  EXPECT_EQ(p.result().answer, "42");
  EXPECT_TRUE(p.result().problems.empty());
}

using core::shell_quote;

TEST(parser, cli_parse_prints_one_result_line) {
  auto run = testing::run_command("printf '<judge>\\nsimple\\n</judge>\\n<think_off>\\n<answer>\\n42\\n</answer>' | " +
                                  shell_quote(testing::autothink_binary()) + " parse");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.output,
            "{\"judge\":\"simple\",\"mode\":\"off\",\"reasoning\":\"\",\"answer\":\"42\",\"complete\":true,"
            "\"problems\":[]}\n");
  // Problems are data: a broken output still exits 0.
  auto broken = testing::run_command("printf 'no tags here' | " + shell_quote(testing::autothink_binary()) + " parse");
  EXPECT_EQ(broken.exit_code, 0);
  EXPECT_NE(broken.output.find("\"no_format\""), std::string::npos) << broken.output;
}

TEST(parser, cli_parse_events_and_input_file) {
  auto dir = testing::temp_dir("parse-cli");
  const auto file = dir / "out.txt";
  std::ofstream(file, std::ios::binary) << kOnSample;
  auto run = testing::run_command(shell_quote(testing::autothink_binary()) + " parse --events --input " +
                                  shell_quote(file.string()));
  EXPECT_EQ(run.exit_code, 0);
  std::vector<std::string> lines;
  std::istringstream in(run.output);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), R"({"event":"segment_start","segment":"judge"})");
  EXPECT_EQ(lines.back(), R"({"event":"end","complete":true})");
  EXPECT_NE(run.output.find(R"({"event":"mode","mode":"on"})"), std::string::npos);
  std::string reasoning;
  for (const std::string& line : lines) {
    auto j = nlohmann::json::parse(line);
    if (j["event"] == "delta" && j["segment"] == "think") reasoning += j["text"].get<std::string>();
  }
  EXPECT_EQ(reasoning, "17 * 3 = 51.\nThen 51 + 9 = 60.");

  auto missing = testing::run_command(shell_quote(testing::autothink_binary()) + " parse --input " +
                                          shell_quote((dir / "nope.txt").string()),
                                      true);
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("nope.txt"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace autothink::format
