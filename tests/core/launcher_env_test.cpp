// Launcher environments: each launcher's variables give the rank, sizes and store address a
// process group needs; the agent-store flag and restart count give torch's store prefix; bad
// values are errors naming the variable.
#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "core/error.hpp"
#include "core/launcher_env.hpp"

namespace autothink::core {
namespace {

using Vars = std::map<std::string, std::string>;

LaunchEnv detect(const Vars& vars) {
  return detect_launch_env([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

std::string launch_error(const Vars& vars) {
  try {
    detect(vars);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(launcher_env, no_launcher_is_a_single_process) {
  LaunchEnv env = detect({});
  EXPECT_EQ(env.launcher, "none");
  EXPECT_EQ(env.rank, 0);
  EXPECT_EQ(env.world_size, 1);
  EXPECT_FALSE(env.is_distributed());
  EXPECT_EQ(env.store_prefix(), "/worker/attempt_0");
  EXPECT_EQ(env.describe(), "single process");
}

TEST(launcher_env, torchrun_with_agent_store_and_restart) {
  LaunchEnv env = detect({{"RANK", "3"},
                          {"WORLD_SIZE", "4"},
                          {"LOCAL_RANK", "1"},
                          {"LOCAL_WORLD_SIZE", "2"},
                          {"GROUP_RANK", "1"},
                          {"MASTER_ADDR", "10.0.0.1"},
                          {"MASTER_PORT", "29400"},
                          {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                          {"TORCHELASTIC_RESTART_COUNT", "2"},
                          {"TORCHELASTIC_RUN_ID", "job7"}});
  EXPECT_EQ(env.launcher, "torchrun");
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.world_size, 4);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.local_world_size, 2);
  EXPECT_EQ(env.node_rank, 1);
  EXPECT_EQ(env.master_addr, "10.0.0.1");
  EXPECT_EQ(env.master_port, 29400);
  EXPECT_TRUE(env.use_agent_store);
  EXPECT_FALSE(env.hosts_store());
  EXPECT_EQ(env.restart_count, 2);
  EXPECT_EQ(env.run_id, "job7");
  EXPECT_EQ(env.store_prefix(), "/worker/attempt_2");
  EXPECT_TRUE(env.is_distributed());
  EXPECT_EQ(env.describe(), "torchrun rank 3/4 (local 1/2, node 1), store 10.0.0.1:29400 (agent), attempt 2");
}

TEST(launcher_env, torchrun_without_agent_store_rank0_hosts) {
  LaunchEnv env = detect({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}, {"LOCAL_WORLD_SIZE", "2"},
                          {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "1234"},
                          {"TORCHELASTIC_USE_AGENT_STORE", "False"}, {"TORCHELASTIC_RUN_ID", "none"}});
  EXPECT_EQ(env.launcher, "torchrun");
  EXPECT_FALSE(env.use_agent_store);
  EXPECT_TRUE(env.hosts_store());
  EXPECT_EQ(env.store_prefix(), "/worker/attempt_0");
}

TEST(launcher_env, plain_env_launch_on_one_node_defaults_to_localhost) {
  LaunchEnv env = detect({{"RANK", "1"}, {"WORLD_SIZE", "2"}});
  EXPECT_EQ(env.launcher, "env");
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.local_world_size, 2);
  EXPECT_EQ(env.master_addr, "127.0.0.1");
  EXPECT_EQ(env.master_port, 29500);
}

TEST(launcher_env, bad_values_name_the_variable) {
  EXPECT_NE(launch_error({{"RANK", "two"}, {"WORLD_SIZE", "4"}}).find("RANK='two' is not an integer"), std::string::npos);
  EXPECT_NE(launch_error({{"RANK", "4"}, {"WORLD_SIZE", "4"}}).find("RANK=4 must be in 0..3 (WORLD_SIZE=4)"),
            std::string::npos);
  EXPECT_NE(launch_error({{"RANK", "0"}}).find("WORLD_SIZE is not set"), std::string::npos);
  EXPECT_NE(launch_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "2"}, {"LOCAL_WORLD_SIZE", "2"}})
                .find("LOCAL_RANK=2 must be in 0..1"),
            std::string::npos);
  EXPECT_NE(launch_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}).find("MASTER_PORT=70000"),
            std::string::npos);
  EXPECT_NE(launch_error({{"RANK", "0"}, {"WORLD_SIZE", "1"}, {"TORCHELASTIC_USE_AGENT_STORE", "maybe"}})
                .find("TORCHELASTIC_USE_AGENT_STORE='maybe' is not a boolean"),
            std::string::npos);
  // Several nodes and no MASTER_ADDR: nobody knows where the store is.
  std::string msg = launch_error({{"RANK", "0"}, {"WORLD_SIZE", "4"}, {"LOCAL_WORLD_SIZE", "2"}});
  EXPECT_NE(msg.find("MASTER_ADDR is not set"), std::string::npos) << msg;
}

