// Named sums of one RL step, reduced over ranks in one collective. The reduction runs over the
// keys in sorted order, so every rank must hold the same key set: declare() them all before adding.
#pragma once
#include <map>
#include <string>

#include "train/process_group.hpp"

namespace autothink::rl {

class StepSums {
 public:
  void declare(const std::string& key) { values_.emplace(key, 0.0); }
  // The sum under a declared key (an undeclared one is a bug: rank key sets would differ).
  double& operator[](const std::string& key);
  double get(const std::string& key) const { return values_.at(key); }
  // a / b over the reduced sums, 0 when b is 0.
  double ratio(const std::string& a, const std::string& b) const;
  void reduce(train::Distributed& dist);

 private:
  std::map<std::string, double> values_;
};

}  // namespace autothink::rl
