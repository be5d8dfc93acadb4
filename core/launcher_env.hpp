// LaunchEnv — where this process sits in a distributed launch, read from the launcher's
// environment: torchrun (RANK, WORLD_SIZE, LOCAL_RANK, ..., TORCHELASTIC_*), any env:// launcher
// (RANK + WORLD_SIZE + MASTER_ADDR/PORT), Open MPI (OMPI_COMM_WORLD_*), MPICH/Hydra (PMI_RANK,
// PMI_SIZE, MPI_LOCALRANKID), Slurm srun (SLURM_PROCID, SLURM_NTASKS, ...); else one process.
// Malformed or inconsistent values are an autothink::Error naming the variable.
#pragma once
#include <cstdlib>
#include <functional>
#include <string>

namespace autothink::core {

struct LaunchEnv {
  std::string launcher = "none";  // torchrun | env | openmpi | mpich | slurm | none
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;        // index of this process on its node (selects the GPU)
  int local_world_size = 1;  // processes on this node
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";  // where the c10d TCPStore listens
  int master_port = 29500;
  // torchrun's agent already hosts the TCPStore: every rank connects as a client.
  bool use_agent_store = false;
  int restart_count = 0;  // TORCHELASTIC_RESTART_COUNT: which attempt this is
  std::string run_id;     // TORCHELASTIC_RUN_ID

  // The key prefix for the store, as torch uses it: keys of a restarted attempt never collide
  // with the last attempt's.
  std::string store_prefix() const { return "/worker/attempt_" + std::to_string(restart_count); }
  bool is_distributed() const { return world_size > 1; }
  // Rank 0 hosts the store unless the agent does.
  bool hosts_store() const { return rank == 0 && !use_agent_store; }
  // "torchrun rank 1/4 (local 1/2, node 0), store 10.0.0.1:29500 (agent), attempt 0"
  std::string describe() const;
};

using GetEnv = std::function<const char*(const char*)>;

LaunchEnv detect_launch_env(const GetEnv& getenv = [](const char* name) -> const char* { return std::getenv(name); });

// A loopback TCP port nobody listens on right now (the kernel's pick, released at once; another
// process could still take it before the store binds it). For a local launch's MASTER_PORT.
// Throws autothink::Error when no socket can be bound.
int free_loopback_port();

// Helpers exposed for tests and for other launch code.
// First host of a Slurm hostlist: "gpu[003-010,12],cpu1" → "gpu003"; "" for an empty list.
std::string first_slurm_host(const std::string& nodelist);
// Tasks on node `node` from a Slurm tasks-per-node spec: "4(x2),1" → node 0..1: 4, node 2: 1.
// -1 when the spec does not cover `node` or is malformed.
int slurm_tasks_on_node(const std::string& spec, int node);

}  // namespace autothink::core
