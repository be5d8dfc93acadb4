// Pivotal Token Search (see pts.hpp).
#include "model/pts.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <torch/torch.h>

#include "core/error.hpp"
#include "data/format/parser.hpp"
#include "data/format/template.hpp"
#include "model/engine_generator.hpp"
#include "model/qwen2.hpp"

namespace autothink::model {

namespace {

struct PtsQuery {
  const data::SynthRecord* record = nullptr;
  const data::Verifier* verifier = nullptr;
  std::vector<int64_t> prompt;
  std::string prefill;
  std::vector<int64_t> chain;  // the sampled completion that is bisected (stop token dropped)
  bool chain_correct = false;
  double success = 0;
};

struct Probe {
  size_t query = 0;
  int64_t prefix = 0;  // chain tokens kept
};

std::string token_text(const data::Tokenizer& tok, const std::vector<int64_t>& ids, size_t n) {
  std::string s;
  for (size_t i = 0; i < n && i < ids.size(); ++i) s += tok.decode_token_bytes(static_cast<int>(ids[i]));
  return s;
}

bool correct(const PtsQuery& q, const std::string& text) {
  const auto parsed = format::parse(q.prefill + text);
  return q.verifier->check(parsed.answer, q.record->answer);
}

// The success rate of each probe over `samples` continuations, all decoded as one batch; also the
// raw results (probe-major) for the caller that needs a chain.
std::vector<double> success_rates(Engine& engine, const data::Tokenizer& tok, std::vector<PtsQuery>& queries,
                                  const std::vector<Probe>& probes, int64_t samples, const PtsOptions& o,
                                  uint64_t round, std::vector<SequenceResult>* results_out = nullptr) {
  const auto stops = kat_stop_ids(tok);
  std::vector<SequenceRequest> requests;
  for (size_t p = 0; p < probes.size(); ++p) {
    const auto& q = queries[probes[p].query];
    std::vector<int64_t> prompt = q.prompt;
    prompt.insert(prompt.end(), q.chain.begin(), q.chain.begin() + probes[p].prefix);
    for (int64_t s = 0; s < samples; ++s) {
      SequenceRequest r;
      r.prompt = prompt;
      r.sampling.temperature = static_cast<float>(o.temperature);
      r.seed = derive_seed(o.seed ^ (round * 0x9E3779B97F4A7C15ULL), p, static_cast<uint64_t>(s));
      r.max_tokens = static_cast<int>(std::max<int64_t>(1, o.max_tokens - probes[p].prefix));
      r.stop_ids = stops;
      requests.push_back(std::move(r));
    }
  }
  auto results = engine.generate(std::move(requests));
  std::vector<double> rates(probes.size(), 0.0);
  for (size_t p = 0; p < probes.size(); ++p) {
    const auto& q = queries[probes[p].query];
    const std::string prefix = token_text(tok, q.chain, static_cast<size_t>(probes[p].prefix));
    int ok = 0;
    for (int64_t s = 0; s < samples; ++s) ok += correct(q, prefix + results[p * samples + s].text);
    rates[p] = static_cast<double>(ok) / static_cast<double>(samples);
  }
  if (results_out) *results_out = std::move(results);
  return rates;
}

// k-means on unit vectors (cosine), deterministic: the first k distinct rows seed the centres.
std::vector<int64_t> kmeans(const torch::Tensor& x, int64_t k) {
  const int64_t n = x.size(0);
  auto unit = torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().dim(1));
  k = std::min(k, n);
  auto centres = unit.narrow(0, 0, k).clone();
  torch::Tensor assign;
  for (int iter = 0; iter < 50; ++iter) {
    auto next = unit.matmul(centres.t()).argmax(1);
    if (assign.defined() && next.equal(assign)) break;
    assign = next;
    for (int64_t c = 0; c < k; ++c) {
      auto members = assign.eq(c).nonzero().squeeze(1);
      if (members.numel() > 0)
        centres[c] = torch::nn::functional::normalize(unit.index_select(0, members).mean(0), torch::nn::functional::NormalizeFuncOptions().dim(0));
    }
  }
  return std::vector<int64_t>(assign.data_ptr<int64_t>(), assign.data_ptr<int64_t>() + n);
}

struct Pivot {
  size_t query;
  int64_t index;
  double before, after;
};

// Bisection of the kept queries' chains, breadth first: every round decodes all midpoints at once.
std::vector<Pivot> bisect(Engine& engine, const data::Tokenizer& tok, std::vector<PtsQuery>& queries,
                          const std::vector<size_t>& kept, const PtsOptions& o, PtsReport& rep,
                          const std::function<void(const std::string&)>& say) {
  std::vector<Pivot> pivots;
  struct Segment {
    size_t query;
    int64_t a, b;
    double pa, pb;
  };
  std::vector<Segment> open;
  for (size_t i : kept)
    open.push_back({i, 0, static_cast<int64_t>(queries[i].chain.size()), queries[i].success, queries[i].chain_correct ? 1.0 : 0.0});
  for (uint64_t round = 1; !open.empty(); ++round) {
    std::vector<Segment> split;
    std::vector<Probe> probes;
    for (const auto& s : open) {
      if (std::fabs(s.pb - s.pa) < o.threshold) continue;
      if (s.b - s.a == 1) {
        pivots.push_back({s.query, s.a, s.pa, s.pb});
        continue;
      }
      split.push_back(s);
      probes.push_back({s.query, (s.a + s.b) / 2});
    }
    open.clear();
    if (probes.empty()) break;
    const auto mid = success_rates(engine, tok, queries, probes, o.probe_samples, o, round);
    rep.probes += static_cast<int64_t>(probes.size());
    for (size_t k = 0; k < split.size(); ++k) {
      const auto& s = split[k];
      const int64_t m = probes[k].prefix;
      open.push_back({s.query, s.a, m, s.pa, mid[k]});
      open.push_back({s.query, m, s.b, mid[k], s.pb});
    }
    say("pts: round " + std::to_string(round) + ": " + std::to_string(probes.size()) + " prefixes probed, " +
        std::to_string(pivots.size()) + " pivots so far");
  }

  return pivots;
}

// The pivots' records: steering vector = layer `layer`'s output at the last context token; the
// vectors clustered and the clusters named by size.
std::vector<SteeringRecord> pivot_records(Qwen2Model& net, const data::Tokenizer& tok, const std::vector<PtsQuery>& queries,
                                          const std::vector<Pivot>& pivots, int64_t layer, int64_t clusters) {
  std::vector<SteeringRecord> out;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> vectors;
  for (const auto& p : pivots) {
    const auto& q = queries[p.query];
    std::vector<int64_t> context = q.prompt;
    context.insert(context.end(), q.chain.begin(), q.chain.begin() + p.index);
    ResidualHooks hooks;
    hooks.capture = {layer};
    net.forward_hidden(torch::tensor(context, torch::kLong).unsqueeze(0).to(net.device()), &hooks);
    auto v = hooks.captured.at(0)[0][-1].to(torch::kFloat).cpu().contiguous();
    vectors.push_back(v);
    SteeringRecord r;
    r.pivot_context = token_text(tok, context, context.size());
    r.pivot_token_id = q.chain[static_cast<size_t>(p.index)];
    r.pivot_token = tok.decode_token_bytes(static_cast<int>(r.pivot_token_id));
    r.prob_before = p.before;
    r.prob_after = p.after;
    r.prob_delta = p.after - p.before;
    r.is_positive = r.prob_delta > 0;
    r.steering_vector.assign(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
    r.steering_layer = layer;
    r.task_type = q.record->family;
    out.push_back(std::move(r));
  }
  // 4. Clusters, named by size.
  if (!vectors.empty()) {
    const auto assign = kmeans(torch::stack(vectors), clusters);
    std::map<int64_t, int64_t> sizes;
    for (auto c : assign) ++sizes[c];
    std::vector<int64_t> order;
    for (auto& [c, n] : sizes) order.push_back(c);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return sizes[a] > sizes[b]; });
    for (size_t i = 0; i < out.size(); ++i) {
      const auto rank = std::find(order.begin(), order.end(), assign[i]) - order.begin();
      out[i].cluster_id = rank;
      out[i].reasoning_pattern = reasoning_patterns()[static_cast<size_t>(rank) % reasoning_patterns().size()];
    }
  }
  return out;
}

}  // namespace

