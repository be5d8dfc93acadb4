#include "core/launcher_env.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "core/error.hpp"

namespace autothink::core {
namespace {

// Reads the environment and remembers which variable each value came from, for messages.
class EnvReader {
 public:
  explicit EnvReader(const GetEnv& getenv) : getenv_(getenv) {}

  bool has(const char* name) const {
    const char* v = getenv_(name);
    return v != nullptr && *v != '\0';
  }
  std::string str(const char* name, const std::string& fallback = "") const {
    const char* v = getenv_(name);
    return v && *v ? std::string(v) : fallback;
  }
  int integer(const char* name, int fallback) const {
    if (!has(name)) return fallback;
    std::string text = str(name);
    errno = 0;
    char* end = nullptr;
    long v = std::strtol(text.c_str(), &end, 10);
    if (errno != 0 || end == text.c_str() || *end != '\0' || v < INT_MIN || v > INT_MAX)
      throw Error("environment variable " + std::string(name) + "='" + text + "' is not an integer", name,
                  "the launcher sets it; check the launch command or unset it");
    return static_cast<int>(v);
  }
  int required(const char* name, const char* because) const {
    if (!has(name))
      throw Error("environment variable " + std::string(name) + " is not set but " + because, name,
                  "launch with torchrun, srun or mpirun, or set it");
    return integer(name, 0);
  }
  bool flag(const char* name) const {
    std::string v = str(name);
    if (v.empty() || v == "False" || v == "false" || v == "0") return false;
    if (v == "True" || v == "true" || v == "1") return true;
    throw Error("environment variable " + std::string(name) + "='" + v + "' is not a boolean", name,
                "use True or False");
  }

