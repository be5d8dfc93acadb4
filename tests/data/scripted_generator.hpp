// A data::Generator that returns scripted texts per (question, prompt mode): for unit tests of
// rules that sit on top of generation (tagging, eval), where the rule — not the model — is tested.
#pragma once
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "data/generator.hpp"

namespace autothink::testing {

struct ScriptedText {
  std::string text;  // what the "model" generated after the prompt's prefill
  int tokens = 0;    // its completion_tokens
};

class ScriptedGenerator : public data::Generator {
 public:
  // Sample j of a request gets script[j % size].
  void script(const std::string& question, format::PromptMode mode, std::vector<ScriptedText> texts) {
    scripts_[{question, mode}] = std::move(texts);
  }

  std::vector<std::vector<data::Completion>> generate(const std::vector<data::GenerationInput>& inputs,
                                                      const data::GenerationParams& params) override {
    calls.push_back({inputs.size(), params});
    std::vector<std::vector<data::Completion>> out;
    for (const auto& input : inputs) {
      const std::string& question = input.conversation.messages.back().content;
      auto it = scripts_.find({question, input.mode});
      if (it == scripts_.end() || it->second.empty()) throw std::runtime_error("no script for " + question);
      std::vector<data::Completion> samples;
      for (int j = 0; j < params.n; ++j) {
        const ScriptedText& s = it->second[j % it->second.size()];
        data::Completion c;
        c.prefill = format::prompt_prefill(input.mode);
        c.text = s.text;
        c.completion_tokens = s.tokens;
        c.finish_reason = "stop";
        samples.push_back(std::move(c));
      }
      out.push_back(std::move(samples));
    }
    return out;
  }

  struct Call {
    size_t inputs;
    data::GenerationParams params;
  };
  std::vector<Call> calls;

 private:
  std::map<std::pair<std::string, format::PromptMode>, std::vector<ScriptedText>> scripts_;
};

// Generated text after a forced-on prefill ("...<think>\n") and after a forced-off one ("...<answer>\n").
inline ScriptedText on_text(const std::string& reasoning, const std::string& answer, int tokens) {
  return {reasoning + "\n</think>\n<answer>\n" + answer + "\n</answer>", tokens};
}
inline ScriptedText off_text(const std::string& answer, int tokens) { return {answer + "\n</answer>", tokens}; }
// After the auto prefill ("<judge>\n").
inline ScriptedText auto_on_text(const std::string& judge, const std::string& reasoning, const std::string& answer,
                                 int tokens) {
  return {judge + "\n</judge>\n<think_on>\n<think>\n" + reasoning + "\n</think>\n<answer>\n" + answer + "\n</answer>",
          tokens};
}
inline ScriptedText auto_off_text(const std::string& judge, const std::string& answer, int tokens) {
  return {judge + "\n</judge>\n<think_off>\n<answer>\n" + answer + "\n</answer>", tokens};
}

}  // namespace autothink::testing
