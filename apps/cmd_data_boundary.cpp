// `autothink data boundary`: the mode boundary check of DESIGN.md §3 — the cold-start tags of one
// difficulty against a reference tagging of the same queries with more samples per mode: the
// forced-off pass rate, how often the tags miss the best mode, and the query feature that
// predicts it best.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "apps/command.hpp"
#include "apps/cli_common.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/jsonl.hpp"
#include "data/mode_boundary.hpp"
#include "data/records.hpp"
#include "data/tagging.hpp"

namespace autothink::apps {
namespace {

struct DataBoundaryArgs {
  std::string tagged, reference, difficulty = "medium", out;
};

// The samples per mode of a tag file, from the report `data tag` wrote beside it (0: none there).
int64_t tag_samples_per_mode(const std::string& tagged_path) {
  const std::string summary = data::tag_summary_path(tagged_path);
  if (!std::filesystem::exists(summary)) return 0;
  const nlohmann::json j = core::read_json_file(summary);
  return j.value("run", nlohmann::json::object()).value("options", nlohmann::json::object()).value("samples_per_mode", 0);
}

void run_data_boundary(const DataBoundaryArgs& a) {
  const int64_t samples = tag_samples_per_mode(a.reference);
  const int64_t tagged_samples = tag_samples_per_mode(a.tagged);
  if (samples > 0 && samples < 8)
    std::fprintf(stderr, "warning: the reference has %lld samples per mode; the best mode of a query wants 8 or more\n",
                 static_cast<long long>(samples));
  const auto report = data::mode_boundary(data::read_chat_records(a.tagged), data::read_chat_records(a.reference),
                                          a.difficulty, samples, a.tagged, a.reference);
  std::printf("%s", data::boundary_text(report).c_str());
  if (!a.out.empty()) {
    nlohmann::json j = data::boundary_to_json(report);
    j["tagged"] = a.tagged;
    j["reference"] = a.reference;
    j["tagged_samples_per_mode"] = tagged_samples;
    core::write_json_file(a.out, j);
    // The printed report beside it (OUT's stem + .txt), for the demo's closing summary.
    const auto text_path = std::filesystem::path(a.out).replace_extension(".txt");
    core::atomic_write_file(text_path.string(), data::boundary_text(report));
    std::printf("wrote %s and %s\n", a.out.c_str(), text_path.c_str());
  }
}

void setup_data_boundary(CLI::App& root) {
  auto args = std::make_shared<DataBoundaryArgs>();
  CLI::App* data = data_parent_command(root);
  auto* cmd = data->add_subcommand(
      "boundary",
      "Check a difficulty where the best mode depends on the query: compare the cold-start tags with a "
      "reference tagging of the same queries with more samples per mode (the best mode), and score query "
      "features (carries, ...) as predictors of it");
  cmd->add_option("--tagged", args->tagged, "The cold-start tags (`data tag` output)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--reference", args->reference,
                  "The same queries tagged with more samples per mode (`data tag --difficulty D --set "
                  "tag.samples_per_mode=8`)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--difficulty", args->difficulty, "The difficulty to check [medium]")
      ->check([](const std::string& d) { return data::is_difficulty(d) ? "" : "must be easy, medium or hard"; });
  cmd->add_option("--out", args->out, "Write the report as JSON here too (and as text beside it: OUT's stem + .txt)");
  cmd->callback([args]() { run_data_boundary(*args); });
}

}  // namespace
AUTOTHINK_COMMAND(setup_data_boundary, 12);
}  // namespace autothink::apps
