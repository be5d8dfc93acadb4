// `autothink classifier train` fits the model complexity classifier on cold-start tags;
// `autothink classify` labels queries HIGH / LOW with it or with optillm's heuristic, one JSON
// line per query: {"label","score","classifier"[,"id"]}.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/command.hpp"
#include "core/error.hpp"
#include "core/jsonl.hpp"
#include "data/complexity.hpp"
#include "data/records.hpp"
#include "data/tokenizer.hpp"
#include "model/checkpoint.hpp"
#include "model/complexity_model.hpp"

namespace autothink::apps {
namespace {

struct ClassifierTrainArgs {
  std::string model_dir, tagged, out;
  model::ClassifierTrainOptions options;
};

struct ClassifyArgs {
  std::string model_dir, classifier = "model", text, input;
};

void run_classifier_train(const ClassifierTrainArgs& a) {
  auto net = model::load_model(a.model_dir, torch::kCPU);
  net->eval();
  data::Tokenizer tokenizer(a.model_dir);
  const auto records = data::read_chat_records(a.tagged);
  const std::string out = a.out.empty() ? a.model_dir : a.out;
  std::fprintf(stderr, "classifier: %zu tagged records, layer %lld of %lld\n", records.size(),
               static_cast<long long>(a.options.layer < 0 ? net->config().num_hidden_layers / 2 : a.options.layer),
               static_cast<long long>(net->config().num_hidden_layers));
  const auto start = std::chrono::steady_clock::now();
  auto report = model::train_complexity_classifier(*net, tokenizer, records, a.options, out, [&](int64_t done, int64_t total) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "classifier: features %lld/%lld (%.0f queries/s)\n", static_cast<long long>(done),
                 static_cast<long long>(total), s > 0 ? done / s : 0.0);
  });
  nlohmann::ordered_json j = {{"out", out}, {"layer", report.layer}, {"train", report.train},
                              {"train_high", report.train_high}, {"train_accuracy", report.train_accuracy},
                              {"heldout", report.heldout}, {"heldout_high", report.heldout_high},
                              {"heldout_accuracy", report.heldout_accuracy}, {"heldout_majority", report.heldout_majority},
                              {"ms_per_query", report.ms_per_query}};
  std::printf("%s\n", j.dump().c_str());
}

// The query of an input line: "query" or "text", a synth record's "question", or a chat record's
// last user message.
std::string query_of(const nlohmann::json& j, const std::string& where) {
  for (const char* key : {"query", "text", "question"})
    if (j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  if (j.contains("messages")) {
    const std::string query = format::last_user_message(data::chat_record_from_json(j, where).conversation);
    if (!query.empty()) return query;
  }
  throw Error("the line has no query (\"query\", \"text\", \"question\" or a user message)", where);
}

void run_classify(const ClassifyArgs& a) {
  if (a.text.empty() == a.input.empty()) throw Error("give exactly one of --text and --input", "autothink classify");
  std::unique_ptr<data::ComplexityClassifier> classifier;
  if (a.classifier == "heuristic") {
    classifier = std::make_unique<data::HeuristicComplexity>();
  } else {
    if (a.model_dir.empty()) throw Error("the model classifier needs --model DIR", "--classifier model");
    auto net = model::load_model(a.model_dir, torch::kCPU);
    net->eval();
    // Any folder's tokenizer: classifying needs no KAT tokens (a Qwen3 folder classifies too).
    auto tokenizer = std::make_shared<data::Tokenizer>(data::resolve_tokenizer_path(a.model_dir),
                                                       data::TokenizerOptions{.require_kat_tokens = false});
    classifier = std::make_unique<model::ModelComplexity>(a.model_dir, net, tokenizer);
  }
  auto print = [&](const std::string& query, const nlohmann::json& id) {
    const auto r = classifier->classify(query);
    nlohmann::ordered_json j = {{"label", data::complexity_name(r.label)}, {"score", r.score}, {"classifier", r.classifier}};
    if (!id.is_null()) j["id"] = id;
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  };
  if (!a.text.empty()) return print(a.text, nullptr);
  std::ifstream in(a.input);
  if (!in) throw Error("cannot open the input", a.input);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = a.input + ":" + std::to_string(number);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw Error(std::string("not valid JSON: ") + e.what(), where);
    }
    nlohmann::json id = j.contains("id") ? j["id"] : (j.contains("meta") && j["meta"].contains("id") ? j["meta"]["id"] : nlohmann::json());
    print(query_of(j, where), id);
  }
}

void setup_classifier(CLI::App& root) {
  auto t = std::make_shared<ClassifierTrainArgs>();
  auto* group = root.add_subcommand("classifier", "The complexity classifier of inference-time AutoThink: `train` fits it on cold-start tags");
  group->require_subcommand(1);
  auto* train = group->add_subcommand(
      "train", "Fit a logistic head on the model's hidden state of each query (layer output, mean over tokens) to the "
               "cold-start tags (think-on -> HIGH); writes classifier.safetensors + classifier.json into the model "
               "folder (or --out) and prints the held-out accuracy as JSON");
  train->add_option("--model", t->model_dir, "Model folder (with its tokenizer)")->required()->check(CLI::ExistingDirectory);
  train->add_option("--tagged", t->tagged, "Tagged chat records from `autothink data tag` (meta.decided_mode)")->required()->check(CLI::ExistingFile);
  train->add_option("--out", t->out, "Folder to write the classifier into (default: the model folder)");
  train->add_option("--layer", t->options.layer, "Decoder layer whose output is the feature (-1: the middle one)")->capture_default_str();
  train->add_option("--heldout", t->options.heldout_fraction, "Fraction of records held out (by a hash of their id)")
      ->check(CLI::Range(0.0, 0.9))->capture_default_str();
  train->add_option("--steps", t->options.steps, "Full-batch Adam steps")->check(CLI::PositiveNumber)->capture_default_str();
  train->add_option("--lr", t->options.lr, "Adam learning rate")->capture_default_str();
  train->callback([t]() { run_classifier_train(*t); });

  auto c = std::make_shared<ClassifyArgs>();
  auto* cls = root.add_subcommand("classify", "Label queries HIGH or LOW complexity (one JSON line each): the model "
                                              "classifier (classifier train) or optillm's heuristic");
  cls->add_option("--model", c->model_dir, "Model folder holding the classifier (for --classifier model)")->check(CLI::ExistingDirectory);
  cls->add_option("--classifier", c->classifier, "model | heuristic")->check(CLI::IsMember({"model", "heuristic"}))->capture_default_str();
  cls->add_option("--text", c->text, "One query");
  cls->add_option("--input", c->input, "JSONL: lines with \"query\"/\"text\"/\"question\" or chat records (last user message)")
      ->check(CLI::ExistingFile);
  cls->callback([c]() { run_classify(*c); });
}

}  // namespace
AUTOTHINK_COMMAND(setup_classifier, 45);
}  // namespace autothink::apps
