// All of keel's Keras optimizers and their registry.
//
//   #include "keel/keras/optimizers.h"
//   auto opt = keel::keras::optimizer_from_name("adam");
#pragma once

#include "keel/keras/optimizers/adagrad.h"
#include "keel/keras/optimizers/adam.h"
#include "keel/keras/optimizers/optimizer.h"
#include "keel/keras/optimizers/rmsprop.h"
#include "keel/keras/optimizers/sgd.h"
