// `autothink demo`: the whole pipeline of DESIGN.md §1 as described by one YAML file
// (configs/tiny.yaml). Each entry of demo.stages names an autothink command, its arguments and
// the output it produces, and carries its own config sections; the demo writes those sections
// to OUT/configs/<stage>.yaml and runs the command as a child process (fresh state, and the same
// command a user would type). A stage whose output exists is skipped, so re-running resumes.
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <yaml-cpp/yaml.h>

#include "apps/cli_common.hpp"
#include "apps/command.hpp"
#include "core/config_registry.hpp"
#include "data/autothink_targets.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/launcher_env.hpp"
#include "core/log.hpp"

namespace autothink::apps {
namespace {

namespace fs = std::filesystem;

// The keys a stage may hold besides `command`, `name` and config sections.
struct DemoStageKeys {
  std::vector<std::string> args;        // command arguments; {out} = the demo folder
  std::string output;                   // produced file/folder (relative to out): exists → skip
  YAML::Node quick;                     // --quick: {"train.steps": 20, ...} overrides of this stage
  int64_t ranks = 1;                    // data-parallel processes on this machine (env:// launch)
  template <class V>
  void fields(V& v) {
    v("ranks", ranks,
      "processes of a data-parallel run on this machine, launched as torchrun would (RANK, WORLD_SIZE, "
      "MASTER_PORT, ...; OMP_NUM_THREADS = cores / ranks unless set); batch_size is per rank");
    v("args", args, "arguments after the command; {out} is replaced by the demo folder");
    v("output", output, "what the stage produces, relative to the demo folder; present = stage done");
    v("quick", quick, "overrides applied with --quick, as a map of dotted keys to values");
  }
};
AUTOTHINK_CONFIG_SECTION("demo.stage", DemoStageKeys);

// The demo section's own keys (each stage's are DemoStageKeys).
struct DemoSection {
  YAML::Node stages;
  std::string final_model;  // stage output copied to OUT/model at the end
  std::string targets;      // eval report checked against the AutoThink targets at the end
  std::vector<std::string> report;  // files printed at the end (relative to the demo folder)
  std::vector<std::string> needs;  // files another run made (relative to the demo folder)
  std::string needs_hint;          // how to make them
  template <class V>
  void fields(V& v) {
    v("report", report, "files (relative to the demo folder) printed at the end, when they exist: the result tables");
    v("needs", needs,
      "files (relative to the demo folder) that must exist before any stage runs: the outputs of another "
      "config's run this one builds on");
    v("needs_hint", needs_hint, "the command that makes demo.needs, shown when one is missing");
    v("targets", targets,
      "eval report (eval.json, relative to the demo folder) checked against the AutoThink targets at the end: "
      "PASS/MISS per target, --strict fails the run on a miss");
    v("stages", stages, "the pipeline: a list of stages, each with command, args, output and its config sections");
    v("final_model", final_model, "the model folder (relative to the demo folder) copied to OUT/model at the end");
  }
};

AUTOTHINK_CONFIG_SECTION("demo", DemoSection);

// --seed N: every `seed` key of a stage's sections, at any depth, moves by N, so stages that
// shared a seed (the synth stages that must write the same queries) still share one.
void offset_seeds(YAML::Node node, int64_t offset) {
  if (!node.IsMap()) return;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it->first.as<std::string>() == "seed" && it->second.IsScalar())
      it->second = it->second.as<int64_t>() + offset;
    else
      offset_seeds(it->second, offset);
  }
}

