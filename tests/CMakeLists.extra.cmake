# Extra wiring for particular test areas (included by tests/CMakeLists.txt).

# Checkpoint tests: Boost.Serialization for state.h, and the crash-test child process.
if(TARGET keel_test_checkpoint)
  target_link_libraries(keel_test_checkpoint PRIVATE Boost::serialization)
  add_executable(keel_ckpt_crash_child ${CMAKE_CURRENT_SOURCE_DIR}/support/ckpt_crash_child.cpp)
  target_link_libraries(keel_ckpt_crash_child PRIVATE keel)
  target_compile_options(keel_ckpt_crash_child PRIVATE ${KEEL_WARNINGS})
  add_dependencies(keel_test_checkpoint keel_ckpt_crash_child)
  target_compile_definitions(keel_test_checkpoint PRIVATE
                             KEEL_CRASH_CHILD="$<TARGET_FILE:keel_ckpt_crash_child>")
endif()

# keras_layers reads model_config attributes of the Keras .h5 fixtures with the HDF5 C API.
if(TARGET keel_test_keras_layers)
  target_include_directories(keel_test_keras_layers PRIVATE ${HDF5_C_INCLUDE_DIRS})
  target_link_libraries(keel_test_keras_layers PRIVATE ${HDF5_C_LIBRARIES})
endif()

# keras_tutorials runs the example programs of the "Save and load models" tutorial flows: only in builds
# with examples (not the sanitizer build); without KEEL_EXAMPLES_DIR the area has no tests.
set(KEEL_TUTORIAL_EXAMPLES tutorial_checkpoint_callback tutorial_checkpoint_every_n tutorial_save_weights
    tutorial_save_model sequence_lstm)
if(TARGET keel_test_keras_tutorials AND TARGET keel-example-sequence_lstm)
  foreach(example ${KEEL_TUTORIAL_EXAMPLES})
    add_dependencies(keel_test_keras_tutorials keel-example-${example})
  endforeach()
  target_compile_definitions(keel_test_keras_tutorials PRIVATE
                             KEEL_EXAMPLES_DIR="$<TARGET_FILE_DIR:keel-example-sequence_lstm>")
endif()
