// Token shards and batches: the shard round trips ids/mask/offsets through the mapped file,
// corrupt shards are refused, dual-mode rendering makes a forced-on and a forced-off document,
// bad records name file:line (or are skipped and counted), and ranks read disjoint documents
// whose union is the 1-rank step.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "core/error.hpp"
#include "data/batcher.hpp"
#include "data/format/template.hpp"
#include "data/token_shard.hpp"
#include "data/token_shard_build.hpp"
#include "train_test_data.hpp"

namespace autothink::data {
namespace {
namespace fs = std::filesystem;
using train::testdata::shared_tokenizer;
using train::testdata::write_records;

TEST(token_shard, round_trips_documents) {
  auto dir = autothink::testing::temp_dir("shard");
  TokenShardWriter w;
  w.add({5, 6, 7}, {0, 1, 1});
  w.add({}, {});
  w.add({9}, {1});
  w.write(dir / "a.shard");
  TokenShard s(dir / "a.shard");
  ASSERT_EQ(s.doc_count(), 3u);
  EXPECT_EQ(s.token_count(), 4u);
  auto d0 = s.doc(0);
  ASSERT_EQ(d0.size, 3u);
  EXPECT_EQ(std::vector<int32_t>(d0.ids, d0.ids + 3), (std::vector<int32_t>{5, 6, 7}));
  EXPECT_EQ(std::vector<uint8_t>(d0.mask, d0.mask + 3), (std::vector<uint8_t>{0, 1, 1}));
  EXPECT_EQ(s.doc(1).size, 0u);
  EXPECT_EQ(s.doc(2).ids[0], 9);
  EXPECT_THROW(s.doc(3), Error);
}

TEST(token_shard, refuses_truncated_or_foreign_files) {
  auto dir = autothink::testing::temp_dir("shard-bad");
  TokenShardWriter w;
  w.add({1, 2, 3, 4}, {1, 1, 1, 1});
  w.write(dir / "a.shard");
  fs::resize_file(dir / "a.shard", fs::file_size(dir / "a.shard") - 2);
  try {
    TokenShard s(dir / "a.shard");
    FAIL() << "truncated shard accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a.shard"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "b.shard") << "this is not a shard at all, just text";
  EXPECT_THROW(TokenShard(dir / "b.shard"), Error);
  EXPECT_THROW(TokenShard(dir / "missing.shard"), Error);
}

TEST(token_shard, dual_mode_renders_forced_on_and_off) {
  auto convs = training_conversations(train::testdata::arithmetic_record(3), RenderStyle::dual_mode);
  ASSERT_EQ(convs.size(), 2u);
  EXPECT_EQ(convs[0].messages.back().judge, format::kForcedOnJudge);
  EXPECT_EQ(convs[0].messages.back().mode, format::ThinkMode::on);
  EXPECT_FALSE(convs[0].messages.back().reasoning.empty());
  EXPECT_EQ(convs[1].messages.back().judge, format::kForcedOffJudge);
  EXPECT_EQ(convs[1].messages.back().mode, format::ThinkMode::off);
  // sft keeps the record's own judge; a dual_mode.jsonl line (fixed judge) is used as it is.
  auto own = training_conversations(train::testdata::arithmetic_record(3), RenderStyle::own);
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0].messages.back().judge, "A sum of two numbers.");
  auto again = training_conversations(format::conversation_to_json(convs[1]), RenderStyle::dual_mode);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].messages.back().mode, format::ThinkMode::off);
  // Synth records are accepted too.
  nlohmann::json synth = {{"id", "x"}, {"family", "add"}, {"difficulty", "easy"},
                          {"question", "1+1?"}, {"answer", "2"}, {"cot", "one and one"}};
  EXPECT_EQ(training_conversations(synth, RenderStyle::dual_mode).size(), 2u);
}

