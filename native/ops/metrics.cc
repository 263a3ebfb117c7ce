// Evaluation metrics that need linear algebra (the Fréchet distance's matrix square root), run by LibTorch in float64.
#include "binding/exports.h"

#include "binding/args.h"
#include "binding/async_worker.h"
#include "binding/errors.h"
#include "binding/tensor_bridge.h"

namespace torchmotion {
namespace {

// Σ^½ of a symmetric positive semi-definite matrix (tiny negative eigenvalues of rounding set to 0).
torch::Tensor SqrtPsd(const torch::Tensor& s) {
  auto [values, vectors] = torch::linalg::eigh(s, "L");
  return torch::matmul(vectors * values.clamp_min(0).sqrt().unsqueeze(0), vectors.transpose(0, 1));
}

// ‖μa − μb‖² + tr(Σa + Σb − 2(ΣaΣb)^½) between the Gaussian fits of two sets of embeddings (rows). tr((ΣaΣb)^½) is
// computed as tr((Σa^½ Σb Σa^½)^½): the same eigenvalues, but of a symmetric matrix, so eigh applies and no complex
// square root appears (scipy.linalg.sqrtm of the product may return tiny imaginary parts that callers drop).
double Frechet(const torch::Tensor& a, const torch::Tensor& b) {
  torch::Tensor mu_a = a.mean(0), mu_b = b.mean(0);
  torch::Tensor ca = a - mu_a, cb = b - mu_b;
  torch::Tensor sa = torch::matmul(ca.transpose(0, 1), ca) / static_cast<double>(a.size(0) - 1);  // numpy.cov: N − 1
  torch::Tensor sb = torch::matmul(cb.transpose(0, 1), cb) / static_cast<double>(b.size(0) - 1);
  torch::Tensor root = SqrtPsd(sa);
  torch::Tensor inner = torch::matmul(torch::matmul(root, sb), root);
  inner = (inner + inner.transpose(0, 1)) / 2;  // symmetric up to rounding; eigh reads one triangle
  torch::Tensor trace_sqrt = torch::linalg::eigvalsh(inner, "L").clamp_min(0).sqrt().sum();
  return ((mu_a - mu_b).pow(2).sum() + sa.trace() + sb.trace() - 2 * trace_sqrt).item<double>();
}

// fid(a (N, D) float64, b (M, D) float64) → Promise<number>; N, M ≥ 2.
Napi::Value Fid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto opts = OptionsArg(info, 2, "fid");
    auto a = BorrowTensor(info[0], Spec("a", torch::kFloat64, {-1, -1}, {"N", "D"}));
    auto b = BorrowTensor(info[1], Spec("b", torch::kFloat64, {-1, a.tensor.size(1)}, {"M", ""}));
    if (a.tensor.size(0) < 2 || b.tensor.size(0) < 2) {
      throw Napi::RangeError::New(env, "fid: each set needs at least 2 embeddings for a covariance");
    }
    torch::Tensor ta = a.tensor, tb = b.tensor;
    std::vector<Napi::Reference<Napi::Value>> keep;
    keep.push_back(std::move(a.keep));
    keep.push_back(std::move(b.keep));
    return TorchWorker::Start(
        env, ThreadOption(opts, false),
        [ta, tb]() -> ToJs {
          const double d = Frechet(ta, tb);
          return [d](Napi::Env e) -> Napi::Value { return Napi::Number::New(e, d); };
        },
        std::move(keep));
  });
}

}  // namespace

void RegisterMetrics(Napi::Env env, Napi::Object exports) { exports.Set("fid", Napi::Function::New(env, Fid, "fid")); }

}  // namespace torchmotion