struct DemoArgs {
  std::string out;
  ConfigArgs config;
  bool quick = false;
  bool serve = false;
  bool strict = false;
  int64_t seed = 0;
  std::vector<std::string> only;
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// The subcommand path (e.g. "data synth") exists in this binary.
bool command_exists(CLI::App& root, const std::vector<std::string>& words) {
  CLI::App* app = &root;
  for (const auto& w : words) {
    CLI::App* next = nullptr;
    for (auto* sub : app->get_subcommands([](CLI::App*) { return true; }))
      if (sub->get_name() == w) next = sub;
    if (!next) return false;
    app = next;
  }
  return true;
}

// Runs the stage command as `ranks` child processes (one when ranks == 1) and waits for all.
// With several ranks each child gets the env:// launch variables torchrun sets; rank 0 hosts the
// TCPStore and prints to the console, the others write to log_dir/<name>.rank<R>.log. Returns the
// first non-zero exit status (a rank that dies makes the others fail within dist_timeout_s).
int run_child(const std::vector<std::string>& argv, int ranks, const fs::path& log_dir, const std::string& name) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  const int port = ranks > 1 ? core::free_loopback_port() : 0;
  const long cores = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
  std::fflush(stdout);
  std::fflush(stderr);
  std::vector<pid_t> pids;
  const pid_t demo_pid = ::getpid();
  for (int r = 0; r < ranks; ++r) {
    pid_t pid = ::fork();
    if (pid < 0) throw Error("cannot fork a stage process", argv[1]);
    if (pid == 0) {
      // A demo killed by a scheduler or `kill` (not Ctrl-C, which reaches the whole process group)
      // must not leave its ranks training on: they get SIGTERM when the demo dies. getppid()
      // catches a demo that died before prctl took effect.
      if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || ::getppid() != demo_pid) ::_exit(128 + SIGTERM);
      // OpenMP's default busy-waiting collapses 2-thread torch on a shared 2-core machine
      // (measured: ~20x slower under load); passive waiting costs nothing when the cores are free.
      ::setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/0);
      if (ranks > 1) {
        const std::string rank = std::to_string(r), world = std::to_string(ranks);
        for (const char* var : {"RANK", "LOCAL_RANK"}) ::setenv(var, rank.c_str(), 1);
        for (const char* var : {"WORLD_SIZE", "LOCAL_WORLD_SIZE"}) ::setenv(var, world.c_str(), 1);
        ::setenv("GROUP_RANK", "0", 1);
        ::setenv("MASTER_ADDR", "127.0.0.1", 1);
        ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
        ::setenv("TORCHELASTIC_USE_AGENT_STORE", "False", 1);
        ::setenv("OMP_NUM_THREADS", std::to_string(std::max(1L, cores / ranks)).c_str(), /*overwrite=*/0);
        if (r > 0) {
          const std::string log = (log_dir / (name + ".rank" + rank + ".log")).string();
          if (!std::freopen(log.c_str(), "w", stdout) || !std::freopen(log.c_str(), "a", stderr)) ::_exit(126);
        }
      }
      ::execv("/proc/self/exe", cargv.data());
      std::perror("execv");
      ::_exit(127);
    }
    pids.push_back(pid);
  }
  int rc = 0;
  for (pid_t pid : pids) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    if (rc == 0) rc = code;
  }
  return rc;
}

fs::path find_default_config() {
  if (fs::exists("configs/tiny.yaml")) return "configs/tiny.yaml";
  // Next to a build tree: <repo>/build/autothink → <repo>/configs/tiny.yaml.
  fs::path exe = fs::read_symlink("/proc/self/exe");
  for (auto dir = exe.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path())
    if (fs::exists(dir / "configs" / "tiny.yaml")) return dir / "configs" / "tiny.yaml";
  throw Error("no configs/tiny.yaml here or above the binary", "autothink demo", "pass --config FILE");
}

struct StageTiming {
  std::string name, state;
  double seconds = 0;
};

void print_timings(const std::vector<StageTiming>& timings) {
  for (auto& t : timings) std::printf("  %-16s %-22s %8.1fs\n", t.name.c_str(), t.state.c_str(), t.seconds);
}

// The stage's config: every key but the stage's own, seeds moved by --seed. Sections whose
// command draws random numbers must state their seed, or --seed could not move it.
YAML::Node stage_sections(const core::Config& stage, const std::string& name, int64_t seed_offset) {
  const YAML::Node node = YAML::Clone(stage.node());
  YAML::Node sections(YAML::NodeType::Map);
  for (auto it = node.begin(); it != node.end(); ++it) {
    auto key = it->first.as<std::string>();
    if (key != "command" && key != "name" && key != "args" && key != "output" && key != "quick" && key != "ranks")
      sections[key] = it->second;
  }
  if (seed_offset == 0) return sections;
  for (const char* section : {"train", "rl", "tag"})
    if (sections[section] && !sections[section]["seed"])
      throw Error("stage '" + name + "' has a " + section + " section without a seed", stage.where(section),
                  "write " + std::string(section) + ".seed in the demo config so --seed can change it");
  if (sections["data"] && sections["data"]["synth"] && !sections["data"]["synth"]["seed"])
    throw Error("stage '" + name + "' has data.synth without a seed", stage.where("data"),
                "write data.synth.seed in the demo config so --seed can change it");
  offset_seeds(sections, seed_offset);
  return sections;
}