TEST(token_shard, forced_turns_come_again_under_the_auto_judges) {
  const AutoJudges judges{"Thinking", "direct"};
  // Pretraining: forced on, on under the auto judge, forced off, off under the auto judge.
  auto pre = training_turns(train::testdata::arithmetic_record(3), RenderStyle::dual_mode, judges);
  ASSERT_EQ(pre.size(), 4u);
  const std::vector<std::pair<std::string, format::ThinkMode>> want = {{std::string(format::kForcedOnJudge), format::ThinkMode::on},
                                                                  {"Thinking", format::ThinkMode::on},
                                                                  {std::string(format::kForcedOffJudge), format::ThinkMode::off},
                                                                  {"direct", format::ThinkMode::off}};
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& m = pre[i].conversation.messages.back();
    EXPECT_EQ(m.judge, want[i].first) << i;
    EXPECT_EQ(m.mode, want[i].second) << i;
    EXPECT_FALSE(pre[i].judge_is_context) << i;  // pretraining trains the whole turn
  }
  // The answer and reasoning are the same under either judge.
  EXPECT_EQ(pre[1].conversation.messages.back().reasoning, pre[0].conversation.messages.back().reasoning);
  EXPECT_EQ(pre[3].conversation.messages.back().content, pre[2].conversation.messages.back().content);
  // SFT: a replayed forced turn comes twice with its judge as context; an auto record once, all trained.
  auto replay = training_turns(format::conversation_to_json(pre[2].conversation), RenderStyle::own, judges);
  ASSERT_EQ(replay.size(), 2u);
  EXPECT_TRUE(replay[0].judge_is_context && replay[1].judge_is_context);
  EXPECT_EQ(replay[1].conversation.messages.back().judge, "direct");
  auto tagged = training_turns(format::conversation_to_json(pre[3].conversation), RenderStyle::own, judges);
  ASSERT_EQ(tagged.size(), 1u);
  EXPECT_FALSE(tagged[0].judge_is_context);
  // No auto judges: the forced turns only.
  EXPECT_EQ(training_turns(train::testdata::arithmetic_record(3), RenderStyle::dual_mode, {}).size(), 2u);
}

TEST(token_shard, sft_replay_under_the_auto_judge_trains_the_answer_not_the_judge) {
  auto dir = autothink::testing::temp_dir("shard-auto-judge");
  {
    std::ofstream f(dir / "replay.jsonl");
    f << R"({"messages":[{"role":"user","content":"What is 47 + 6?"},{"role":"assistant","content":"53","judge":"A direct answer was requested.","mode":"off"}]})"
      << "\n";
  }
  ShardBuildOptions o;
  o.inputs = {(dir / "replay.jsonl").string()};
  o.cache_dir = dir / "cache";
  o.style = RenderStyle::own;
  const auto without = build_token_shard(o, shared_tokenizer());
  EXPECT_EQ(without.documents, 1u);
  o.auto_judges = {"Thinking", "direct"};
  const auto with = build_token_shard(o, shared_tokenizer());
  EXPECT_NE(with.path, without.path);  // the judges are part of the cache key
  ASSERT_EQ(with.documents, 2u);
  TokenShard s(with.path);
  format::Conversation prompt;
  prompt.messages.push_back(format::plain_message("user", "What is 47 + 6?"));
  const auto prefix =
      shared_tokenizer().encode_with_mask(format::render_prefilled_prompt(prompt, "direct", format::ThinkMode::off)).ids;
  const DocView under_auto = s.doc(1);
  ASSERT_GT(under_auto.size, prefix.size());
  EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), under_auto.ids));
  EXPECT_EQ(std::count(under_auto.mask, under_auto.mask + prefix.size(), 1), 0);  // judge and mode: context
  EXPECT_EQ(under_auto.mask[prefix.size()], 1);                                 // the answer's first token
}

TEST(token_shard, build_masks_assistant_tokens_and_caches) {
  auto dir = autothink::testing::temp_dir("shard-build");
  write_records(dir / "train.jsonl", 0, 10);
  ShardBuildOptions o;
  o.inputs = {(dir / "train.jsonl").string()};
  o.cache_dir = dir / "cache";
  auto r = build_token_shard(o, shared_tokenizer());
  EXPECT_FALSE(r.cached);
  EXPECT_EQ(r.records, 10u);
  EXPECT_EQ(r.documents, 20u);  // dual mode: two turns per record
  TokenShard s(r.path);
  auto d = s.doc(0);
  // The mask starts after the user turn and ends with the assistant turn.
  EXPECT_EQ(d.mask[0], 0);
  EXPECT_EQ(d.mask[d.size - 1], 1);
  auto again = build_token_shard(o, shared_tokenizer());
  EXPECT_TRUE(again.cached);
  EXPECT_EQ(again.path, r.path);
}

