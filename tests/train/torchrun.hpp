// Test helpers for multi-process runs: a free TCP port, whether Debian's torchrun can run here,
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
  standalone,  // --standalone: c10d rendezvous, rank 0 hosts the store (USE_AGENT_STORE=False)
  agent_store  // --nnodes 1 --master_port P: static rendezvous, the agent hosts the store
};

// `python -m torch.distributed.run --no_python ... program args`, with the flags torch 1.13 under
// Python 3.11 needs (--redirects 2 --tee 1 --log_dir), bounded by `timeout_s`.
// --standalone always uses port 29400 for its rendezvous (torch 1.13 hard-codes it) and two such
// runs at once would share one store, so standalone launches are serialised with a lock file.
inline std::string torchrun_command(LaunchStyle style, int nproc, const std::filesystem::path& log_dir,
                                    const std::string& program_and_args, int timeout_s = 300) {
  std::filesystem::create_directories(build_dir() / "tmp");
  std::string lock = (build_dir() / "tmp" / "torchrun-standalone.lock").string();
  std::string cmd = "timeout " + std::to_string(timeout_s) + " ";
  if (style == LaunchStyle::standalone) cmd += "flock " + lock + " ";
  cmd += python() + " -m torch.distributed.run --no_python --nproc_per_node " + std::to_string(nproc) +
         " --redirects 2 --tee 1 --log_dir " + log_dir.string() + " --max_restarts 0 ";
  if (style == LaunchStyle::standalone)
    cmd += "--standalone ";
  else
    cmd += "--nnodes 1 --master_addr 127.0.0.1 --master_port " + std::to_string(free_port()) + " ";
  return cmd + program_and_args;
}

}  // namespace autothink::testing