TEST(launcher_env, slurm_srun_two_nodes) {
  LaunchEnv env = detect({{"SLURM_PROCID", "5"},
                          {"SLURM_NTASKS", "8"},
                          {"SLURM_STEP_NUM_TASKS", "6"},
                          {"SLURM_LOCALID", "1"},
                          {"SLURM_NODEID", "1"},
                          {"SLURM_STEP_TASKS_PER_NODE", "4,2"},
                          {"SLURM_STEP_NODELIST", "gpu[007-008]"},
                          {"SLURM_LAUNCH_NODE_IPADDR", "10.1.1.1"},
                          {"SLURM_JOB_ID", "123456"}});
  EXPECT_EQ(env.launcher, "slurm");
  EXPECT_EQ(env.rank, 5);
  EXPECT_EQ(env.world_size, 6);  // the step's tasks, not the job's
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.local_world_size, 2);
  EXPECT_EQ(env.node_rank, 1);
  EXPECT_EQ(env.master_addr, "gpu007");
  EXPECT_EQ(env.master_port, 20000 + 123456 % 10000);
  EXPECT_FALSE(env.use_agent_store);
}

TEST(launcher_env, slurm_master_addr_and_port_override) {
  LaunchEnv env = detect({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_NTASKS_PER_NODE", "1"},
                          {"SLURM_STEP_NODELIST", "a,b"}, {"MASTER_ADDR", "head"}, {"MASTER_PORT", "4000"}});
  EXPECT_EQ(env.master_addr, "head");
  EXPECT_EQ(env.master_port, 4000);
  EXPECT_EQ(env.local_world_size, 1);
}

TEST(launcher_env, slurm_errors_name_the_variable) {
  EXPECT_NE(launch_error({{"SLURM_PROCID", "0"}}).find("SLURM_NTASKS is not set"), std::string::npos);
  EXPECT_NE(launch_error({{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "2"}}).find("SLURM_PROCID=3 must be in 0..1"),
            std::string::npos);
  std::string msg = launch_error({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}, {"SLURM_NODEID", "3"},
                                  {"SLURM_STEP_TASKS_PER_NODE", "2(x2)"}, {"SLURM_STEP_NODELIST", "n[1-2]"}});
  EXPECT_NE(msg.find("SLURM_STEP_TASKS_PER_NODE='2(x2)' gives no task count for node 3"), std::string::npos) << msg;
}

TEST(launcher_env, slurm_hostlists_and_task_specs) {
  EXPECT_EQ(first_slurm_host("gpu[003-010,12],cpu1"), "gpu003");
  EXPECT_EQ(first_slurm_host("node7"), "node7");
  EXPECT_EQ(first_slurm_host("n[1-3]-ib,m1"), "n1-ib");
  EXPECT_EQ(first_slurm_host("rack[2-3]-n[05,07]"), "rack2-n05");
  EXPECT_EQ(first_slurm_host("bad[1-2"), "");
  EXPECT_EQ(slurm_tasks_on_node("4(x2),1", 0), 4);
  EXPECT_EQ(slurm_tasks_on_node("4(x2),1", 1), 4);
  EXPECT_EQ(slurm_tasks_on_node("4(x2),1", 2), 1);
  EXPECT_EQ(slurm_tasks_on_node("4(x2),1", 3), -1);
  EXPECT_EQ(slurm_tasks_on_node("8", 0), 8);
  EXPECT_EQ(slurm_tasks_on_node("x", 0), -1);
}

TEST(launcher_env, openmpi_and_mpich) {
  LaunchEnv ompi = detect({{"OMPI_COMM_WORLD_RANK", "2"}, {"OMPI_COMM_WORLD_SIZE", "4"},
                           {"OMPI_COMM_WORLD_LOCAL_RANK", "0"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"},
                           {"MASTER_ADDR", "host0"}, {"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}});
  EXPECT_EQ(ompi.launcher, "openmpi");  // mpirun inside an allocation: Open MPI's ranks win
  EXPECT_EQ(ompi.rank, 2);
  EXPECT_EQ(ompi.world_size, 4);
  EXPECT_EQ(ompi.node_rank, 1);
  EXPECT_EQ(ompi.master_addr, "host0");

  LaunchEnv mpich = detect({{"PMI_RANK", "1"}, {"PMI_SIZE", "2"}, {"MPI_LOCALRANKID", "1"}, {"MPI_LOCALNRANKS", "2"}});
  EXPECT_EQ(mpich.launcher, "mpich");
  EXPECT_EQ(mpich.rank, 1);
  EXPECT_EQ(mpich.local_rank, 1);
  EXPECT_EQ(mpich.master_addr, "127.0.0.1");
  EXPECT_NE(launch_error({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "x"}})
                .find("OMPI_COMM_WORLD_SIZE='x' is not an integer"),
            std::string::npos);
}

}  // namespace
}  // namespace autothink::core