// The stage's command line: its words, args ({out} replaced), --config of its sections (written
// to OUT/configs/N-name.yaml), and with --quick the stage's `quick` overrides as --set.
std::vector<std::string> stage_argv(const core::Config& stage, const std::vector<std::string>& words,
                                    const YAML::Node& sections, const fs::path& config_file, const fs::path& out,
                                    bool quick) {
  std::vector<std::string> argv = {"autothink"};
  argv.insert(argv.end(), words.begin(), words.end());
  for (const auto& arg : stage.get<std::vector<std::string>>("args", {}))
    argv.push_back(replace_all(arg, "{out}", out.string()));
  if (sections.size() > 0) {
    std::ofstream(config_file) << sections << "\n";
    argv.push_back("--config");
    argv.push_back(config_file.string());
  }
  const YAML::Node node = stage.node();
  const YAML::Node overrides = node["quick"];
  if (quick && overrides && overrides.IsMap())
    for (auto it = overrides.begin(); it != overrides.end(); ++it) {
      argv.push_back("--set");
      argv.push_back(it->first.as<std::string>() + "=" + replace_all(YAML::Dump(it->second), "\n", " "));
    }
  return argv;
}

// The final model lands in OUT/model (demo.final_model names the stage output to copy).
void copy_final_model(const core::Config& config, const fs::path& out) {
  const std::string final_model = config.get<std::string>("demo.final_model", "");
  if (final_model.empty() || !fs::exists(out / final_model / "config.json") || fs::exists(out / "model" / "config.json"))
    return;
  fs::remove_all(out / "model.tmp");
  fs::copy(out / final_model, out / "model.tmp", fs::copy_options::recursive);
  fs::rename(out / "model.tmp", out / "model");
}

void print_file(const fs::path& path, const char* heading) {
  if (!fs::exists(path)) return;
  std::ifstream md(path);
  std::printf("\n%s%s\n", heading, std::string(std::istreambuf_iterator<char>(md), {}).c_str());
}

// The eval tables and the AutoThink targets check; with --strict, a miss (or no report) fails.
void report_results(const core::Config& config, const fs::path& out, const DemoArgs& a) {
  for (const auto& file : config.get<std::vector<std::string>>("demo.report", {}))
    print_file(out / file, (file + ":\n").c_str());
  bool missed = false;
  const std::string targets = config.get<std::string>("demo.targets", "");
  if (!targets.empty() && fs::exists(out / targets)) {
    std::ifstream in(out / targets);
    auto checks = data::check_autothink_targets(nlohmann::json::parse(in), (out / targets).string());
    for (const auto& c : checks) missed = missed || !c.pass;
    std::printf("\nAutoThink targets (%s)%s:\n%s", (out / targets).c_str(),
                a.quick ? ", --quick: small budgets, misses expected" : "", data::targets_to_text(checks).c_str());
  }
  if (a.strict && !targets.empty() && !fs::exists(out / targets))
    throw Error("--strict: no eval report to check the AutoThink targets against", (out / targets).string(),
                "run the demo's eval stages (they write demo.targets)");
  if (missed && a.strict)
    throw Error("the run missed AutoThink targets (MISS lines above)", (out / targets).string(),
                "see docs/DESIGN.md on robustness; re-run without --strict to keep the outputs as they are");
}

// How to serve the final model; with --serve, becomes the server.
void offer_serving(const core::Config& config, const fs::path& out, const DemoArgs& a, bool blocked) {
  if (config.get<std::string>("demo.final_model", "").empty()) return;  // a run with no model of its own
  if (!fs::exists(out / "model" / "config.json")) {
    if (blocked) std::printf("\nThe pipeline is not complete yet: the stages marked 'not implemented yet' are missing.\n");
    return;
  }
  std::printf("\nServe the final model with:\n  autothink serve --model %s\n", (out / "model").c_str());
  if (!a.serve) return;
  std::vector<std::string> argv = {"autothink", "serve", "--model", (out / "model").string()};
  std::vector<char*> cargv;
  for (auto& s : argv) cargv.push_back(s.data());
  cargv.push_back(nullptr);
  std::fflush(stdout);
  ::execv("/proc/self/exe", cargv.data());
  throw Error("could not start the server", "autothink demo --serve");
}