std::vector<SteeringRecord> pivotal_token_search(Engine& engine, const data::Tokenizer& tok,
                                                 const std::vector<data::SynthRecord>& records,
                                                 const data::VerifierRegistry& verifiers, const PtsOptions& o,
                                                 PtsReport* report, const std::function<void(const std::string&)>& progress) {
  if (o.samples < 2 || o.probe_samples < 2) throw Error("PTS needs at least 2 samples per query and per probe", "pts");
  if (!(o.min_success < o.max_success)) throw Error("min_success must be below max_success", "pts");
  auto& net = engine.model();
  const int64_t layer = o.layer < 0 ? net.config().num_hidden_layers / 2 : o.layer;
  if (layer >= net.config().num_hidden_layers)
    throw Error("layer " + std::to_string(layer) + " does not exist", "--layer");
  PtsReport local;
  PtsReport& rep = report ? *report : local;
  rep = PtsReport{};
  auto say = [&](const std::string& s) {
    if (progress) progress(s);
  };

  // 1. Success rate of every query (forced thinking, sampled) and one chain each.
  std::vector<PtsQuery> queries;
  for (const auto& r : records) {
    PtsQuery q;
    q.record = &r;
    q.verifier = &verifiers.for_family(r.family);
    format::Conversation conv;
    conv.messages.push_back(format::plain_message("user", r.question));
    auto ids = tok.encode(format::render_prompt(conv, format::PromptMode::on));
    q.prompt.assign(ids.begin(), ids.end());
    q.prefill = format::prompt_prefill(format::PromptMode::on);
    queries.push_back(std::move(q));
  }
  std::vector<Probe> first;
  for (size_t i = 0; i < queries.size(); ++i) first.push_back({i, 0});
  std::vector<SequenceResult> results;
  const auto rates = success_rates(engine, tok, queries, first, o.samples, o, 0, &results);
  std::vector<size_t> kept;
  for (size_t i = 0; i < queries.size(); ++i) {
    queries[i].success = rates[i];
    rep.success.push_back(rates[i]);
    rep.mean_success += rates[i] / static_cast<double>(queries.size());
    if (rates[i] < o.min_success || rates[i] > o.max_success) continue;
    if (static_cast<int64_t>(kept.size()) >= o.max_queries) continue;
    // Bisect the first sampled chain (any sample would do; the first keeps it reproducible).
    const auto& chain = results[i * o.samples];
    queries[i].chain = chain.tokens;
    if (!queries[i].chain.empty() && chain.finish_reason == "stop") queries[i].chain.pop_back();
    queries[i].chain_correct = correct(queries[i], chain.text);
    kept.push_back(i);
  }
  rep.queries = static_cast<int64_t>(queries.size());
  rep.kept = static_cast<int64_t>(kept.size());
  rep.probes = rep.queries;
  say("pts: " + std::to_string(rep.kept) + " of " + std::to_string(rep.queries) + " queries have success in [" +
      std::to_string(o.min_success) + ", " + std::to_string(o.max_success) + "] (mean success " +
      std::to_string(rep.mean_success) + ")");

  const auto pivots = bisect(engine, tok, queries, kept, o, rep, say);
  auto out = pivot_records(net, tok, queries, pivots, layer, o.clusters);
  rep.pivots = static_cast<int64_t>(out.size());
  for (const auto& r : out) rep.positive += r.is_positive;
  return out;
}

}  // namespace autothink::model
