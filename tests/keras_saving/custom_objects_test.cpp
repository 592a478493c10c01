// Users' own layer, loss and metric classes round-trip through save + load_model, in both formats.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "keel/graph/error.h"
#include "keel/keras/layers/backend.h"
#include "keel/keras/layers/layers.h"
#include "keel/keras/layers/registry.h"
#include "keel/keras/saving/h5/keras_h5.h"
#include "keel/keras/saving/save_model.h"
#include "keel/keras/sequential.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/reduce.h"
#include "../keras_h5/h5_test_util.h"
#include "reference.h"

namespace keel::keras {
namespace {

using test::ScratchDir;

// y = x * gain + offset, with a trainable per-feature gain and a configured offset; counts its calls as
// non-tensor state (which save/load_model carry: KEEL_STATE in checkpoints, /keel_state in .h5).
class AffineGain : public LayerImpl<AffineGain> {
 public:
  explicit AffineGain(double offset, const LayerArgs& args = {})
      : LayerImpl<AffineGain>("AffineGain", args), offset_(offset) {}
  static std::shared_ptr<Layer> from_config(const Json& c) {
    return std::make_shared<AffineGain>(c.at("offset").get<double>(), layer_args_from_config(c));
  }
  Json get_config() const override {
    Json c = Layer::get_config();
    c["offset"] = offset_;
    return c;
  }
  void build(const Shape& input_shape) override {
    gain_ = add_weight("gain", {input_shape.back()}, "ones");
  }
  Tensor call(const Tensor& x, bool) override {
    ++calls_;
    return ops::add(ops::mul(x, gain_.value()), offset_);
  }
  Shape compute_output_shape(const Shape& s) const override { return s; }
  bool has_state() const override { return true; }
  std::string save_state() const override { return "calls=" + std::to_string(calls_); }
  void restore_state(const std::string& bytes) override {
    KEEL_CHECK(bytes.rfind("calls=", 0) == 0, "AffineGain: bad state '", bytes, "'");
    calls_ = std::stoll(bytes.substr(6));
  }
  int64_t calls() const { return calls_; }

 private:
  double offset_;
  int64_t calls_ = 0;
  Variable gain_;
};

// Half the mean squared error, scaled by a configured factor.
class ScaledHalfSquare : public Loss {
 public:
  explicit ScaledHalfSquare(double scale) : Loss(LossOptions(), "scaled_half_square"), scale_(scale) {}
  static std::shared_ptr<Loss> from_config(const nlohmann::json& c) {
    return std::make_shared<ScaledHalfSquare>(c.value("scale", 1.0));
  }
  Tensor call(const Tensor& y_true, const Tensor& y_pred) const override {
    return ops::mul(ops::mean(ops::square(ops::sub(y_pred, y_true)), {-1}), 0.5 * scale_);
  }
  std::string class_name() const override { return "ScaledHalfSquare"; }
  nlohmann::json get_config() const override {
    nlohmann::json c = Loss::get_config();
    c["scale"] = scale_;
    return c;
  }
  double scale() const { return scale_; }

 private:
  double scale_;
};

// The fraction of predictions within `tolerance` of the target.
class WithinTolerance : public MeanMetricWrapper {
 public:
  explicit WithinTolerance(double tolerance, std::string name = "within_tolerance")
      : MeanMetricWrapper(std::move(name)), tolerance_(tolerance) {}
  static std::shared_ptr<MeanMetricWrapper> from_config(const nlohmann::json& c) {
    return std::make_shared<WithinTolerance>(c.at("tolerance").get<double>(), c.at("name").get<std::string>());
  }
  std::string class_name() const override { return "WithinTolerance"; }
  std::string fn_name() const override { return "within_tolerance"; }
  nlohmann::json get_config() const override {
    nlohmann::json c = MeanMetricWrapper::get_config();
    c["tolerance"] = tolerance_;
    return c;
  }
  double tolerance() const { return tolerance_; }

 protected:
  void values(const Tensor& y_true, const Tensor& y_pred, std::vector<double>& out) const override {
    const Tensor t = y_true.to(DType::f32), p = y_pred.to(DType::f32);
    for (int64_t i = 0; i < p.numel(); ++i) {
      out.push_back(std::abs(t.data<float>()[i] - p.data<float>()[i]) <= tolerance_ ? 1.0 : 0.0);
    }
  }