void run_demo(CLI::App& root, DemoArgs& a) {
  if (a.config.config_path.empty()) a.config.config_path = find_default_config().string();
  auto config = load_config(a.config);
  core::check_config(config);
  if (a.out.empty()) a.out = a.quick ? "demo-out-quick" : "demo-out";
  const fs::path out = fs::absolute(a.out);
  for (const auto& need : config.get<std::vector<std::string>>("demo.needs", {}))
    if (!fs::exists(out / need))
      throw Error("this run builds on " + need + ", which " + out.string() + " does not hold", config.where("demo.needs"),
                  config.get<std::string>("demo.needs_hint", "run the config that makes it into the same --out first"));
  core::ensure_dir(out / "configs");
  core::ensure_dir(out / "logs");
  std::ofstream(out / "configs" / "demo.yaml") << config.dump();

  auto stages = config.section_list("demo.stages");
  if (stages.empty()) throw Error("no stages", config.where("demo"), "demo.stages lists the pipeline");
  std::printf("autothink demo: %zu stages, config %s, out %s%s\n", stages.size(), a.config.config_path.c_str(),
              out.c_str(), a.quick ? " (quick)" : "");

  std::vector<StageTiming> timings;
  bool blocked = false;
  const auto t_all = std::chrono::steady_clock::now();
  for (size_t i = 0; i < stages.size(); ++i) {
    const auto& stage = stages[i];
    const std::string command = stage.require<std::string>("command");
    const std::string name = stage.get<std::string>("name", command);
    StageTiming& timing = timings.emplace_back(StageTiming{name, "", 0.0});
    if (!a.only.empty() && std::find(a.only.begin(), a.only.end(), name) == a.only.end()) {
      timing.state = "not selected";
      continue;
    }
    const auto words = split_words(command);
    const std::string output = stage.get<std::string>("output", "");
    if (!output.empty() && fs::exists(out / output)) {
      timing.state = "done earlier";
      std::printf("[%zu/%zu] %s: %s exists, skipped\n", i + 1, stages.size(), name.c_str(), output.c_str());
      continue;
    }
    if (!command_exists(root, words)) {
      timing.state = "not implemented yet";
      blocked = true;
      std::printf("[%zu/%zu] %s: `autothink %s` is not implemented yet; later stages that need its output wait\n",
                  i + 1, stages.size(), name.c_str(), command.c_str());
      continue;
    }
    const YAML::Node sections = stage_sections(stage, name, a.seed);
    const auto config_file = out / "configs" / (std::to_string(i + 1) + "-" + name + ".yaml");
    const auto argv = stage_argv(stage, words, sections, config_file, out, a.quick);
    std::string shown;
    for (size_t k = 1; k < argv.size(); ++k) shown += " " + argv[k];
    const int64_t ranks = stage.get<int64_t>("ranks", 1);
    if (ranks < 1 || ranks > 64) throw Error("ranks must be between 1 and 64", stage.where("ranks"));
    const std::string launch = ranks > 1 ? " (" + std::to_string(ranks) + " ranks)" : "";
    std::printf("[%zu/%zu] %s%s: autothink%s\n", i + 1, stages.size(), name.c_str(), launch.c_str(), shown.c_str());
    // Inputs from a missing stage: try anyway, the command reports what it lacks.
    const auto t0 = std::chrono::steady_clock::now();
    const int rc = run_child(argv, static_cast<int>(ranks), out / "logs", name);
    timing.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (rc != 0) {
      timing.state = "FAILED (exit " + std::to_string(rc) + ")";
      print_timings(timings);
      const std::string logs = ranks > 1 ? " (ranks above 0 logged to " + (out / "logs").string() + "/" + name + ".rankR.log)" : "";
      throw Error("stage '" + name + "' failed with exit code " + std::to_string(rc) + logs, config.where("demo.stages"),
                  "fix the cause and re-run: finished stages are skipped");
    }
    timing.state = "ran";
  }
  copy_final_model(config, out);
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_all).count();
  std::printf("\nautothink demo summary (%s):\n", out.c_str());
  print_timings(timings);
  std::printf("  %-16s %-22s %8.1fs\n", "total", "", total);
  report_results(config, out, a);
  offer_serving(config, out, a, blocked);
}

void setup_demo(CLI::App& root) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = root.add_subcommand(
      "demo",
      "Run the whole pipeline: synth -> tokenizer -> teacher -> KD+MTP student -> tagging -> SFT -> "
      "Step-SRPO -> eval (configs/tiny.yaml); the final model lands in OUT/model");
  cmd->add_option("--out", args->out, "Output folder (default demo-out, or demo-out-quick with --quick); finished stages are skipped");
  add_config_options(cmd, args->config, /*required=*/false);
  cmd->add_flag("--quick", args->quick, "Every stage with small budgets (< 10 minutes); no behaviour targets");
  cmd->add_flag("--serve", args->serve, "Serve the final model when done");
  cmd->add_option("--only", args->only, "Run only these stages (by name)");
  cmd->add_option("--seed", args->seed,
                  "Move every seed of the run (data, init, sampling, shuffling) by N: another run of the same config");
  cmd->add_flag("--strict", args->strict, "Exit non-zero when the final eval misses an AutoThink target (demo.targets)");
  CLI::App* root_ptr = &root;
  cmd->callback([args, root_ptr]() { run_demo(*root_ptr, *args); });
}

}  // namespace
AUTOTHINK_COMMAND(setup_demo, 100);
}  // namespace autothink::apps
