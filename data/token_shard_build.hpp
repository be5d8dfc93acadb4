// Chat JSONL → token shard: each record is rendered with the KAT template, encoded with the loss
// mask over assistant tokens, and written to a shard cached under a name that hashes the inputs
// (paths, sizes, mtimes), the tokenizer and the options — so a second run (or a resume) maps the
// same file instead of re-tokenizing.
#pragma once
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/format/template.hpp"

namespace autothink::data {

class Tokenizer;

// How a record becomes training conversations.
enum class RenderStyle {
  // pretrain / distill: every record as a forced-on and a forced-off turn with the fixed judge
  // texts (format::kForcedOnJudge / kForcedOffJudge). Records that already carry a fixed judge
  // (dual_mode.jsonl) are used as they are; a forced-on turn needs reasoning, so a record without
  // any yields only its forced-off turn. Each forced turn comes again under the auto judge of its
  // mode (AutoJudges), all of it trained.
  dual_mode,
  // sft: the record's own judge and mode. A forced turn (fixed judge: the dual-mode replay) trains
  // only what follows its prefill, and comes again under the auto judge of its mode, likewise.
  own,
};

// The judge texts the model writes itself in auto mode. Every forced turn is also rendered under
// the auto judge of its mode, so the answer skill is trained in the context auto mode will ask
// for it in, not only after the fixed forced texts (DESIGN.md §5, "why auto think-off answers
// were worse"). Empty = no such turn.
struct AutoJudges {
  std::string on, off;
};

// One rendered training turn. With judge_is_context, its judge, mode token and the opening tag
// are context, not target (sft style: a forced turn's prefill, or a replayed turn under an auto
// judge, must not teach the model which judge to write).
struct TrainingTurn {
  format::Conversation conversation;
  bool judge_is_context = false;
};

// Accepts chat records ({"messages": [...]}) and synth records ({"question","answer","cot"}; a
// synth record's own mode is on when it has a chain of thought). Throws autothink::Error naming
// `where` (file:line) and the field for a malformed record.
std::vector<TrainingTurn> training_turns(const nlohmann::json& record, RenderStyle style, const AutoJudges& judges,
                                         const std::string& where = "");

// The conversations of training_turns (for callers that need no mask).
std::vector<format::Conversation> training_conversations(const nlohmann::json& record, RenderStyle style,
                                                         const std::string& where = "",
                                                         const AutoJudges& judges = {});

struct ShardBuildOptions {
  std::vector<std::string> inputs;   // JSONL files
  RenderStyle style = RenderStyle::dual_mode;
  bool skip_bad = false;             // skip (and count) malformed records instead of failing
  std::size_t max_tokens = 0;        // longer documents are cut to this many tokens (0 = never)
  std::filesystem::path cache_dir;   // where the shard is written / looked up
  std::string name = "train";        // file name prefix
  AutoJudges auto_judges;            // forced turns are also rendered under these (empty = not)
};

struct ShardBuildResult {
  std::filesystem::path path;
  std::size_t records = 0, documents = 0, tokens = 0, masked_tokens = 0;
  std::size_t skipped = 0;    // bad records skipped (skip_bad)
  std::size_t truncated = 0;  // documents cut to max_tokens
  bool cached = false;        // the shard existed and was reused
};

// Throws autothink::Error naming file:line for a bad record (unless skip_bad), and for a missing
// input or an input without any usable record.
ShardBuildResult build_token_shard(const ShardBuildOptions& options, const Tokenizer& tokenizer);

}  // namespace autothink::data