 private:
  const GetEnv& getenv_;
};

// Which variables fed each field, for consistency messages.
struct Sources {
  std::string rank, world, local_rank, local_world;
};

void check_consistent(const LaunchEnv& env, const Sources& src) {
  auto fail = [](const std::string& what, const std::string& var) {
    throw Error(what, var, "the launcher's environment is inconsistent; check the launch command");
  };
  if (env.world_size < 1) fail(src.world + "=" + std::to_string(env.world_size) + " must be at least 1", src.world);
  if (env.rank < 0 || env.rank >= env.world_size)
    fail(src.rank + "=" + std::to_string(env.rank) + " must be in 0.." + std::to_string(env.world_size - 1) + " (" +
             src.world + "=" + std::to_string(env.world_size) + ")",
         src.rank);
  if (env.local_world_size < 1 || env.local_world_size > env.world_size)
    fail(src.local_world + "=" + std::to_string(env.local_world_size) + " must be in 1.." + std::to_string(env.world_size),
         src.local_world);
  if (env.local_rank < 0 || env.local_rank >= env.local_world_size)
    fail(src.local_rank + "=" + std::to_string(env.local_rank) + " must be in 0.." +
             std::to_string(env.local_world_size - 1) + " (" + src.local_world + "=" + std::to_string(env.local_world_size) + ")",
         src.local_rank);
  if (env.master_port < 1 || env.master_port > 65535)
    fail("MASTER_PORT=" + std::to_string(env.master_port) + " is not a TCP port (1..65535)", "MASTER_PORT");
  if (env.restart_count < 0)
    fail("TORCHELASTIC_RESTART_COUNT=" + std::to_string(env.restart_count) + " must not be negative",
         "TORCHELASTIC_RESTART_COUNT");
}

// MASTER_ADDR/PORT as any env:// launcher gives them. Without MASTER_ADDR, all ranks on this
// one node may meet at 127.0.0.1; ranks on several nodes cannot.
void read_master(const EnvReader& e, LaunchEnv& env, const std::string& fallback_addr, int fallback_port) {
  env.master_port = e.integer("MASTER_PORT", fallback_port);
  if (e.has("MASTER_ADDR")) {
    env.master_addr = e.str("MASTER_ADDR");
  } else if (!fallback_addr.empty()) {
    env.master_addr = fallback_addr;
  } else if (env.world_size > env.local_world_size) {
    throw Error("environment variable MASTER_ADDR is not set but " + std::to_string(env.world_size) +
                    " processes run on several nodes",
                "MASTER_ADDR", "export MASTER_ADDR=<host of rank 0> (and MASTER_PORT) before launching");
  } else {
    env.master_addr = "127.0.0.1";
  }
}

LaunchEnv from_env_rank(const EnvReader& e) {
  LaunchEnv env;
  bool elastic = e.has("TORCHELASTIC_RUN_ID") || e.has("TORCHELASTIC_RESTART_COUNT") || e.has("TORCHELASTIC_USE_AGENT_STORE");
  env.launcher = elastic ? "torchrun" : "env";
  env.rank = e.required("RANK", "RANK/WORLD_SIZE describe this launch");
  env.world_size = e.required("WORLD_SIZE", "RANK is set");
  env.local_world_size = e.integer("LOCAL_WORLD_SIZE", env.world_size);
  env.local_rank = e.integer("LOCAL_RANK", env.local_world_size > 0 ? env.rank % env.local_world_size : 0);
  env.node_rank = e.integer("GROUP_RANK", env.local_world_size > 0 ? env.rank / env.local_world_size : 0);
  env.use_agent_store = e.flag("TORCHELASTIC_USE_AGENT_STORE");
  env.restart_count = e.integer("TORCHELASTIC_RESTART_COUNT", 0);
  env.run_id = e.str("TORCHELASTIC_RUN_ID");
  if (env.use_agent_store && !e.has("MASTER_ADDR"))
    throw Error("TORCHELASTIC_USE_AGENT_STORE=True but MASTER_ADDR is not set", "MASTER_ADDR",
                "the agent's store address is MASTER_ADDR:MASTER_PORT; launch with torchrun");
  read_master(e, env, "", 29500);
  check_consistent(env, {"RANK", "WORLD_SIZE", e.has("LOCAL_RANK") ? "LOCAL_RANK" : "RANK",
                         e.has("LOCAL_WORLD_SIZE") ? "LOCAL_WORLD_SIZE" : "WORLD_SIZE"});
  return env;
}

LaunchEnv from_openmpi(const EnvReader& e) {
  LaunchEnv env;
  env.launcher = "openmpi";
  env.rank = e.required("OMPI_COMM_WORLD_RANK", "Open MPI launched this process");
  env.world_size = e.required("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK is set");
  env.local_rank = e.integer("OMPI_COMM_WORLD_LOCAL_RANK", 0);
  env.local_world_size = e.integer("OMPI_COMM_WORLD_LOCAL_SIZE", e.has("OMPI_COMM_WORLD_LOCAL_RANK") ? env.world_size : 1);
  env.node_rank = env.local_world_size > 0 ? env.rank / env.local_world_size : 0;
  read_master(e, env, "", 29500);
  check_consistent(env, {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
                         "OMPI_COMM_WORLD_LOCAL_SIZE"});
  return env;
}

LaunchEnv from_mpich(const EnvReader& e) {
  LaunchEnv env;
  env.launcher = "mpich";
  env.rank = e.required("PMI_RANK", "an MPI launcher set PMI_RANK");
  env.world_size = e.required("PMI_SIZE", "PMI_RANK is set");
  env.local_rank = e.integer("MPI_LOCALRANKID", 0);
  env.local_world_size = e.integer("MPI_LOCALNRANKS", e.has("MPI_LOCALRANKID") ? env.world_size : 1);
  env.node_rank = env.local_world_size > 0 ? env.rank / env.local_world_size : 0;
  read_master(e, env, "", 29500);
  check_consistent(env, {"PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"});
  return env;
}

LaunchEnv from_slurm(const EnvReader& e) {
  LaunchEnv env;
  env.launcher = "slurm";
  const char* world_var = e.has("SLURM_STEP_NUM_TASKS") ? "SLURM_STEP_NUM_TASKS" : "SLURM_NTASKS";
  env.rank = e.integer("SLURM_PROCID", 0);
  env.world_size = e.required(world_var, "SLURM_PROCID is set (srun)");
  env.local_rank = e.integer("SLURM_LOCALID", 0);
  env.node_rank = e.integer("SLURM_NODEID", 0);
  const char* local_var = "SLURM_STEP_TASKS_PER_NODE";
  int local = -1;
  for (const char* var : {"SLURM_STEP_TASKS_PER_NODE", "SLURM_TASKS_PER_NODE", "SLURM_NTASKS_PER_NODE"}) {
    if (!e.has(var)) continue;
    local_var = var;
    local = slurm_tasks_on_node(e.str(var), env.node_rank);
    if (local < 0)
      throw Error("environment variable " + std::string(var) + "='" + e.str(var) + "' gives no task count for node " +
                      std::to_string(env.node_rank) + " (SLURM_NODEID)",
                  var, "expected a spec like 4(x2),1");
    break;
  }
  env.local_world_size = local > 0 ? local : env.world_size;
  // Rank 0 runs on the step's first node (block distribution); the launch node may be a
  // login node that runs no task, so it is only the last resort.
  std::string first;
  for (const char* var : {"SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST", "SLURM_NODELIST"}) {
    if (e.has(var)) {
      first = first_slurm_host(e.str(var));
      if (first.empty())
        throw Error("environment variable " + std::string(var) + "='" + e.str(var) + "' is not a Slurm hostlist", var);
      break;
    }
  }
  if (first.empty()) first = e.str("SLURM_LAUNCH_NODE_IPADDR");
  int job = e.integer("SLURM_JOB_ID", e.integer("SLURM_JOBID", -1));
  // A port derived from the job id keeps two jobs sharing a node apart.
  int port = job >= 0 ? 20000 + job % 10000 : 29500;
  if (env.world_size > 1 && first.empty() && !e.has("MASTER_ADDR") && env.world_size > env.local_world_size)
    throw Error("cannot tell where rank 0 runs: neither MASTER_ADDR nor SLURM_STEP_NODELIST is set", "SLURM_STEP_NODELIST",
                "export MASTER_ADDR=<first node of the job> before srun");
  read_master(e, env, first, port);
  check_consistent(env, {"SLURM_PROCID", world_var, "SLURM_LOCALID", local_var});
  return env;
}

std::string slurm_trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

}  // namespace

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  if (fd >= 0) ::close(fd);
  if (port < 0) throw Error("cannot bind a loopback port for the TCPStore", "free_loopback_port", std::strerror(errno));
  return port;
}

