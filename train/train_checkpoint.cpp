// Writing, finding and loading training checkpoints.
#include "train/train_checkpoint.hpp"

#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

#include "core/error.hpp"
#include "core/jsonl.hpp"
#include "core/log.hpp"

namespace autothink::train {
namespace fs = std::filesystem;

namespace {
std::string ckpt_step_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step-%08lld", static_cast<long long>(step));
  return buf;
}

std::vector<std::pair<int64_t, fs::path>> ckpt_list(const fs::path& run_dir) {
  std::vector<std::pair<int64_t, fs::path>> out;
  fs::path dir = run_dir / "checkpoints";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("step-", 0) != 0 || !fs::exists(entry.path() / "trainer_state.json")) continue;
    try {
      out.emplace_back(std::stoll(name.substr(5)), entry.path());
    } catch (...) {
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

void copy_weights(model::Qwen2Model& from, model::Qwen2Model& to, const std::string& where) {
  torch::NoGradGuard no_grad;
  auto src = from.named_parameters();
  for (auto& item : to.named_parameters()) {
    const torch::Tensor* s = src.find(item.key());
    if (!s) throw Error("checkpoint lacks parameter " + item.key(), where);
    if (s->sizes() != item.value().sizes())
      throw Error("parameter " + item.key() + " has shape " + c10::str(s->sizes()) + ", the model expects " +
                  c10::str(item.value().sizes()), where, "resume with the model shape the run was started with");
    item.value().copy_(*s);
  }
}

fs::path save_checkpoint(const fs::path& run_dir, model::Qwen2Model& model, torch::optim::Optimizer& optimizer,
                         const TrainerState& state, const model::SaveOptions& save_options, int64_t keep) {
  fs::path dir = run_dir / "checkpoints";
  fs::create_directories(dir);
  fs::path final_path = dir / ckpt_step_name(state.step);
  fs::path tmp = dir / (".tmp-" + ckpt_step_name(state.step) + "-" + std::to_string(std::random_device{}()));
  model::save_model(model, tmp, save_options);
  torch::save(optimizer, (tmp / "optimizer.pt").string());
  torch::save(at::detail::getDefaultCPUGenerator().get_state(), (tmp / "rng.pt").string());
  nlohmann::json st = {{"step", state.step}, {"data", {{"epoch", state.data.epoch}, {"index", state.data.index}}}, {"tokens", state.tokens}};
  core::write_json_file((tmp / "trainer_state.json").string(), st);
  if (fs::exists(final_path)) fs::remove_all(final_path);
  fs::rename(tmp, final_path);
  auto all = ckpt_list(run_dir);
  for (std::size_t i = 0; i + static_cast<std::size_t>(std::max<int64_t>(keep, 1)) < all.size(); ++i)
    fs::remove_all(all[i].second);
  return final_path;
}

std::optional<fs::path> latest_checkpoint(const fs::path& run_dir) {
  auto all = ckpt_list(run_dir);
  if (all.empty()) return std::nullopt;
  return all.back().second;
}

TrainerState load_checkpoint(const fs::path& checkpoint, model::Qwen2Model& model, torch::optim::Optimizer& optimizer) {
  const std::string where = checkpoint.string();
  auto loaded = model::load_model(checkpoint, model.device(), model.dtype());
  copy_weights(*loaded, model, where);
  if (!fs::exists(checkpoint / "optimizer.pt")) throw Error("checkpoint has no optimizer.pt", where);
  torch::load(optimizer, (checkpoint / "optimizer.pt").string());
  if (!model.device().is_cpu()) {  // optimizer state loads on the CPU
    for (auto& entry : optimizer.state()) {
      auto* adam = dynamic_cast<torch::optim::AdamWParamState*>(entry.second.get());
      if (!adam) continue;
      adam->exp_avg(adam->exp_avg().to(model.device()));
      adam->exp_avg_sq(adam->exp_avg_sq().to(model.device()));
      if (adam->max_exp_avg_sq().defined()) adam->max_exp_avg_sq(adam->max_exp_avg_sq().to(model.device()));
    }
  }
  if (fs::exists(checkpoint / "rng.pt")) {
    torch::Tensor rng;
    torch::load(rng, (checkpoint / "rng.pt").string());
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    generator.set_state(rng);
  }
  nlohmann::json st = core::read_json_file((checkpoint / "trainer_state.json").string());
  TrainerState s;
  try {
    s.step = st.at("step").get<int64_t>();
    s.data.epoch = st.at("data").at("epoch").get<int64_t>();
    s.data.index = st.at("data").at("index").get<int64_t>();
    s.tokens = st.value("tokens", int64_t{0});
  } catch (const std::exception& e) {
    throw Error(std::string("bad trainer_state.json: ") + e.what(), where);
  }
  return s;
}

}  // namespace autothink::train
