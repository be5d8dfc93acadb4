// Test helpers for multi-process runs: a free TCP port, whether the venv's torchrun can run here,
// and the torchrun command line for the two launch styles (standalone, and static rendezvous
// whose agent hosts the store). Shared by tests that start ranks (train, trainer end-to-end).
#pragma once
#include <filesystem>
#include <string>

#include "core/launcher_env.hpp"
#include "test_paths.hpp"

namespace autothink::testing {

// A port nobody listens on right now (see core::free_loopback_port).
inline int free_port() { return core::free_loopback_port(); }

// Empty when torchrun can run; else why not (for GTEST_SKIP).
inline std::string torchrun_unavailable() {
  auto r = run_command(python() + " -c 'import torch.distributed.run' 2>&1");
  if (r.exit_code != 0) return "torchrun unavailable: " + python() + " -c 'import torch.distributed.run' failed: " + r.output;
  return "";
}

enum class LaunchStyle {
  standalone,  // --standalone: c10d rendezvous on a free port (torch 2.x: the agent hosts the store too)
  agent_store  // --nnodes 1 --master-port P: static rendezvous, the agent hosts the store
};

// `python -m torch.distributed.run --no-python ... program args` (the venv's torch 2.x, flags
// spelled with hyphens), logs redirected into `log_dir` for failure messages, bounded by `timeout_s`.
// --standalone picks a free rendezvous port (torch 2.x), so launches may run side by side.
inline std::string torchrun_command(LaunchStyle style, int nproc, const std::filesystem::path& log_dir,
                                    const std::string& program_and_args, int timeout_s = 300) {
  std::string cmd = "timeout " + std::to_string(timeout_s) + " ";
  cmd += python() + " -m torch.distributed.run --no-python --nproc-per-node " + std::to_string(nproc) +
         " --redirects 3 --tee 3 --log-dir " + log_dir.string() + " --max-restarts 0 ";
  if (style == LaunchStyle::standalone)
    cmd += "--standalone ";
  else
    cmd += "--nnodes 1 --master-addr 127.0.0.1 --master-port " + std::to_string(free_port()) + " ";
  return cmd + program_and_args;
}

}  // namespace autothink::testing