std::string first_slurm_host(const std::string& nodelist) {
  // The first entry ends at the first comma outside brackets.
  std::string entry;
  int depth = 0;
  for (char c : nodelist) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ',' && depth == 0) break;
    entry += c;
  }
  entry = slurm_trim(entry);
  // Each bracket group contributes its first element's start: "n[01-04,07]-ib" → "n01-ib".
  std::string host;
  for (size_t i = 0; i < entry.size(); ++i) {
    if (entry[i] != '[') {
      host += entry[i];
      continue;
    }
    size_t close = entry.find(']', i);
    if (close == std::string::npos) return "";
    std::string group = entry.substr(i + 1, close - i - 1);
    size_t stop = group.find_first_of(",-");
    std::string first = group.substr(0, stop);
    if (first.empty()) return "";
    host += first;
    i = close;
  }
  return host;
}

int slurm_tasks_on_node(const std::string& spec, int node) {
  // Comma-separated "N" or "N(xM)" (N tasks on each of M nodes).
  int index = 0;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    std::string item = slurm_trim(spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (item.empty()) return -1;
    int tasks = 0, repeat = 1;
    size_t paren = item.find('(');
    std::string count = item.substr(0, paren);
    if (count.empty() || count.find_first_not_of("0123456789") != std::string::npos) return -1;
    tasks = std::atoi(count.c_str());
    if (paren != std::string::npos) {
      if (item.size() < paren + 4 || item[paren + 1] != 'x' || item.back() != ')') return -1;
      std::string times = item.substr(paren + 2, item.size() - paren - 3);
      if (times.empty() || times.find_first_not_of("0123456789") != std::string::npos) return -1;
      repeat = std::atoi(times.c_str());
    }
    if (node < index + repeat) return tasks;
    index += repeat;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return -1;
}

std::string LaunchEnv::describe() const {
  if (!is_distributed()) return launcher == "none" ? "single process" : launcher + ", single process";
  std::string s = launcher + " rank " + std::to_string(rank) + "/" + std::to_string(world_size) + " (local " +
                  std::to_string(local_rank) + "/" + std::to_string(local_world_size) + ", node " +
                  std::to_string(node_rank) + "), store " + master_addr + ":" + std::to_string(master_port);
  if (use_agent_store) s += " (agent)";
  if (launcher == "torchrun") s += ", attempt " + std::to_string(restart_count);
  return s;
}

LaunchEnv detect_launch_env(const GetEnv& getenv) {
  EnvReader e(getenv);
  // An explicit RANK wins; Open MPI and MPICH come before Slurm because mpirun inside an
  // allocation inherits the batch step's SLURM_PROCID=0.
  if (e.has("RANK") || e.has("WORLD_SIZE")) return from_env_rank(e);
  if (e.has("OMPI_COMM_WORLD_RANK")) return from_openmpi(e);
  if (e.has("PMI_RANK")) return from_mpich(e);
  if (e.has("SLURM_PROCID")) return from_slurm(e);
  LaunchEnv env;
  env.master_port = e.integer("MASTER_PORT", 29500);
  env.master_addr = e.str("MASTER_ADDR", "127.0.0.1");
  return env;
}

}  // namespace autothink::core