 private:
  double tolerance_;
};

void register_custom_classes() {
  register_layer<AffineGain>("AffineGain");
  register_loss("ScaledHalfSquare", [](const nlohmann::json& c) { return ScaledHalfSquare::from_config(c); });
  register_metric("WithinTolerance", [](const nlohmann::json& c) { return WithinTolerance::from_config(c); });
}

Tensor batch(std::vector<int64_t> shape) {
  const auto r = test::test_input(shape);
  return Tensor::from_vector<float>(std::vector<float>(r.v.begin(), r.v.end()), Shape(shape.begin(), shape.end()));
}

TEST(KerasCustomObjects, CustomLayerLossAndMetricRoundTripInBothFormats) {
  register_custom_classes();
  backend::NameScope names;
  auto model = std::make_shared<Sequential>(std::vector<LayerArg>{
      layers::Dense(DenseOptions(4).activation("tanh").input_shape({6})), AffineGain(0.25), layers::Dense(2)});
  model->compile(CompileOptions()
                     .optimizer("sgd")
                     .loss(std::make_shared<ScaledHalfSquare>(3.0))
                     .metric(std::make_shared<WithinTolerance>(0.5, "close")));
  const Tensor x = batch({8, 6});
  const Tensor y = batch({8, 2});
  model->train_on_batch(x, y);
  model->train_on_batch(x, y);
  // The trained gain moved away from its initial ones.
  EXPECT_FALSE(model->get_layer("affine_gain")->get_weights()[0].equal(Tensor::ones({4})));

  ScratchDir dir;
  for (const std::string name : {"custom.h5", "custom_dir"}) {
    SCOPED_TRACE(name);
    const std::string path = dir.path(name);
    model->save(path);
    std::shared_ptr<Model> loaded;
    {
      backend::NameScope inner;
      loaded = load_model(path);
    }
    EXPECT_EQ(loaded->to_json(), model->to_json());
    auto layer = loaded->get_layer("affine_gain");
    EXPECT_EQ(layer->class_name(), "AffineGain");
    EXPECT_EQ(layer->get_config()["offset"], 0.25);
    EXPECT_TRUE(layer->get_weights()[0].equal(model->get_layer("affine_gain")->get_weights()[0]));
    EXPECT_EQ(std::dynamic_pointer_cast<AffineGain>(layer)->calls(),
              std::dynamic_pointer_cast<AffineGain>(model->get_layer("affine_gain"))->calls());
    EXPECT_TRUE((*loaded)(x).equal((*model)(x)));
    ASSERT_TRUE(loaded->compiled());
    const auto* loss = dynamic_cast<const ScaledHalfSquare*>(loaded->compile_options()->loss().get());
    ASSERT_NE(loss, nullptr);
    EXPECT_EQ(loss->scale(), 3.0);
    ASSERT_EQ(loaded->metrics().size(), 2u);
    const auto* metric = dynamic_cast<const WithinTolerance*>(loaded->metrics()[1].get());
    ASSERT_NE(metric, nullptr);
    EXPECT_EQ(metric->name(), "close");
    EXPECT_EQ(metric->tolerance(), 0.5);
    EXPECT_EQ(loaded->optimizer()->class_name(), "SGD");
    EXPECT_EQ(loaded->optimizer()->iterations_value(), 2);
    // Both continue the same way.
    const Logs a = model->test_on_batch(x, y), b = loaded->test_on_batch(x, y);
    EXPECT_EQ(a.at("loss"), b.at("loss"));
    EXPECT_EQ(a.at("close"), b.at("close"));
  }
}

TEST(KerasCustomObjects, UnregisteredCustomClassesAreNamedOnLoad) {
  register_custom_classes();
  backend::NameScope names;
  Sequential model({layers::Dense(DenseOptions(3).input_shape({2}))});
  model.compile(CompileOptions().optimizer("adam").loss(std::make_shared<ScaledHalfSquare>(1.0)));
  ScratchDir dir;
  model.save(dir.path("m.h5"));
  KerasH5File f = read_keras_h5(dir.path("m.h5"));
  auto tc = nlohmann::json::parse(*f.training_config);
  tc["loss"]["class_name"] = "NotRegisteredLoss";
  f.training_config = tc.dump();
  write_keras_h5_model(dir.path("m.h5"), f);
  try {
    load_model(dir.path("m.h5"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot compile from the training_config of " + dir.path("m.h5")), std::string::npos) << what;
    EXPECT_NE(what.find("'NotRegisteredLoss'"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace keel::keras