TEST(token_shard, sft_trains_forced_records_only_after_the_forced_prompt) {
  auto dir = autothink::testing::temp_dir("shard-forced");
  {
    std::ofstream f(dir / "tagged.jsonl");
    for (const char* judge : {"direct", "A direct answer was requested."})
      f << R"({"messages":[{"role":"user","content":"What is 47 + 6?"},{"role":"assistant","content":"53","judge":")"
        << judge << R"(","mode":"off"}]})" << "\n";
  }
  ShardBuildOptions o;
  o.inputs = {(dir / "tagged.jsonl").string()};
  o.cache_dir = dir / "cache";
  o.style = RenderStyle::own;
  auto r = build_token_shard(o, shared_tokenizer());
  ASSERT_EQ(r.documents, 2u);
  TokenShard s(r.path);
  auto ones = [](const DocView& d) { return std::count(d.mask, d.mask + d.size, 1); };
  // The auto record learns its judge; the forced one only what follows the prefilled prompt.
  format::Conversation prompt;
  prompt.messages.push_back(format::plain_message("user", "What is 47 + 6?"));
  const auto forced_prompt = shared_tokenizer().encode_with_mask(format::render_prompt(prompt, format::PromptMode::off)).ids;
  const DocView own = s.doc(0), forced = s.doc(1);
  EXPECT_EQ(static_cast<std::size_t>(ones(forced)), forced.size - forced_prompt.size());
  EXPECT_EQ(forced.mask[forced_prompt.size() - 1], 0);
  EXPECT_EQ(forced.mask[forced_prompt.size()], 1);  // the answer's first token
  EXPECT_GT(ones(own), ones(forced));
  // Pretraining (dual-mode style) keeps the whole forced turn in the loss.
  o.style = RenderStyle::dual_mode;
  TokenShard pre(build_token_shard(o, shared_tokenizer()).path);
  EXPECT_GT(ones(pre.doc(pre.doc_count() - 1)), ones(forced));
}

TEST(token_shard, bad_record_names_file_and_line_or_is_skipped) {
  auto dir = autothink::testing::temp_dir("shard-skip");
  write_records(dir / "train.jsonl", 0, 3);
  {
    std::ofstream out(dir / "train.jsonl", std::ios::app);
    out << "{\"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}\n";
    out << "not json\n";
  }
  write_records(dir / "more.jsonl", 3, 2);
  ShardBuildOptions o;
  o.inputs = {(dir / "train.jsonl").string(), (dir / "more.jsonl").string()};
  o.cache_dir = dir / "cache";
  try {
    build_token_shard(o, shared_tokenizer());
    FAIL() << "bad record accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train.jsonl:4"), std::string::npos) << e.what();
  }
  o.skip_bad = true;
  auto r = build_token_shard(o, shared_tokenizer());
  EXPECT_EQ(r.skipped, 2u);
  EXPECT_EQ(r.records, 5u);
}

TEST(batcher, ranks_read_disjoint_documents_covering_the_global_step) {
  TokenShardWriter w;
  for (int d = 0; d < 40; ++d) w.add(std::vector<int>(2 + d % 5, d), std::vector<unsigned char>(2 + d % 5, 1));
  auto dir = autothink::testing::temp_dir("batcher");
  w.write(dir / "a.shard");
  TokenShard shard(dir / "a.shard");
  auto docs_of = [&](int rank, int world, int64_t rows, int64_t accum, int steps) {
    BatcherOptions o;
    o.rows = rows, o.accumulation = accum, o.rank = rank, o.world = world, o.seed = 7;
    Batcher b(shard, o);
    std::vector<std::multiset<std::size_t>> per_step;
    for (int s = 0; s < steps; ++s) {
      std::multiset<std::size_t> docs;
      for (auto& micro : b.peek_step_docs()) docs.insert(micro.begin(), micro.end());
      b.next_step();
      per_step.push_back(docs);
    }
    return per_step;
  };
  auto one = docs_of(0, 1, 4, 2, 6);   // global batch 8; 40 docs → 5 steps an epoch
  auto r0 = docs_of(0, 2, 2, 2, 6);    // same global batch on 2 ranks
  auto r1 = docs_of(1, 2, 2, 2, 6);
  for (int s = 0; s < 6; ++s) {
    for (auto d : r0[s]) EXPECT_EQ(r1[s].count(d), 0u) << "step " << s << " doc " << d << " on both ranks";
    std::multiset<std::size_t> both = r0[s];
    both.insert(r1[s].begin(), r1[s].end());
    EXPECT_EQ(both, one[s]) << "step " << s;
  }
  // An epoch covers every document once; the next epoch is a different order.
  std::multiset<std::size_t> epoch;
  for (int s = 0; s < 5; ++s) epoch.insert(one[s].begin(), one[s].end());
  EXPECT_EQ(epoch.size(), 40u);
  EXPECT_EQ(std::set<std::size_t>(epoch.begin(), epoch.end()).size(), 40u);
}

TEST(batcher, position_resumes_the_same_order_and_pads_with_mask_zero) {
  TokenShardWriter w;
  for (int d = 0; d < 12; ++d) w.add(std::vector<int>(2 + d, 100 + d), std::vector<unsigned char>(2 + d, 1));
  auto dir = autothink::testing::temp_dir("batcher-pos");
  w.write(dir / "a.shard");
  TokenShard shard(dir / "a.shard");
  BatcherOptions o;
  o.rows = 3, o.seed = 1, o.pad_id = 0;
  Batcher a(shard, o), b(shard, o);
  for (int s = 0; s < 5; ++s) a.next_step();  // crosses into epoch 1
  b.set_position(a.position());
  EXPECT_EQ(a.position().epoch, 1);
  auto x = a.next_step()[0], y = b.next_step()[0];
  EXPECT_EQ(x.ids, y.ids);
  // Rows are padded with pad_id and mask 0 up to the longest document.
  int64_t pads = 0;
  for (int64_t i = 0; i < x.rows * x.cols; ++i)
    if (x.ids[i] == 0) {
      ++pads;
      EXPECT_EQ(x.mask[i], 0);
    }
  EXPECT_EQ(pads, x.rows * x.cols - x.tokens);
  o.rows = 13;
  EXPECT_THROW(Batcher(shard, o), Error);  // fewer documents than one global batch
}

TEST(batcher, group_by_length_cuts_padding_keeps_every_document_and_world_invariance) {
  TokenShardWriter w;  // short and long documents mixed, as think-off and think-on records are
  for (int d = 0; d < 256; ++d) {
    const int len = d % 4 == 0 ? 120 : 30 + d % 7;
    w.add(std::vector<int>(len, 1 + d), std::vector<unsigned char>(len, 1));
  }
  auto dir = autothink::testing::temp_dir("batcher-group");
  w.write(dir / "a.shard");
  TokenShard shard(dir / "a.shard");
  auto run = [&](bool group, int rank, int world, int64_t rows) {
    BatcherOptions o;
    o.rows = rows, o.rank = rank, o.world = world, o.seed = 3, o.group_by_length = group;
    Batcher b(shard, o);
    int64_t cells = 0;
    std::vector<std::multiset<std::size_t>> steps;
    for (int s = 0; s < 16; ++s) {  // one epoch of 16 steps
      std::multiset<std::size_t> docs;
      for (auto& micro : b.peek_step_docs()) docs.insert(micro.begin(), micro.end());
      for (auto& batch : b.next_step()) cells += batch.rows * batch.cols;
      steps.push_back(docs);
    }
    return std::make_pair(cells, steps);
  };
  auto plain = run(false, 0, 1, 16), grouped = run(true, 0, 1, 16);
  EXPECT_LT(grouped.first * 10, plain.first * 7) << "grouping should cut padded cells by > 30%";
  std::set<std::size_t> seen;
  for (auto& step : grouped.second) seen.insert(step.begin(), step.end());
  EXPECT_EQ(seen.size(), 256u) << "an epoch still covers every document once";
  EXPECT_NE(grouped.second, plain.second);
  auto r0 = run(true, 0, 2, 8), r1 = run(true, 1, 2, 8);
  for (int s = 0; s < 16; ++s) {
    std::multiset<std::size_t> both = r0.second[s];
    both.insert(r1.second[s].begin(), r1.second[s].end());
    EXPECT_EQ(both, grouped.second[s]) << "2 ranks read the 1-rank step " << s;
  }
}

}  // namespace
}  // namespace autothink::data
